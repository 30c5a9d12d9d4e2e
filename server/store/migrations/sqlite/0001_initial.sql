-- deliverd schema, version 1 (SQLite). Times are microseconds since the Unix
-- epoch, UTC. Every tenant-owned row carries tenant_id.
CREATE TABLE tenants (
  id INTEGER PRIMARY KEY,
  name TEXT NOT NULL UNIQUE,
  create_time INTEGER NOT NULL
);

-- API keys are stored as SHA-256 hashes only; prefix tells keys apart.
CREATE TABLE api_keys (
  id INTEGER PRIMARY KEY,
  tenant_id INTEGER NOT NULL REFERENCES tenants(id),
  key_hash BLOB NOT NULL UNIQUE,
  prefix TEXT NOT NULL,
  label TEXT NOT NULL DEFAULT '',
  create_time INTEGER NOT NULL,
  revoke_time INTEGER
);

CREATE TABLE messages (
  row_id INTEGER PRIMARY KEY,
  id TEXT NOT NULL UNIQUE,
  tenant_id INTEGER NOT NULL REFERENCES tenants(id),
  status INTEGER NOT NULL,
  from_address TEXT NOT NULL,
  from_name TEXT NOT NULL DEFAULT '',
  subject TEXT NOT NULL DEFAULT '',
  tags TEXT NOT NULL DEFAULT '',
  metadata BLOB NOT NULL DEFAULT x'',
  stream TEXT NOT NULL DEFAULT '',
  create_time INTEGER NOT NULL,
  update_time INTEGER NOT NULL,
  -- NULL when no attempt is due (every final status).
  next_attempt_time INTEGER,
  attempt_count INTEGER NOT NULL DEFAULT 0,
  lease_owner TEXT,
  lease_until INTEGER,
  resend_of TEXT NOT NULL DEFAULT '',
  rfc822_message_id TEXT NOT NULL DEFAULT '',
  size_bytes INTEGER NOT NULL DEFAULT 0,
  request_id TEXT NOT NULL DEFAULT '',
  content BLOB NOT NULL
);
CREATE INDEX messages_log ON messages(tenant_id, create_time DESC, row_id DESC);
CREATE INDEX messages_sender ON messages(tenant_id, from_address COLLATE NOCASE);
CREATE INDEX messages_due ON messages(next_attempt_time)
  WHERE next_attempt_time IS NOT NULL;

CREATE TABLE message_recipients (
  message_row INTEGER NOT NULL REFERENCES messages(row_id),
  position INTEGER NOT NULL,
  tenant_id INTEGER NOT NULL,
  address TEXT NOT NULL,
  kind INTEGER NOT NULL,
  status INTEGER NOT NULL,
  detail TEXT NOT NULL DEFAULT '',
  reply_code INTEGER NOT NULL DEFAULT 0,
  reply_enhanced TEXT NOT NULL DEFAULT '',
  reply_text TEXT NOT NULL DEFAULT '',
  reply_host TEXT NOT NULL DEFAULT '',
  -- 1 when a caller sent to this recipient despite a suppression (a resend
  -- override, recorded with its reason in the message's history).
  suppression_override INTEGER NOT NULL DEFAULT 0,
  PRIMARY KEY (message_row, position)
) WITHOUT ROWID;
CREATE INDEX recipients_address
  ON message_recipients(tenant_id, address COLLATE NOCASE);

CREATE TABLE message_tags (
  tenant_id INTEGER NOT NULL,
  tag TEXT NOT NULL,
  message_row INTEGER NOT NULL,
  PRIMARY KEY (tenant_id, tag, message_row)
) WITHOUT ROWID;

-- The append-only history; read in id order it is the WatchEvents stream.
CREATE TABLE events (
  -- Never deleted, so plain rowids already increase; AUTOINCREMENT would
  -- add a write per event.
  id INTEGER PRIMARY KEY,
  tenant_id INTEGER NOT NULL,
  message_id TEXT NOT NULL,
  type INTEGER NOT NULL,
  time INTEGER NOT NULL,
  recipient TEXT NOT NULL DEFAULT '',
  source TEXT NOT NULL DEFAULT '',
  detail TEXT NOT NULL DEFAULT '',
  reply_code INTEGER NOT NULL DEFAULT 0,
  reply_enhanced TEXT NOT NULL DEFAULT '',
  reply_text TEXT NOT NULL DEFAULT '',
  reply_host TEXT NOT NULL DEFAULT '',
  tags TEXT NOT NULL DEFAULT ''
);
CREATE INDEX events_stream ON events(tenant_id, id);
CREATE INDEX events_message ON events(message_id, id);

-- Addresses are stored lower-cased: suppressing John@ must also stop john@.
CREATE TABLE suppressions (
  tenant_id INTEGER NOT NULL,
  address TEXT NOT NULL,
  scope TEXT NOT NULL DEFAULT '',
  reason INTEGER NOT NULL,
  create_time INTEGER NOT NULL,
  expire_time INTEGER,
  source_message TEXT NOT NULL DEFAULT '',
  evidence TEXT NOT NULL DEFAULT '',
  PRIMARY KEY (tenant_id, address, scope)
) WITHOUT ROWID;

-- Who added and removed suppressions, and why.
CREATE TABLE suppression_log (
  id INTEGER PRIMARY KEY,
  tenant_id INTEGER NOT NULL,
  address TEXT NOT NULL,
  scope TEXT NOT NULL,
  action TEXT NOT NULL,
  reason INTEGER NOT NULL,
  note TEXT NOT NULL DEFAULT '',
  time INTEGER NOT NULL
);

CREATE TABLE subscriptions (
  tenant_id INTEGER NOT NULL,
  address TEXT NOT NULL,
  list TEXT NOT NULL,
  state INTEGER NOT NULL,
  create_time INTEGER NOT NULL,
  update_time INTEGER NOT NULL,
  source TEXT NOT NULL DEFAULT '',
  metadata BLOB NOT NULL DEFAULT x'',
  PRIMARY KEY (tenant_id, address, list)
) WITHOUT ROWID;

CREATE TABLE idempotency (
  tenant_id INTEGER NOT NULL,
  request_id TEXT NOT NULL,
  request_hash BLOB NOT NULL,
  message_id TEXT NOT NULL,
  create_time INTEGER NOT NULL,
  PRIMARY KEY (tenant_id, request_id)
) WITHOUT ROWID;
CREATE INDEX idempotency_age ON idempotency(create_time);
