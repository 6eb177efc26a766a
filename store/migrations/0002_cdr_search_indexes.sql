-- Indexes for SearchCDRs: newest first, keyset-paginated on
-- (started_at, call_id, run_id), optionally filtered by one of flow, caller
-- or outcome; and for CDR(call_id) (covered by the primary key's prefix).

CREATE INDEX cdrs_started ON cdrs (started_at, call_id, run_id);
CREATE INDEX cdrs_flow_started ON cdrs (flow, started_at, call_id, run_id);
CREATE INDEX cdrs_from_started ON cdrs (from_number, started_at, call_id, run_id);
CREATE INDEX cdrs_outcome_started ON cdrs (outcome, started_at, call_id, run_id);
CREATE INDEX numbers_flow ON numbers (flow);
