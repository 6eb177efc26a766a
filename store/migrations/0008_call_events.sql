-- Things people did to a live call besides the flow: a supervisor
-- listening, whispering or barging in (and later operators' resets). The
-- call's timeline shows them between its nodes. at is Unix microseconds
-- (UTC) in both dialects.

CREATE TABLE IF NOT EXISTS call_events (
    call_id TEXT NOT NULL,
    at      BIGINT NOT NULL,
    actor   TEXT NOT NULL,
    action  TEXT NOT NULL,
    detail  TEXT NOT NULL DEFAULT ''
);

CREATE INDEX IF NOT EXISTS call_events_call ON call_events (call_id, at);
