-- messages_log was declared (tenant_id, create_time DESC, row_id DESC), so
-- every new message went into its first leaf page rather than its last.
-- SQLite splits a page in the middle unless the insert is at the end, so
-- that leaf kept splitting: three pages of this one index were written to
-- the WAL per commit of a group of Sends. In ascending order new messages
-- append, and SQLite reads the index backwards for ListMessages' newest
-- first (no sort; a migration test checks the plan). Rebuilding it reads
-- the messages table once.
DROP INDEX IF EXISTS messages_log;
CREATE INDEX messages_log ON messages(tenant_id, create_time, row_id);
