-- Alerts (server/alerts): the same tables as SQLite migration 6. Each
-- tenant's channels and rules, the record of alerts sent, and the time
-- windows (cooldowns) shared by every replica.

-- spec is opaque to the store (the API layer's encoding); type is the
-- API's AlertChannelType.
CREATE TABLE IF NOT EXISTS alert_channels (
  tenant_id BIGINT NOT NULL,
  name VARCHAR(255) NOT NULL,
  type INT NOT NULL,
  spec MEDIUMBLOB NOT NULL,
  create_time DATETIME(6) NOT NULL,
  PRIMARY KEY (tenant_id, name)
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_bin;

-- channels: the names of the tenant's channels the rule sends to, joined
-- with ',' (names never contain one). kind is the API's AlertKind.
CREATE TABLE IF NOT EXISTS alert_rules (
  tenant_id BIGINT NOT NULL,
  id VARCHAR(64) NOT NULL,
  kind INT NOT NULL,
  channels MEDIUMTEXT NOT NULL,
  spec MEDIUMBLOB NOT NULL,
  create_time DATETIME(6) NOT NULL,
  PRIMARY KEY (tenant_id, id)
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_bin;

-- One alert as sent to one channel, newest first by id. rule_id is '' for
-- a test alert; record is opaque.
CREATE TABLE IF NOT EXISTS alert_records (
  id BIGINT NOT NULL AUTO_INCREMENT PRIMARY KEY,
  tenant_id BIGINT NOT NULL,
  kind INT NOT NULL,
  channel VARCHAR(255) NOT NULL,
  rule_id VARCHAR(64) NOT NULL DEFAULT '',
  accepted TINYINT NOT NULL DEFAULT 0,
  create_time DATETIME(6) NOT NULL,
  record MEDIUMBLOB NOT NULL,
  KEY alert_records_log (tenant_id, id),
  KEY alert_records_channel (tenant_id, channel, id),
  KEY alert_records_kind (tenant_id, kind, id)
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_bin;

-- A named window per tenant that one claimant at a time holds until
-- end_time (NULL: ended, never claimed), with a note its holder keeps.
-- Claims lock the row, so replicas take turns.
CREATE TABLE IF NOT EXISTS alert_windows (
  tenant_id BIGINT NOT NULL,
  window_key VARCHAR(255) NOT NULL,
  end_time DATETIME(6) NULL,
  note MEDIUMTEXT NOT NULL,
  PRIMARY KEY (tenant_id, window_key)
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_bin;

-- Each tenant's queued (1) and waiting (3) messages in age order (the
-- queue-age alert), without scanning the messages already sent. MySQL has
-- no ADD INDEX IF NOT EXISTS (MariaDB has), so the statement is chosen
-- from information_schema to stay idempotent.
SET @deliverd_ddl = (SELECT IF(COUNT(*) = 0,
  'ALTER TABLE messages ADD INDEX messages_unsent (status, tenant_id, create_time, row_id)',
  'DO 0')
  FROM information_schema.statistics WHERE table_schema = DATABASE()
  AND table_name = 'messages' AND index_name = 'messages_unsent');
PREPARE deliverd_ddl FROM @deliverd_ddl;
EXECUTE deliverd_ddl;
DEALLOCATE PREPARE deliverd_ddl;
