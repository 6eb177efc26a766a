-- Designer API authentication (package designerapi): users with hashed
-- passwords, API keys stored as SHA-256 of the secret, and browser sessions
-- stored as SHA-256 of the cookie token. Times are Unix microseconds (UTC) in
-- both dialects. IF NOT EXISTS keeps the migration safe to re-run on a
-- database whose schema_migrations row was lost.

CREATE TABLE IF NOT EXISTS api_users (
    username      TEXT PRIMARY KEY,
    password_hash TEXT NOT NULL,
    role          TEXT NOT NULL,
    created_at    BIGINT NOT NULL,
    updated_at    BIGINT NOT NULL
);

CREATE TABLE IF NOT EXISTS api_keys (
    id           TEXT PRIMARY KEY,
    name         TEXT NOT NULL,
    hash         TEXT NOT NULL UNIQUE,
    prefix       TEXT NOT NULL,
    role         TEXT NOT NULL,
    created_by   TEXT NOT NULL,
    created_at   BIGINT NOT NULL,
    last_used_at BIGINT NOT NULL DEFAULT 0
);

CREATE TABLE IF NOT EXISTS api_sessions (
    hash       TEXT PRIMARY KEY,
    username   TEXT NOT NULL REFERENCES api_users (username) ON DELETE CASCADE,
    created_at BIGINT NOT NULL,
    expires_at BIGINT NOT NULL
);

CREATE INDEX IF NOT EXISTS api_sessions_user ON api_sessions (username);
CREATE INDEX IF NOT EXISTS api_sessions_expires ON api_sessions (expires_at);
