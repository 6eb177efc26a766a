package store

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/voxflow/voxflow/activities/records"
)

// maxAttemptList bounds ListAttempts.
const maxAttemptList = 1000

func checkAttempt(a records.DialAttempt) error {
	switch {
	case !trimmedName(a.Campaign):
		return fmt.Errorf("%w: campaign %q must be non-empty without surrounding spaces", ErrInvalid, a.Campaign)
	case a.Contact < 1:
		return fmt.Errorf("%w: contact %d must be positive", ErrInvalid, a.Contact)
	case a.Attempt < 1:
		return fmt.Errorf("%w: attempt %d must be positive", ErrInvalid, a.Attempt)
	case a.Connect < 0 || a.Talk < 0:
		return fmt.Errorf("%w: connect %v and talk %v must not be negative", ErrInvalid, a.Connect, a.Talk)
	}
	return nil
}

const attemptCols = `campaign, contact, attempt, call_id, number, started_at, ended_at, outcome, answered_by, agent,
	connect_ns, talk_ns, disposition`

func attemptArgs(a records.DialAttempt) []any {
	return []any{a.Campaign, a.Contact, a.Attempt, a.CallID, a.Number, micros(a.StartedAt), micros(a.EndedAt), a.Outcome,
		a.AnsweredBy, a.Agent, int64(a.Connect), int64(a.Talk), a.Disposition}
}

const attemptValues = `(?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`

// StartAttempt records attempt a.Attempt of contact a.Contact as it is
// dialled (a zero StartedAt is now). (Campaign, Contact, Attempt) names
// one attempt: when it is recorded already (a retried activity) nothing is
// written and created is false. The campaign need not exist any more.
func (s *Store) StartAttempt(ctx context.Context, a records.DialAttempt) (created bool, err error) {
	if err := checkAttempt(a); err != nil {
		return false, fmt.Errorf("start attempt: %w", err)
	}
	if a.StartedAt.IsZero() {
		a.StartedAt = s.nowUTC()
	}
	res, err := s.db.ExecContext(ctx, s.rebind(`INSERT INTO campaign_attempts (`+attemptCols+`) VALUES `+attemptValues+`
		ON CONFLICT (campaign, contact, attempt) DO NOTHING`), attemptArgs(a)...)
	if err == nil {
		var n int64
		n, err = res.RowsAffected()
		created = n == 1
	}
	if err != nil {
		return false, fmt.Errorf("start attempt %d of contact %d of campaign %q: %w", a.Attempt, a.Contact, a.Campaign, err)
	}
	return created, nil
}

// checkFinish validates FinishAttempt's arguments.
func checkFinish(a records.DialAttempt, c records.Contact) error {
	if err := checkAttempt(a); err != nil {
		return err
	}
	switch {
	case a.Outcome == "":
		return fmt.Errorf("%w: the attempt has no outcome", ErrInvalid)
	case c.Campaign != "" && c.Campaign != a.Campaign, c.ID != 0 && c.ID != a.Contact:
		return fmt.Errorf("%w: contact %d of campaign %q is not the attempt's", ErrInvalid, c.ID, c.Campaign)
	}
	switch c.State {
	case records.ContactPending, records.ContactDone, records.ContactSkipped, records.ContactDialing:
		return nil
	}
	return fmt.Errorf("%w: contact state %q after an attempt must be %s, %s, %s or %s", ErrInvalid, c.State,
		records.ContactPending, records.ContactDone, records.ContactSkipped, records.ContactDialing)
}

// FinishAttempt records the end of attempt a (a zero EndedAt is now): its
// EndedAt, Outcome (required), AnsweredBy, Agent, Connect, Talk and
// Disposition; an attempt StartAttempt did not record is recorded whole.
// In the same transaction it sets the contact's State (pending, done or
// skipped), NextAt, LastOutcome, LastAt, Outcomes and SkipReason to c's,
// and clears its Agent and claim; c's other fields are ignored. A c in
// state dialing (the contact as read, when it has moved on) records the
// attempt alone.
//
// It is idempotent. The contact is updated only while its Attempts are
// a.Attempt: a late retry of an earlier attempt's finish changes the
// attempt alone, as does a finish after the contact was deleted with its
// campaign.
func (s *Store) FinishAttempt(ctx context.Context, a records.DialAttempt, c records.Contact) error {
	if err := checkFinish(a, c); err != nil {
		return fmt.Errorf("finish attempt %d of contact %d of campaign %q: %w", a.Attempt, a.Contact, a.Campaign, err)
	}
	if a.EndedAt.IsZero() {
		a.EndedAt = s.nowUTC()
	}
	outcomes, err := jsonOrNil(c.Outcomes, len(c.Outcomes) == 0)
	if err != nil {
		return fmt.Errorf("finish attempt %d of contact %d of campaign %q: outcomes: %w", a.Attempt, a.Contact, a.Campaign, err)
	}
	err = s.inTx(ctx, func(tx *sql.Tx) error {
		_, err := tx.ExecContext(ctx, s.rebind(`INSERT INTO campaign_attempts (`+attemptCols+`) VALUES `+attemptValues+`
			ON CONFLICT (campaign, contact, attempt) DO UPDATE SET ended_at = excluded.ended_at, outcome = excluded.outcome,
				answered_by = excluded.answered_by, agent = excluded.agent, connect_ns = excluded.connect_ns,
				talk_ns = excluded.talk_ns, disposition = excluded.disposition`), attemptArgs(a)...)
		if err != nil || c.State == records.ContactDialing {
			return err
		}
		_, err = tx.ExecContext(ctx, s.rebind(`UPDATE campaign_contacts SET state = ?, next_at = ?, last_outcome = ?,
			last_at = ?, outcomes = ?, skip_reason = ?, agent = '', claim_id = NULL
			WHERE campaign = ? AND id = ? AND attempts = ?`),
			c.State, micros(c.NextAt), c.LastOutcome, micros(c.LastAt), outcomes, c.SkipReason, a.Campaign, a.Contact, a.Attempt)
		return err
	})
	if err != nil {
		return fmt.Errorf("finish attempt %d of contact %d of campaign %q: %w", a.Attempt, a.Contact, a.Campaign, err)
	}
	return nil
}

func scanAttempt(row rowScanner) (records.DialAttempt, error) {
	var (
		a              records.DialAttempt
		started, ended int64
		connect, talk  int64
	)
	err := row.Scan(&a.Campaign, &a.Contact, &a.Attempt, &a.CallID, &a.Number, &started, &ended, &a.Outcome,
		&a.AnsweredBy, &a.Agent, &connect, &talk, &a.Disposition)
	if err != nil {
		return records.DialAttempt{}, err
	}
	a.StartedAt, a.EndedAt = fromMicros(started), fromMicros(ended)
	a.Connect, a.Talk = time.Duration(connect), time.Duration(talk)
	return a, nil
}

// ListAttempts lists the attempts of contact of campaign, newest first;
// contact 0 lists the campaign's latest 1000 (by StartedAt). Attempts
// outlive their campaign.
func (s *Store) ListAttempts(ctx context.Context, campaign string, contact int64) ([]records.DialAttempt, error) {
	q, args := `SELECT `+attemptCols+` FROM campaign_attempts WHERE campaign = ? AND contact = ? ORDER BY attempt DESC LIMIT ?`,
		[]any{campaign, contact, maxAttemptList}
	if contact == 0 {
		q, args = `SELECT `+attemptCols+` FROM campaign_attempts WHERE campaign = ?
			ORDER BY started_at DESC, contact DESC, attempt DESC LIMIT ?`, []any{campaign, maxAttemptList}
	}
	rows, err := s.db.QueryContext(ctx, s.rebind(q), args...)
	if err != nil {
		return nil, fmt.Errorf("list attempts of campaign %q: %w", campaign, err)
	}
	out, err := collect(rows, scanAttempt)
	if err != nil {
		return nil, fmt.Errorf("list attempts of campaign %q: %w", campaign, err)
	}
	return out, nil
}

// GetAttempt returns one attempt, or ErrNotFound.
func (s *Store) GetAttempt(ctx context.Context, campaign string, contact int64, attempt int) (records.DialAttempt, error) {
	a, err := scanAttempt(s.db.QueryRowContext(ctx, s.rebind(`SELECT `+attemptCols+` FROM campaign_attempts
		WHERE campaign = ? AND contact = ? AND attempt = ?`), campaign, contact, attempt))
	if errors.Is(err, sql.ErrNoRows) {
		err = ErrNotFound
	}
	if err != nil {
		return records.DialAttempt{}, fmt.Errorf("attempt %d of contact %d of campaign %q: %w", attempt, contact, campaign, err)
	}
	return a, nil
}

// CampaignTally counts the attempts of campaign that ended at or after
// since (those with an outcome): Dials all of them; Human live answers,
// abandoned ones included; Failed failures and invalid numbers; Talk the
// sum of their talk times. It reads only campaign_attempts_ended.
func (s *Store) CampaignTally(ctx context.Context, campaign string, since time.Time) (records.CampaignTally, error) {
	var (
		cols []string
		args []any
	)
	count := func(outcomes ...string) {
		in := strings.TrimSuffix(strings.Repeat("?, ", len(outcomes)), ", ")
		cols = append(cols, `CAST(COALESCE(SUM(CASE WHEN outcome IN (`+in+`) THEN 1 ELSE 0 END), 0) AS BIGINT)`)
		for _, o := range outcomes {
			args = append(args, o)
		}
	}
	count(records.AttemptHuman, records.AttemptAbandoned)
	count(records.AttemptMachine)
	count(records.AttemptBusy)
	count(records.AttemptNoAnswer)
	count(records.AttemptFailed, records.AttemptInvalid)
	count(records.AttemptAbandoned)
	var (
		t    records.CampaignTally
		talk int64
	)
	err := s.db.QueryRowContext(ctx, s.rebind(`SELECT COUNT(*), `+strings.Join(cols, ", ")+`,
		CAST(COALESCE(SUM(talk_ns), 0) AS BIGINT)
		FROM campaign_attempts WHERE campaign = ? AND ended_at >= ? AND outcome <> ''`),
		append(args, campaign, max(micros(since), 1))...,
	).Scan(&t.Dials, &t.Human, &t.Machine, &t.Busy, &t.NoAnswer, &t.Failed, &t.Abandoned, &talk)
	if err != nil {
		return records.CampaignTally{}, fmt.Errorf("tally campaign %q since %s: %w", campaign, since.UTC().Format(time.RFC3339), err)
	}
	t.Talk = time.Duration(talk)
	return t, nil
}
