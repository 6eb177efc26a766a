-- Media worker registry for least-loaded originate (voxflow.PickMediaWorker):
-- each SIP media worker upserts its row every few seconds; a row not seen
-- recently belongs to a dead worker. live_calls is -1 for a worker that is
-- draining or closed. seen_at is Unix microseconds (UTC) in both dialects.
-- IF NOT EXISTS keeps the migration safe to re-run.

CREATE TABLE IF NOT EXISTS media_workers (
    id         TEXT PRIMARY KEY,
    queue      TEXT NOT NULL,
    live_calls INTEGER NOT NULL,
    seen_at    BIGINT NOT NULL
);

CREATE INDEX IF NOT EXISTS media_workers_seen ON media_workers (seen_at);
