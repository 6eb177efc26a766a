-- Web chat transcripts, one row per call: the chat's messages as the JSON
-- array of records.ChatLine (TEXT in both dialects). A table of its own
-- rather than a cdrs column: the chat channel saves the transcript when
-- the chat ends while the engine saves the CDR from the workflow's state,
-- in either order and for every run of the call, so neither write may
-- overwrite the other. store.CDR merges it into the record it returns.
-- saved_at is Unix microseconds (UTC).

CREATE TABLE IF NOT EXISTS chat_transcripts (
    call_id  TEXT PRIMARY KEY,
    lines    TEXT NOT NULL,
    saved_at BIGINT NOT NULL
);
