-- Flows, their immutable published versions, number bindings and CDRs.

CREATE TABLE flows (
    name             TEXT PRIMARY KEY,
    created_at       TIMESTAMPTZ NOT NULL,
    updated_at       TIMESTAMPTZ NOT NULL,
    latest_version   INTEGER NOT NULL DEFAULT 0,
    -- the draft: NULL source = no draft. draft_revision never goes back, so
    -- an ETag is never reused, even after a delete.
    draft_source     TEXT,
    draft_checksum   TEXT,
    draft_revision   INTEGER NOT NULL DEFAULT 0,
    draft_updated_at TIMESTAMPTZ
);

CREATE TABLE flow_versions (
    flow         TEXT NOT NULL REFERENCES flows (name),
    version      INTEGER NOT NULL CHECK (version > 0),
    source       TEXT NOT NULL,
    checksum     TEXT NOT NULL,
    published_at TIMESTAMPTZ NOT NULL,
    published_by TEXT NOT NULL,
    note         TEXT NOT NULL,
    rollback_of  INTEGER NOT NULL DEFAULT 0,
    PRIMARY KEY (flow, version)
);

CREATE TABLE numbers (
    number     TEXT PRIMARY KEY,
    flow       TEXT NOT NULL REFERENCES flows (name),
    updated_at TIMESTAMPTZ NOT NULL
);

CREATE TABLE cdrs (
    call_id      TEXT NOT NULL,
    run_id       TEXT NOT NULL,
    workflow_id  TEXT NOT NULL,
    flow         TEXT NOT NULL,
    flow_version INTEGER NOT NULL,
    from_number  TEXT NOT NULL,
    to_number    TEXT NOT NULL,
    channel      TEXT NOT NULL,
    started_at   TIMESTAMPTZ NOT NULL,
    ended_at     TIMESTAMPTZ NOT NULL,
    duration_ns  BIGINT NOT NULL,
    outcome      TEXT NOT NULL,
    path         JSONB NOT NULL,
    vars         JSONB,
    recordings   JSONB,
    saved_at     TIMESTAMPTZ NOT NULL,
    PRIMARY KEY (call_id, run_id)
);
