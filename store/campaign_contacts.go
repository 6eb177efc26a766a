package store

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"regexp"
	"sort"
	"strings"
	"time"

	"github.com/voxflow/voxflow/activities/records"
)

// Contact list limits.
const (
	defaultContactPage = 100  // ListContacts without a limit
	maxContactPage     = 1000 // ListContacts at most
	maxClaim           = 1000 // ClaimContacts at most
	// contactInsertRows is the rows of one INSERT: 8 arguments each stay
	// far below both dialects' limits on a statement's arguments.
	contactInsertRows = 500
)

// e164 is an E.164 number: '+', a country code, at most 15 digits.
var e164 = regexp.MustCompile(`^\+[1-9][0-9]{1,14}$`)

// checkNewContact validates row i of AddContacts. A pending contact must
// have an E.164 number; a skipped one (an import's rejected row) a reason
// and any non-empty number text.
func checkNewContact(i int, c records.Contact) error {
	switch c.State {
	case "", records.ContactPending:
		if !e164.MatchString(c.Number) {
			return fmt.Errorf("contacts[%d] number %q: %w: must be E.164 (+ and up to 15 digits)", i, c.Number, ErrInvalid)
		}
	case records.ContactSkipped:
		if !trimmedName(c.Number) || !trimmedName(c.SkipReason) {
			return fmt.Errorf("contacts[%d] %q: %w: a skipped contact needs a number and a skip reason", i, c.Number, ErrInvalid)
		}
	default:
		return fmt.Errorf("contacts[%d] state %q: %w: new contacts are %s or %s", i, c.State, ErrInvalid,
			records.ContactPending, records.ContactSkipped)
	}
	return nil
}

// AddContacts appends cs to the list of campaign (ErrNotFound if there is
// no such campaign), in one transaction. The store numbers the contacts
// (Contact.ID: global, increasing in the order of cs, never reused) and
// ignores their ID, Attempts, LastOutcome, LastAt, Outcomes and Agent. A
// zero State is pending; a contact may also be added skipped, with its
// SkipReason. A number already in the list, or earlier in cs, is not
// added again: it counts as a duplicate. Callers send big lists in calls
// of about 1000 contacts.
func (s *Store) AddContacts(ctx context.Context, campaign string, cs []records.Contact) (added, duplicates int, err error) {
	args := make([][]any, len(cs))
	for i, c := range cs {
		if err := checkNewContact(i, c); err != nil {
			return 0, 0, fmt.Errorf("add contacts to campaign %q: %w", campaign, err)
		}
		vars, err := jsonOrNil(c.Vars, len(c.Vars) == 0)
		if err != nil {
			return 0, 0, fmt.Errorf("add contacts to campaign %q: contacts[%d] vars: %w", campaign, i, err)
		}
		state := c.State
		if state == "" {
			state = records.ContactPending
		}
		args[i] = []any{campaign, c.Row, c.Number, c.Timezone, vars, state, micros(c.NextAt), c.SkipReason}
	}
	err = s.inTx(ctx, func(tx *sql.Tx) error {
		added = 0 // a retried transaction counts again
		if err := s.campaignExists(ctx, tx, campaign); err != nil {
			return err
		}
		for start := 0; start < len(args); start += contactInsertRows {
			chunk := args[start:min(start+contactInsertRows, len(args))]
			n, err := s.insertContacts(ctx, tx, chunk)
			if err != nil {
				return err
			}
			added += n
		}
		return nil
	})
	if isForeignKeyViolation(err) { // the campaign was deleted meanwhile
		err = ErrNotFound
	}
	if err != nil {
		return 0, 0, fmt.Errorf("add contacts to campaign %q: %w", campaign, err)
	}
	return added, len(cs) - added, nil
}

// insertContacts inserts rows of AddContacts' arguments in one statement,
// skipping numbers the list has, and returns how many it added.
func (s *Store) insertContacts(ctx context.Context, tx *sql.Tx, rows [][]any) (int, error) {
	const tuple = "(?, ?, ?, ?, ?, ?, ?, ?)"
	var q strings.Builder
	q.WriteString(`INSERT INTO campaign_contacts (campaign, row_num, number, timezone, vars, state, next_at, skip_reason) VALUES `)
	flat := make([]any, 0, len(rows)*8)
	for i, r := range rows {
		if i > 0 {
			q.WriteString(", ")
		}
		q.WriteString(tuple)
		flat = append(flat, r...)
	}
	q.WriteString(` ON CONFLICT (campaign, number) DO NOTHING`)
	res, err := tx.ExecContext(ctx, s.rebind(q.String()), flat...)
	if err != nil {
		return 0, err
	}
	n, err := res.RowsAffected()
	return int(n), err
}

// campaignExists is nil when campaign exists, else ErrNotFound.
func (s *Store) campaignExists(ctx context.Context, q querier, campaign string) error {
	var n int
	if err := q.QueryRowContext(ctx, s.rebind(`SELECT COUNT(*) FROM campaigns WHERE id = ?`), campaign).Scan(&n); err != nil {
		return err
	}
	if n == 0 {
		return ErrNotFound
	}
	return nil
}

const contactCols = `id, campaign, row_num, number, timezone, vars, state, attempts, next_at, last_outcome, last_at,
	outcomes, skip_reason, agent`

func scanContact(row rowScanner) (records.Contact, error) {
	var (
		c              records.Contact
		vars, outcomes []byte
		nextAt, lastAt int64
	)
	err := row.Scan(&c.ID, &c.Campaign, &c.Row, &c.Number, &c.Timezone, jsonScan{&vars}, &c.State, &c.Attempts,
		&nextAt, &c.LastOutcome, &lastAt, jsonScan{&outcomes}, &c.SkipReason, &c.Agent)
	if err != nil {
		return records.Contact{}, err
	}
	c.NextAt, c.LastAt = fromMicros(nextAt), fromMicros(lastAt)
	if len(vars) > 0 {
		if err := json.Unmarshal(vars, &c.Vars); err != nil {
			return records.Contact{}, fmt.Errorf("contact %d vars: %w", c.ID, err)
		}
	}
	if len(outcomes) > 0 {
		if err := json.Unmarshal(outcomes, &c.Outcomes); err != nil {
			return records.Contact{}, fmt.Errorf("contact %d outcomes: %w", c.ID, err)
		}
	}
	return c, nil
}

// sortContacts orders contacts as ClaimContacts picks them.
func sortContacts(cs []records.Contact) {
	sort.Slice(cs, func(i, j int) bool {
		if !cs[i].NextAt.Equal(cs[j].NextAt) {
			return cs[i].NextAt.Before(cs[j].NextAt)
		}
		return cs[i].ID < cs[j].ID
	})
}

// ClaimContacts picks up to n (at most 1000) pending contacts of campaign
// that are due at now (a zero NextAt is always due; a zero now is the
// store's clock), soonest due first, then by ID: it sets them dialing,
// adds one to their Attempts, sets LastAt to now, Agent to agent and holds
// them under claimID, and returns them in that order. Claims of a campaign
// take turns, so two never pick the same contact.
//
// It is idempotent on claimID: when contacts are held under claimID (a
// retried activity calls again with the same id), it returns those and
// claims nothing. FinishAttempt and ReleaseContact end a contact's hold.
// ErrNotFound if there is no such campaign.
func (s *Store) ClaimContacts(ctx context.Context, campaign, claimID string, now time.Time, n int, agent string) ([]records.Contact, error) {
	switch {
	case !trimmedName(claimID):
		return nil, fmt.Errorf("claim contacts of campaign %q: %w: claim id %q must be non-empty without surrounding spaces",
			campaign, ErrInvalid, claimID)
	case n < 1:
		return nil, fmt.Errorf("claim contacts of campaign %q: %w: n %d must be positive", campaign, ErrInvalid, n)
	}
	n = min(n, maxClaim)
	if now.IsZero() {
		now = s.nowUTC()
	}
	var out []records.Contact
	err := s.inTx(ctx, func(tx *sql.Tx) error {
		if _, err := s.lockCampaign(ctx, tx, campaign, s.forNoKeyUpdate()); err != nil {
			return err
		}
		rows, err := tx.QueryContext(ctx, s.rebind(`SELECT `+contactCols+` FROM campaign_contacts
			WHERE campaign = ? AND claim_id = ? ORDER BY next_at, id`), campaign, claimID)
		if err != nil {
			return err
		}
		if out, err = collect(rows, scanContact); err != nil || len(out) > 0 {
			return err
		}
		// The literal 'pending' lets both dialects read campaign_contacts_due.
		// The pick is a materialized CTE: PostgreSQL may run a LIMIT subquery
		// of the WHERE once per row, each run locking and picking anew.
		rows, err = tx.QueryContext(ctx, s.rebind(`WITH picked AS MATERIALIZED (SELECT id FROM campaign_contacts
				WHERE campaign = ? AND state = 'pending' AND next_at <= ? ORDER BY next_at, id LIMIT ?`+s.skipLocked()+`)
			UPDATE campaign_contacts SET state = 'dialing', attempts = attempts + 1, last_at = ?, agent = ?, claim_id = ?
			WHERE state = 'pending' AND id IN (SELECT id FROM picked)
			RETURNING `+contactCols),
			campaign, micros(normTime(now)), n, micros(normTime(now)), agent, claimID)
		if err != nil {
			return err
		}
		out, err = collect(rows, scanContact)
		return err
	})
	if err != nil {
		return nil, fmt.Errorf("claim contacts of campaign %q: %w", campaign, err)
	}
	sortContacts(out) // RETURNING has no order
	return out, nil
}

// skipLocked is the suffix of a SELECT picking rows to update that passes
// over rows another transaction holds (PostgreSQL).
func (s *Store) skipLocked() string {
	if s.dialect == dialectPostgres {
		return " FOR UPDATE SKIP LOCKED"
	}
	return ""
}

// NextDue returns when the next pending contact of campaign is due: ok is
// false when none is pending, and a zero time with ok means due now.
// ErrNotFound if there is no such campaign.
func (s *Store) NextDue(ctx context.Context, campaign string) (time.Time, bool, error) {
	var next sql.NullInt64
	err := s.db.QueryRowContext(ctx, s.rebind(`SELECT (SELECT MIN(next_at) FROM campaign_contacts
		WHERE campaign = c.id AND state = 'pending') FROM campaigns c WHERE c.id = ?`), campaign).Scan(&next)
	if errors.Is(err, sql.ErrNoRows) {
		err = ErrNotFound
	}
	if err != nil {
		return time.Time{}, false, fmt.Errorf("next due contact of campaign %q: %w", campaign, err)
	}
	return fromMicros(next.Int64), next.Valid, nil
}

// ReleaseContact puts back a contact ClaimContacts holds that was not
// dialled: with skipReason "" it is pending again, due at next; else it is
// skipped for that reason. Either way its Attempts lose the claim's one
// and its Agent and hold are cleared. A contact that is not dialing (one
// already released: a retried call) is left alone. ErrNotFound if the
// campaign has no such contact.
func (s *Store) ReleaseContact(ctx context.Context, campaign string, id int64, next time.Time, skipReason string) error {
	set, args := `state = 'pending', next_at = ?`, []any{micros(next)}
	if skipReason != "" {
		set, args = `state = 'skipped', skip_reason = ?`, []any{skipReason}
	}
	err := s.inTx(ctx, func(tx *sql.Tx) error {
		res, err := tx.ExecContext(ctx, s.rebind(`UPDATE campaign_contacts SET `+set+`,
			attempts = CASE WHEN attempts > 0 THEN attempts - 1 ELSE 0 END, agent = '', claim_id = NULL
			WHERE campaign = ? AND id = ? AND state = 'dialing'`), append(args, campaign, id)...)
		if err := oneRow(res, err); !errors.Is(err, ErrNotFound) {
			return err
		}
		_, err = s.contact(ctx, tx, campaign, id)
		return err
	})
	if err != nil {
		return fmt.Errorf("release contact %d of campaign %q: %w", id, campaign, err)
	}
	return nil
}

func (s *Store) contact(ctx context.Context, q querier, campaign string, id int64) (records.Contact, error) {
	c, err := scanContact(q.QueryRowContext(ctx, s.rebind(`SELECT `+contactCols+` FROM campaign_contacts
		WHERE campaign = ? AND id = ?`), campaign, id))
	if errors.Is(err, sql.ErrNoRows) {
		err = ErrNotFound
	}
	return c, err
}

// GetContact returns contact id of campaign, or ErrNotFound.
func (s *Store) GetContact(ctx context.Context, campaign string, id int64) (records.Contact, error) {
	c, err := s.contact(ctx, s.db, campaign, id)
	if err != nil {
		return records.Contact{}, fmt.Errorf("contact %d of campaign %q: %w", id, campaign, err)
	}
	return c, nil
}

// ListContacts pages through the list of campaign by ID: the contacts
// after afterID (0: from the start), in state (""; any), limit at a time
// (default 100, at most 1000). ErrNotFound if there is no such campaign.
func (s *Store) ListContacts(ctx context.Context, campaign, state string, afterID int64, limit int) ([]records.Contact, error) {
	if limit <= 0 {
		limit = defaultContactPage
	}
	limit = min(limit, maxContactPage)
	q, args := `SELECT `+contactCols+` FROM campaign_contacts WHERE campaign = ?`, []any{campaign}
	if state != "" {
		q, args = q+` AND state = ?`, append(args, state)
	}
	q += ` AND id > ? ORDER BY id LIMIT ?`
	rows, err := s.db.QueryContext(ctx, s.rebind(q), append(args, afterID, limit)...)
	if err != nil {
		return nil, fmt.Errorf("list contacts of campaign %q: %w", campaign, err)
	}
	out, err := collect(rows, scanContact)
	if err == nil && len(out) == 0 {
		err = s.campaignExists(ctx, s.db, campaign)
	}
	if err != nil {
		return nil, fmt.Errorf("list contacts of campaign %q: %w", campaign, err)
	}
	return out, nil
}

// ContactCounts counts the list of campaign by state (every state, zero
// included) and its skipped contacts by reason. ErrNotFound if there is no
// such campaign.
func (s *Store) ContactCounts(ctx context.Context, campaign string) (byState map[string]int, skippedByReason map[string]int, err error) {
	byState = map[string]int{records.ContactPending: 0, records.ContactDialing: 0, records.ContactDone: 0, records.ContactSkipped: 0}
	skippedByReason = map[string]int{}
	err = s.campaignExists(ctx, s.db, campaign)
	if err == nil {
		err = s.countInto(ctx, byState, `SELECT state, COUNT(*) FROM campaign_contacts WHERE campaign = ? GROUP BY state`, campaign)
	}
	if err == nil {
		err = s.countInto(ctx, skippedByReason, `SELECT skip_reason, COUNT(*) FROM campaign_contacts
			WHERE campaign = ? AND state = 'skipped' GROUP BY skip_reason`, campaign)
	}
	if err != nil {
		return nil, nil, fmt.Errorf("count contacts of campaign %q: %w", campaign, err)
	}
	return byState, skippedByReason, nil
}

// countInto adds the (key, count) rows of query to m.
func (s *Store) countInto(ctx context.Context, m map[string]int, query string, args ...any) error {
	rows, err := s.db.QueryContext(ctx, s.rebind(query), args...)
	if err != nil {
		return err
	}
	defer rows.Close()
	for rows.Next() {
		var (
			key string
			n   int
		)
		if err := rows.Scan(&key, &n); err != nil {
			return err
		}
		m[key] += n
	}
	return rows.Err()
}
