-- Alerts (server/alerts): each tenant's channels and rules, the record of
-- alerts sent, and the time windows (cooldowns) shared by every replica.

-- A channel's settings are `spec`, opaque to the store (the API layer's
-- encoding); type is the API's AlertChannelType.
CREATE TABLE alert_channels (
  tenant_id INTEGER NOT NULL,
  name TEXT NOT NULL,
  type INTEGER NOT NULL,
  spec BLOB NOT NULL DEFAULT x'',
  create_time INTEGER NOT NULL,
  PRIMARY KEY (tenant_id, name)
) WITHOUT ROWID;

-- channels: the names of the tenant's channels the rule sends to, joined
-- with ',' (names never contain one). kind is the API's AlertKind.
CREATE TABLE alert_rules (
  tenant_id INTEGER NOT NULL,
  id TEXT NOT NULL,
  kind INTEGER NOT NULL,
  channels TEXT NOT NULL DEFAULT '',
  spec BLOB NOT NULL DEFAULT x'',
  create_time INTEGER NOT NULL,
  PRIMARY KEY (tenant_id, id)
) WITHOUT ROWID;

-- One alert as sent to one channel, newest first by id. rule_id is '' for
-- a test alert; record is opaque (the API layer's encoding).
CREATE TABLE alert_records (
  id INTEGER PRIMARY KEY AUTOINCREMENT,
  tenant_id INTEGER NOT NULL,
  kind INTEGER NOT NULL,
  channel TEXT NOT NULL,
  rule_id TEXT NOT NULL DEFAULT '',
  accepted INTEGER NOT NULL DEFAULT 0,
  create_time INTEGER NOT NULL,
  record BLOB NOT NULL DEFAULT x''
);
CREATE INDEX alert_records_log ON alert_records (tenant_id, id);
CREATE INDEX alert_records_channel ON alert_records (tenant_id, channel, id);
CREATE INDEX alert_records_kind ON alert_records (tenant_id, kind, id);

-- A named window per tenant that one claimant at a time holds until
-- end_time (NULL: ended, never claimed), with a note its holder keeps.
CREATE TABLE alert_windows (
  tenant_id INTEGER NOT NULL,
  window_key TEXT NOT NULL,
  end_time INTEGER,
  note TEXT NOT NULL DEFAULT '',
  PRIMARY KEY (tenant_id, window_key)
) WITHOUT ROWID;

-- Each tenant's queued and waiting messages in age order (the queue-age
-- alert), without scanning the messages already sent. The queries repeat
-- the condition "status IN (1, 3)" word for word, so SQLite uses it.
CREATE INDEX messages_unsent ON messages (tenant_id, create_time, row_id)
  WHERE status IN (1, 3);
