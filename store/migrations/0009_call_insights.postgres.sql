-- Post-call insights and voice transcripts in the call record, and call
-- events a retried activity may add twice.
--
-- cdrs.insights is the JSON of records.Insights (NULL: no summary asked
-- for, or not made yet); cdrs.transcript the JSON array of
-- records.ChatLine a voice call's intent and llm nodes said and heard
-- (NULL: none). A web chat's transcript stays in chat_transcripts.
-- SearchCDRs filters on the insights' disposition and sentiment label
-- with ->>, without an index: like the queue filter, the test costs a
-- scan in the started_at order the search reads anyway.
ALTER TABLE cdrs ADD COLUMN IF NOT EXISTS insights JSONB;
ALTER TABLE cdrs ADD COLUMN IF NOT EXISTS transcript JSONB;

-- An event is kept once per (call, time, actor, action): the engine's
-- alerts carry the workflow's time, so a retried voxflow.CallAlert adds
-- nothing. Exact duplicates written before go first (there should be
-- none: people's events carry the clock's microseconds).
DELETE FROM call_events a USING call_events b
    WHERE a.ctid > b.ctid AND a.call_id = b.call_id AND a.at = b.at AND a.actor = b.actor AND a.action = b.action;
CREATE UNIQUE INDEX IF NOT EXISTS call_events_once ON call_events (call_id, at, actor, action);

-- The board's alerts: recent events of one action, every call.
CREATE INDEX IF NOT EXISTS call_events_action ON call_events (action, at);
