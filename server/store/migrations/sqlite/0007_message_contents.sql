-- A message's content (several kilobytes, spilling into overflow pages)
-- goes into its own table. The queue updates a message row two or three
-- times per delivery (lease, outcome), and SQLite rewrites a changed record
-- whole, overflow pages included, so every delivery wrote its content to
-- the WAL again twice. New messages store an empty messages.content; rows
-- written before this migration keep theirs there and are read from it
-- (moving them would rewrite the whole table in one transaction, and
-- SQLite would not give the space back without a VACUUM).
CREATE TABLE message_contents (
  message_row INTEGER PRIMARY KEY REFERENCES messages(row_id),
  content BLOB NOT NULL
);
