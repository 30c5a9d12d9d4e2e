-- Event ids in commit order. A transaction that appends events takes its
-- ids from this one row just before it commits and holds the row's lock
-- until the commit, so ids increase in commit order across every replica: a
-- watcher that has read up to id N never sees a smaller id appear later
-- (AUTO_INCREMENT ids are handed out at insert time, so concurrent
-- transactions could commit them out of order).
CREATE TABLE IF NOT EXISTS event_sequence (
  id TINYINT NOT NULL PRIMARY KEY,
  last_id BIGINT NOT NULL
) ENGINE=InnoDB;

INSERT IGNORE INTO event_sequence (id, last_id)
  SELECT 1, COALESCE(MAX(id), 0) FROM events;
