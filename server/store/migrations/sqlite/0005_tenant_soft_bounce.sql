-- Per-tenant soft-bounce policy (hygiene/policy): 0 means the default.
ALTER TABLE tenants ADD COLUMN soft_bounce_half_life_s INTEGER NOT NULL DEFAULT 0;
ALTER TABLE tenants ADD COLUMN soft_bounce_threshold REAL NOT NULL DEFAULT 0;
ALTER TABLE tenants ADD COLUMN soft_bounce_suppress_s INTEGER NOT NULL DEFAULT 0;
