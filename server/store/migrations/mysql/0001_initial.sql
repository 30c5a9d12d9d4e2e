-- deliverd schema, version 1 (MySQL/MariaDB, InnoDB). The same data as the
-- SQLite schema's migrations 1-5 (with 0002). Times are DATETIME(6) in UTC (every
-- session sets time_zone '+00:00'); text is utf8mb4 with binary collation.
-- Columns named *_key hold an ASCII-lower-cased copy of an address for
-- case-insensitive lookups through an index.
-- Statements end with ';' at the end of a line; each is idempotent so a
-- migration interrupted half-way (DDL commits on its own) can run again.

CREATE TABLE IF NOT EXISTS tenants (
  id BIGINT NOT NULL AUTO_INCREMENT PRIMARY KEY,
  name VARCHAR(255) NOT NULL,
  create_time DATETIME(6) NOT NULL,
  require_domain_auth TINYINT NOT NULL DEFAULT 0,
  dkim_selectors VARCHAR(1024) NOT NULL DEFAULT '',
  soft_bounce_half_life_s BIGINT NOT NULL DEFAULT 0,
  soft_bounce_threshold DOUBLE NOT NULL DEFAULT 0,
  soft_bounce_suppress_s BIGINT NOT NULL DEFAULT 0,
  UNIQUE KEY tenants_name (name)
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_bin;

-- API keys are stored as SHA-256 hashes only; prefix tells keys apart.
CREATE TABLE IF NOT EXISTS api_keys (
  id BIGINT NOT NULL AUTO_INCREMENT PRIMARY KEY,
  tenant_id BIGINT NOT NULL,
  key_hash VARBINARY(64) NOT NULL,
  prefix VARCHAR(64) NOT NULL,
  label VARCHAR(255) NOT NULL DEFAULT '',
  create_time DATETIME(6) NOT NULL,
  revoke_time DATETIME(6) NULL,
  UNIQUE KEY api_keys_hash (key_hash),
  KEY api_keys_tenant (tenant_id)
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_bin;

-- lease_owner/lease_until: the replica delivering the message, until when.
-- next_attempt_time NULL: no attempt is due (every final status).
-- due_time: when a claim may next take the message, the later of
-- next_attempt_time and lease_until (NULL with next_attempt_time). Claims
-- walk its index, so rows leased to other replicas are never scanned past.
CREATE TABLE IF NOT EXISTS messages (
  row_id BIGINT NOT NULL AUTO_INCREMENT PRIMARY KEY,
  id VARCHAR(64) NOT NULL,
  tenant_id BIGINT NOT NULL,
  status INT NOT NULL,
  from_address VARCHAR(320) NOT NULL,
  from_key VARCHAR(320) NOT NULL,
  from_name VARCHAR(320) NOT NULL DEFAULT '',
  subject MEDIUMTEXT NOT NULL,
  tags MEDIUMTEXT NOT NULL,
  metadata MEDIUMBLOB NOT NULL,
  stream VARCHAR(255) NOT NULL DEFAULT '',
  create_time DATETIME(6) NOT NULL,
  update_time DATETIME(6) NOT NULL,
  next_attempt_time DATETIME(6) NULL,
  attempt_count INT NOT NULL DEFAULT 0,
  lease_owner VARCHAR(255) NULL,
  lease_until DATETIME(6) NULL,
  due_time DATETIME(6) NULL,
  resend_of VARCHAR(64) NOT NULL DEFAULT '',
  rfc822_message_id VARCHAR(998) NOT NULL DEFAULT '',
  size_bytes BIGINT NOT NULL DEFAULT 0,
  request_id VARCHAR(255) NOT NULL DEFAULT '',
  content LONGBLOB NOT NULL,
  UNIQUE KEY messages_id (id),
  KEY messages_log (tenant_id, create_time, row_id),
  KEY messages_sender (tenant_id, from_key),
  KEY messages_due (due_time)
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_bin;

CREATE TABLE IF NOT EXISTS message_recipients (
  message_row BIGINT NOT NULL,
  position INT NOT NULL,
  tenant_id BIGINT NOT NULL,
  address VARCHAR(320) NOT NULL,
  address_key VARCHAR(320) NOT NULL,
  kind INT NOT NULL,
  status INT NOT NULL,
  detail MEDIUMTEXT NOT NULL,
  reply_code INT NOT NULL DEFAULT 0,
  reply_enhanced VARCHAR(32) NOT NULL DEFAULT '',
  reply_text MEDIUMTEXT NOT NULL,
  reply_host VARCHAR(255) NOT NULL DEFAULT '',
  -- 1 when a caller sent to this recipient despite a suppression.
  suppression_override TINYINT NOT NULL DEFAULT 0,
  PRIMARY KEY (message_row, position),
  KEY recipients_address (tenant_id, address_key)
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_bin;

CREATE TABLE IF NOT EXISTS message_tags (
  tenant_id BIGINT NOT NULL,
  tag VARCHAR(255) NOT NULL,
  message_row BIGINT NOT NULL,
  PRIMARY KEY (tenant_id, tag, message_row)
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_bin;

-- The append-only history; read in id order it is the WatchEvents stream.
-- Ids come from event_sequence (migration 2), not AUTO_INCREMENT.
CREATE TABLE IF NOT EXISTS events (
  id BIGINT NOT NULL PRIMARY KEY,
  tenant_id BIGINT NOT NULL,
  message_id VARCHAR(64) NOT NULL,
  type INT NOT NULL,
  time DATETIME(6) NOT NULL,
  recipient VARCHAR(320) NOT NULL DEFAULT '',
  source VARCHAR(255) NOT NULL DEFAULT '',
  detail MEDIUMTEXT NOT NULL,
  reply_code INT NOT NULL DEFAULT 0,
  reply_enhanced VARCHAR(32) NOT NULL DEFAULT '',
  reply_text MEDIUMTEXT NOT NULL,
  reply_host VARCHAR(255) NOT NULL DEFAULT '',
  tags MEDIUMTEXT NOT NULL,
  KEY events_stream (tenant_id, id),
  KEY events_message (message_id, id)
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_bin;

-- Addresses are stored lower-cased: suppressing John@ must also stop john@.
CREATE TABLE IF NOT EXISTS suppressions (
  tenant_id BIGINT NOT NULL,
  address VARCHAR(320) NOT NULL,
  scope VARCHAR(255) NOT NULL DEFAULT '',
  reason INT NOT NULL,
  create_time DATETIME(6) NOT NULL,
  expire_time DATETIME(6) NULL,
  source_message VARCHAR(64) NOT NULL DEFAULT '',
  evidence MEDIUMTEXT NOT NULL,
  PRIMARY KEY (tenant_id, address, scope)
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_bin;

-- Who added and removed suppressions, and why.
CREATE TABLE IF NOT EXISTS suppression_log (
  id BIGINT NOT NULL AUTO_INCREMENT PRIMARY KEY,
  tenant_id BIGINT NOT NULL,
  address VARCHAR(320) NOT NULL,
  scope VARCHAR(255) NOT NULL,
  action VARCHAR(32) NOT NULL,
  reason INT NOT NULL,
  note MEDIUMTEXT NOT NULL,
  time DATETIME(6) NOT NULL,
  KEY suppression_log_address (tenant_id, address)
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_bin;

CREATE TABLE IF NOT EXISTS subscriptions (
  tenant_id BIGINT NOT NULL,
  address VARCHAR(320) NOT NULL,
  list VARCHAR(255) NOT NULL,
  state INT NOT NULL,
  create_time DATETIME(6) NOT NULL,
  update_time DATETIME(6) NOT NULL,
  source VARCHAR(255) NOT NULL DEFAULT '',
  metadata MEDIUMBLOB NOT NULL,
  PRIMARY KEY (tenant_id, address, list)
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_bin;

CREATE TABLE IF NOT EXISTS idempotency (
  tenant_id BIGINT NOT NULL,
  request_id VARCHAR(255) NOT NULL,
  request_hash VARBINARY(64) NOT NULL,
  message_id VARCHAR(64) NOT NULL,
  create_time DATETIME(6) NOT NULL,
  PRIMARY KEY (tenant_id, request_id),
  KEY idempotency_age (create_time)
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_bin;

-- Each piece of feedback applied, by fingerprint: the same bounce or
-- provider event ingested twice changes nothing the second time.
CREATE TABLE IF NOT EXISTS feedback_applied (
  tenant_id BIGINT NOT NULL,
  fingerprint VARCHAR(255) NOT NULL,
  message_id VARCHAR(64) NOT NULL DEFAULT '',
  time DATETIME(6) NOT NULL,
  PRIMARY KEY (tenant_id, fingerprint)
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_bin;

-- The decaying soft-bounce score of an address (hygiene/policy), as of
-- `updated`.
CREATE TABLE IF NOT EXISTS soft_bounce_scores (
  tenant_id BIGINT NOT NULL,
  address VARCHAR(320) NOT NULL,
  score DOUBLE NOT NULL,
  updated DATETIME(6) NOT NULL,
  PRIMARY KEY (tenant_id, address)
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_bin;

-- Scheduled list-cleaning jobs and their runs; leased like messages so two
-- replicas never run one job at once.
CREATE TABLE IF NOT EXISTS cleaning_jobs (
  tenant_id BIGINT NOT NULL,
  id VARCHAR(64) NOT NULL,
  display_name VARCHAR(255) NOT NULL DEFAULT '',
  source MEDIUMTEXT NOT NULL,
  destination MEDIUMTEXT NOT NULL,
  schedule VARCHAR(255) NOT NULL DEFAULT '',
  offline TINYINT NOT NULL DEFAULT 0,
  remove_risky TINYINT NOT NULL DEFAULT 0,
  stream VARCHAR(255) NOT NULL DEFAULT '',
  on_undeliverable INT NOT NULL DEFAULT 0,
  on_risky INT NOT NULL DEFAULT 0,
  create_time DATETIME(6) NOT NULL,
  next_run_time DATETIME(6) NULL,
  consecutive_failures INT NOT NULL DEFAULT 0,
  lease_owner VARCHAR(255) NULL,
  lease_until DATETIME(6) NULL,
  PRIMARY KEY (tenant_id, id),
  KEY cleaning_jobs_due (next_run_time)
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_bin;

-- state: RUNNING (1), SUCCEEDED (2), FAILED (3). Summary maps are
-- "key=count" lines.
CREATE TABLE IF NOT EXISTS cleaning_job_runs (
  id BIGINT NOT NULL AUTO_INCREMENT PRIMARY KEY,
  tenant_id BIGINT NOT NULL,
  job_id VARCHAR(64) NOT NULL,
  state INT NOT NULL,
  start_time DATETIME(6) NOT NULL,
  end_time DATETIME(6) NULL,
  rows_total BIGINT NOT NULL DEFAULT 0,
  kept BIGINT NOT NULL DEFAULT 0,
  removed BIGINT NOT NULL DEFAULT 0,
  duplicates BIGINT NOT NULL DEFAULT 0,
  by_verdict MEDIUMTEXT NOT NULL,
  removed_by_reason MEDIUMTEXT NOT NULL,
  suppressed_added BIGINT NOT NULL DEFAULT 0,
  flagged BIGINT NOT NULL DEFAULT 0,
  error MEDIUMTEXT NOT NULL,
  KEY cleaning_job_runs_job (tenant_id, job_id, id)
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_bin;
