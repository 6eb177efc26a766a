-- SIP agents registering to voxflow (package media/registrar): accounts with
-- digest credentials stored as HA1 = md5(username:realm:password), never the
-- password, and the registrar's location service: one row per binding of an
-- agent (address-of-record user) to a contact URI, with where the REGISTER
-- came from (source host:port and transport, for agents behind NAT) and the
-- media worker that took it. A binding whose expires_at has passed is dead:
-- readers ignore it and the registrar purges it. enabled is 1 or 0. Times
-- are Unix microseconds (UTC) in both dialects. IF NOT EXISTS keeps the
-- migration safe to re-run.

CREATE TABLE IF NOT EXISTS sip_accounts (
    username     TEXT PRIMARY KEY,
    realm        TEXT NOT NULL,
    ha1          TEXT NOT NULL,
    display_name TEXT NOT NULL DEFAULT '',
    enabled      INTEGER NOT NULL DEFAULT 1,
    created_at   BIGINT NOT NULL
);

CREATE TABLE IF NOT EXISTS sip_registrations (
    username   TEXT NOT NULL REFERENCES sip_accounts (username) ON DELETE CASCADE,
    contact    TEXT NOT NULL,
    source     TEXT NOT NULL,
    transport  TEXT NOT NULL,
    call_id    TEXT NOT NULL,
    cseq       BIGINT NOT NULL,
    user_agent TEXT NOT NULL DEFAULT '',
    worker_id  TEXT NOT NULL,
    expires_at BIGINT NOT NULL,
    updated_at BIGINT NOT NULL,
    PRIMARY KEY (username, contact)
);

CREATE INDEX IF NOT EXISTS sip_registrations_expires ON sip_registrations (expires_at);
