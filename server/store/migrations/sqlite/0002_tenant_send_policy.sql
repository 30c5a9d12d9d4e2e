-- Per-tenant send policy: refuse sends whose From domain fails sender
-- authentication (SPF, DMARC, and DKIM for the listed selectors).
ALTER TABLE tenants ADD COLUMN require_domain_auth INTEGER NOT NULL DEFAULT 0;
-- Comma-separated DKIM selectors checked when require_domain_auth is set.
ALTER TABLE tenants ADD COLUMN dkim_selectors TEXT NOT NULL DEFAULT '';
