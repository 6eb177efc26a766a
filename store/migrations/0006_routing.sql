-- Queue-based routing: the queue stays of each call in its CDR, agents'
-- routing profiles, queue definitions and scheduled callbacks. Times in the
-- new tables are Unix microseconds (UTC) in both dialects; JSON is TEXT.
--
-- cdrs.queues is the JSON array of records.QueueStay (NULL: the call never
-- queued). SQLite has no ADD COLUMN IF NOT EXISTS; like every migration
-- this one runs in one transaction with its schema_migrations row, so it
-- never runs twice. The CREATEs use IF NOT EXISTS as the others do.

ALTER TABLE cdrs ADD COLUMN queues TEXT;

-- One routing profile per SIP agent: skills (JSON object name -> level
-- 1..10), the queues the agent serves (JSON array of names) and how many
-- calls the agent takes at once.
CREATE TABLE IF NOT EXISTS agent_profiles (
    username   TEXT PRIMARY KEY REFERENCES sip_accounts (username) ON DELETE CASCADE,
    skills     TEXT NOT NULL,
    queues     TEXT NOT NULL,
    capacity   INTEGER NOT NULL DEFAULT 1,
    updated_at BIGINT NOT NULL
);

-- Queues by name; config is the JSON of everything else (store.Queue).
CREATE TABLE IF NOT EXISTS queues (
    name       TEXT PRIMARY KEY,
    config     TEXT NOT NULL,
    created_at BIGINT,
    updated_at BIGINT
);

-- Callbacks callers asked for: written by the callback workflow at each
-- change of state; the scheduler reads them by state and due time.
CREATE TABLE IF NOT EXISTS callbacks (
    id         TEXT PRIMARY KEY,
    queue      TEXT NOT NULL,
    number     TEXT NOT NULL,
    call_id    TEXT NOT NULL,
    due_at     BIGINT NOT NULL,
    timezone   TEXT NOT NULL DEFAULT '',
    state      TEXT NOT NULL,
    attempts   INTEGER NOT NULL DEFAULT 0,
    outcome    TEXT NOT NULL DEFAULT '',
    agent      TEXT NOT NULL DEFAULT '',
    created_at BIGINT NOT NULL,
    updated_at BIGINT NOT NULL
);

CREATE INDEX IF NOT EXISTS callbacks_state_due ON callbacks (state, due_at);
