-- Flows, their immutable published versions, number bindings and CDRs.
-- Times are TEXT in a fixed-width UTC layout (2006-01-02T15:04:05.000000Z),
-- so text order is time order.

CREATE TABLE flows (
    name             TEXT PRIMARY KEY,
    created_at       TEXT NOT NULL,
    updated_at       TEXT NOT NULL,
    latest_version   INTEGER NOT NULL DEFAULT 0,
    -- the draft: NULL source = no draft. draft_revision never goes back, so
    -- an ETag is never reused, even after a delete.
    draft_source     TEXT,
    draft_checksum   TEXT,
    draft_revision   INTEGER NOT NULL DEFAULT 0,
    draft_updated_at TEXT
);

CREATE TABLE flow_versions (
    flow         TEXT NOT NULL REFERENCES flows (name),
    version      INTEGER NOT NULL CHECK (version > 0),
    source       TEXT NOT NULL,
    checksum     TEXT NOT NULL,
    published_at TEXT NOT NULL,
    published_by TEXT NOT NULL,
    note         TEXT NOT NULL,
    rollback_of  INTEGER NOT NULL DEFAULT 0,
    PRIMARY KEY (flow, version)
);

CREATE TABLE numbers (
    number     TEXT PRIMARY KEY,
    flow       TEXT NOT NULL REFERENCES flows (name),
    updated_at TEXT NOT NULL
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
    started_at   TEXT NOT NULL,
    ended_at     TEXT NOT NULL,
    duration_ns  INTEGER NOT NULL,
    outcome      TEXT NOT NULL,
    path         TEXT NOT NULL,  -- JSON array of StepRecord
    vars         TEXT,           -- JSON object
    recordings   TEXT,           -- JSON array of strings
    saved_at     TEXT NOT NULL,
    PRIMARY KEY (call_id, run_id)
);
