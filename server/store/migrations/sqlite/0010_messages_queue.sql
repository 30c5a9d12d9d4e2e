-- One index for the unsent messages instead of two. messages_due
-- (next_attempt_time, for the dispatcher) and messages_unsent (tenant_id,
-- create_time, for the queue-age alert) held the same messages, since the
-- dispatcher keeps next_attempt_time set exactly while a message is QUEUED
-- or WAITING, and every new message went into both: an index is about a
-- fortieth of a Send's cost (bench/send_bench, callgrind). messages_queue
-- keeps the dispatcher's order and carries tenant_id, create_time and
-- status (SQLite reads the table for a column of the index's own condition
-- unless the index has it), so the alert reads it alone: it scanned every
-- unsent entry for its counts already, and now finds each tenant's oldest in
-- the same pass. The queries repeat "status IN (1, 3)" word for word, so
-- SQLite uses it.
DROP INDEX IF EXISTS messages_due;
DROP INDEX IF EXISTS messages_unsent;
CREATE INDEX messages_queue
  ON messages (next_attempt_time, tenant_id, create_time, status)
  WHERE status IN (1, 3);
