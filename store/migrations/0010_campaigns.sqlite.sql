-- Outbound campaigns (package dialer): campaigns, their contact lists,
-- the dial attempts made, do-not-call lists, and the campaign tag of a
-- campaign call's CDR. Times are Unix microseconds (UTC), 0 for none;
-- durations are nanoseconds; JSON is TEXT.

-- config is the JSON of records.Campaign's settings; id, name, state and
-- the times are columns.
CREATE TABLE IF NOT EXISTS campaigns (
    id         TEXT PRIMARY KEY,
    name       TEXT NOT NULL,
    state      TEXT NOT NULL,
    config     TEXT NOT NULL,
    created_at BIGINT NOT NULL,
    updated_at BIGINT NOT NULL
);

-- Contact ids are global and never reused (AUTOINCREMENT), so a call ID
-- made of (campaign, contact, attempt) names one dial for ever. A number
-- is in a campaign's list once. claim_id is the ClaimContacts call that
-- holds a dialing contact (NULL otherwise).
CREATE TABLE IF NOT EXISTS campaign_contacts (
    id           INTEGER PRIMARY KEY AUTOINCREMENT,
    campaign     TEXT NOT NULL REFERENCES campaigns (id),
    row_num      INTEGER NOT NULL DEFAULT 0,
    number       TEXT NOT NULL,
    timezone     TEXT NOT NULL DEFAULT '',
    vars         TEXT,
    state        TEXT NOT NULL,
    attempts     INTEGER NOT NULL DEFAULT 0,
    next_at      BIGINT NOT NULL DEFAULT 0,
    last_outcome TEXT NOT NULL DEFAULT '',
    last_at      BIGINT NOT NULL DEFAULT 0,
    outcomes     TEXT,
    skip_reason  TEXT NOT NULL DEFAULT '',
    agent        TEXT NOT NULL DEFAULT '',
    claim_id     TEXT,
    UNIQUE (campaign, number)
);

-- ClaimContacts and NextDue: the due pending contacts in (next_at, id)
-- order, read from the front; done and skipped contacts leave the index.
CREATE INDEX IF NOT EXISTS campaign_contacts_due ON campaign_contacts (campaign, next_at, id)
    WHERE state = 'pending';
-- ClaimContacts retried with the same claim id.
CREATE INDEX IF NOT EXISTS campaign_contacts_claim ON campaign_contacts (campaign, claim_id)
    WHERE claim_id IS NOT NULL;
-- ListContacts, of every state and of one, and ContactCounts.
CREATE INDEX IF NOT EXISTS campaign_contacts_list ON campaign_contacts (campaign, id);
CREATE INDEX IF NOT EXISTS campaign_contacts_state ON campaign_contacts (campaign, state, id);

-- Attempts are history: they stay when their campaign is deleted.
CREATE TABLE IF NOT EXISTS campaign_attempts (
    campaign    TEXT NOT NULL,
    contact     BIGINT NOT NULL,
    attempt     INTEGER NOT NULL,
    call_id     TEXT NOT NULL,
    number      TEXT NOT NULL,
    started_at  BIGINT NOT NULL,
    ended_at    BIGINT NOT NULL DEFAULT 0,
    outcome     TEXT NOT NULL DEFAULT '',
    answered_by TEXT NOT NULL DEFAULT '',
    agent       TEXT NOT NULL DEFAULT '',
    connect_ns  BIGINT NOT NULL DEFAULT 0,
    talk_ns     BIGINT NOT NULL DEFAULT 0,
    disposition TEXT NOT NULL DEFAULT '',
    PRIMARY KEY (campaign, contact, attempt)
);

-- CampaignTally reads only this index; ListAttempts newest first.
CREATE INDEX IF NOT EXISTS campaign_attempts_ended ON campaign_attempts (campaign, ended_at, outcome, talk_ns);
CREATE INDEX IF NOT EXISTS campaign_attempts_started ON campaign_attempts (campaign, started_at, contact, attempt);

-- Do-not-call lists: campaign '' is the global list. CheckDNC looks a
-- number up by the primary key's prefix; ListDNC pages a list by number.
CREATE TABLE IF NOT EXISTS dnc (
    number   TEXT NOT NULL,
    campaign TEXT NOT NULL DEFAULT '',
    reason   TEXT NOT NULL DEFAULT '',
    added_at BIGINT NOT NULL,
    PRIMARY KEY (number, campaign)
);
CREATE INDEX IF NOT EXISTS dnc_campaign ON dnc (campaign, number);

-- The campaign tag of a CDR: campaign_call is the JSON of
-- records.CampaignCall, campaign its campaign (both NULL for other calls),
-- indexed for SearchCDRs' campaign filter in its started_at order.
ALTER TABLE cdrs ADD COLUMN campaign TEXT;
ALTER TABLE cdrs ADD COLUMN campaign_call TEXT;
CREATE INDEX IF NOT EXISTS cdrs_campaign_started ON cdrs (campaign, started_at, call_id, run_id)
    WHERE campaign IS NOT NULL;
