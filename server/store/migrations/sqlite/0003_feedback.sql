-- Feedback ingestion (bounces, complaints, provider events).

-- Each piece of feedback applied, by fingerprint: the same bounce or
-- provider event ingested twice changes nothing the second time.
CREATE TABLE feedback_applied (
  tenant_id INTEGER NOT NULL,
  fingerprint TEXT NOT NULL,
  message_id TEXT NOT NULL DEFAULT '',
  time INTEGER NOT NULL,
  PRIMARY KEY (tenant_id, fingerprint)
) WITHOUT ROWID;

-- The decaying soft-bounce score of an address (hygiene/policy): its value
-- as of `updated`, so a new soft bounce decays it and adds its weight.
CREATE TABLE soft_bounce_scores (
  tenant_id INTEGER NOT NULL,
  address TEXT NOT NULL,
  score REAL NOT NULL,
  updated INTEGER NOT NULL,
  PRIMARY KEY (tenant_id, address)
) WITHOUT ROWID;
