-- API hardening (package designerapi): sign-in failure counters shared by
-- every API instance, and the audit log of operators' and admins' actions.
-- Times are Unix microseconds (UTC) in both dialects.

-- One row per counted key: "user:<name>" (unknown names too, so they look
-- alike) or "ip:<address>". failures counts wrong passwords since the last
-- lockout; lockouts counts lockouts since the last successful sign-in (the
-- next lockout lasts twice as long).
CREATE TABLE IF NOT EXISTS signin_limits (
    key          TEXT PRIMARY KEY,
    failures     INTEGER NOT NULL DEFAULT 0,
    lockouts     INTEGER NOT NULL DEFAULT 0,
    locked_until BIGINT NOT NULL DEFAULT 0,
    updated_at   BIGINT NOT NULL
);

CREATE INDEX IF NOT EXISTS signin_limits_updated ON signin_limits (updated_at);

-- One row per action. id is random (unique across instances); listing
-- orders by (at, id), newest first. details is a JSON object without
-- secrets.
CREATE TABLE IF NOT EXISTS audit_log (
    id      TEXT PRIMARY KEY,
    at      BIGINT NOT NULL,
    actor   TEXT NOT NULL,
    role    TEXT NOT NULL DEFAULT '',
    via     TEXT NOT NULL DEFAULT '',
    source  TEXT NOT NULL DEFAULT '',
    action  TEXT NOT NULL,
    target  TEXT NOT NULL DEFAULT '',
    details TEXT NOT NULL DEFAULT '{}'
);

CREATE INDEX IF NOT EXISTS audit_log_at ON audit_log (at, id);
CREATE INDEX IF NOT EXISTS audit_log_actor ON audit_log (actor, at);
CREATE INDEX IF NOT EXISTS audit_log_action ON audit_log (action, at);
