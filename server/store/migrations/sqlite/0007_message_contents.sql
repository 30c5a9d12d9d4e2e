-- A message's content (several kilobytes, spilling into overflow pages)
-- moves out of its row. The queue updates a message row two or three times
-- per delivery (lease, outcome), and SQLite rewrites a changed record whole,
-- overflow pages included, so every delivery wrote its content to the WAL
-- again twice. Kept apart, those updates touch one small record.
CREATE TABLE message_contents (
  message_row INTEGER PRIMARY KEY REFERENCES messages(row_id),
  content BLOB NOT NULL
);
INSERT INTO message_contents (message_row, content)
  SELECT row_id, content FROM messages;
ALTER TABLE messages DROP COLUMN content;
