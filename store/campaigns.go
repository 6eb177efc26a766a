package store

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/voxflow/voxflow/activities/records"
)

// ErrCampaignExists: CreateCampaign found the id taken, or used by an
// earlier campaign whose dial history is kept. It matches ErrExists too.
var ErrCampaignExists = fmt.Errorf("campaign %w", ErrExists)

var campaignStates = []string{records.CampaignDraft, records.CampaignRunning, records.CampaignPaused,
	records.CampaignStopped, records.CampaignCompleted}

// campaignIDRule is what a campaign id may be: a queue name's rule, as it
// goes into workflow and call IDs.
const campaignIDRule = "use 1-64 letters, digits, '.', '_' or '-', starting with a letter or digit"

func checkCampaignID(id string) error {
	if !sipUsername.MatchString(id) {
		return fmt.Errorf("%w: campaign id %q: %s", ErrInvalid, id, campaignIDRule)
	}
	return nil
}

func checkCampaignState(state string) error {
	for _, st := range campaignStates {
		if state == st {
			return nil
		}
	}
	return fmt.Errorf("state %q: %w: must be one of %s", state, ErrInvalid, strings.Join(campaignStates, ", "))
}

// campaignConfig is the JSON of a campaign's settings: the whole record
// less the fields kept in columns, so a setting added to records.Campaign
// is stored without a migration.
func campaignConfig(c records.Campaign) (string, error) {
	c.ID, c.Name, c.State, c.CreatedAt, c.UpdatedAt = "", "", "", time.Time{}, time.Time{}
	b, err := json.Marshal(c)
	return string(b), err
}

// CreateCampaign stores a new campaign. c.ID is its unique slug (ErrInvalid
// if malformed); an id in use, or once used by a deleted campaign that
// dialled (its attempts are kept), is ErrCampaignExists. A zero State is
// draft. CreatedAt and UpdatedAt are set to now. The settings are stored
// as given: the dialer validates them.
func (s *Store) CreateCampaign(ctx context.Context, c records.Campaign) error {
	if err := checkCampaignID(c.ID); err != nil {
		return fmt.Errorf("create campaign: %w", err)
	}
	if c.State == "" {
		c.State = records.CampaignDraft
	}
	if err := checkCampaignState(c.State); err != nil {
		return fmt.Errorf("create campaign %q: %w", c.ID, err)
	}
	cfg, err := campaignConfig(c)
	if err != nil {
		return fmt.Errorf("create campaign %q: %w", c.ID, err)
	}
	now := micros(s.nowUTC())
	err = s.inTx(ctx, func(tx *sql.Tx) error {
		var n int
		err := tx.QueryRowContext(ctx, s.rebind(`SELECT COUNT(*) FROM campaign_attempts WHERE campaign = ?`), c.ID).Scan(&n)
		if err != nil {
			return err
		}
		if n > 0 {
			return fmt.Errorf("%w: an earlier campaign with this id made %d dials, kept as history; choose another id",
				ErrCampaignExists, n)
		}
		res, err := tx.ExecContext(ctx, s.rebind(`INSERT INTO campaigns (id, name, state, config, created_at, updated_at)
			VALUES (?, ?, ?, ?, ?, ?) ON CONFLICT (id) DO NOTHING`), c.ID, c.Name, c.State, cfg, now, now)
		if err != nil {
			return err
		}
		if n, err := res.RowsAffected(); err != nil {
			return err
		} else if n == 0 {
			return ErrCampaignExists
		}
		return nil
	})
	if err != nil {
		return fmt.Errorf("create campaign %q: %w", c.ID, err)
	}
	return nil
}

const campaignCols = `id, name, state, config, created_at, updated_at`

func scanCampaign(row rowScanner) (records.Campaign, error) {
	var (
		c                records.Campaign
		id, name, state  string
		cfg              []byte
		created, updated int64
	)
	if err := row.Scan(&id, &name, &state, jsonScan{&cfg}, &created, &updated); err != nil {
		return records.Campaign{}, err
	}
	if err := json.Unmarshal(cfg, &c); err != nil {
		return records.Campaign{}, fmt.Errorf("campaign %q config: %w", id, err)
	}
	c.ID, c.Name, c.State = id, name, state
	c.CreatedAt, c.UpdatedAt = fromMicros(created), fromMicros(updated)
	return c, nil
}

// GetCampaign returns the campaign id, or ErrNotFound.
func (s *Store) GetCampaign(ctx context.Context, id string) (records.Campaign, error) {
	c, err := scanCampaign(s.db.QueryRowContext(ctx, s.rebind(`SELECT `+campaignCols+` FROM campaigns WHERE id = ?`), id))
	if errors.Is(err, sql.ErrNoRows) {
		err = ErrNotFound
	}
	if err != nil {
		return records.Campaign{}, fmt.Errorf("campaign %q: %w", id, err)
	}
	return c, nil
}

// ListCampaigns lists every campaign, oldest first (then by id).
func (s *Store) ListCampaigns(ctx context.Context) ([]records.Campaign, error) {
	rows, err := s.db.QueryContext(ctx, `SELECT `+campaignCols+` FROM campaigns ORDER BY created_at, id`)
	if err != nil {
		return nil, fmt.Errorf("list campaigns: %w", err)
	}
	out, err := collect(rows, scanCampaign)
	if err != nil {
		return nil, fmt.Errorf("list campaigns: %w", err)
	}
	return out, nil
}

// UpdateCampaign replaces the name and settings of campaign c.ID (ErrNotFound
// if none). Its State and CreatedAt are kept, whatever c carries; UpdatedAt
// is now.
func (s *Store) UpdateCampaign(ctx context.Context, c records.Campaign) error {
	cfg, err := campaignConfig(c)
	if err != nil {
		return fmt.Errorf("update campaign %q: %w", c.ID, err)
	}
	res, err := s.db.ExecContext(ctx, s.rebind(`UPDATE campaigns SET name = ?, config = ?, updated_at = ? WHERE id = ?`),
		c.Name, cfg, micros(s.nowUTC()), c.ID)
	if err := oneRow(res, err); err != nil {
		return fmt.Errorf("update campaign %q: %w", c.ID, err)
	}
	return nil
}

// SetCampaignState sets the state of campaign id (one of the
// records.Campaign* states, else ErrInvalid; ErrNotFound if none) and its
// UpdatedAt. Which changes are allowed is the caller's business.
func (s *Store) SetCampaignState(ctx context.Context, id, state string) error {
	if err := checkCampaignState(state); err != nil {
		return fmt.Errorf("set campaign %q state: %w", id, err)
	}
	res, err := s.db.ExecContext(ctx, s.rebind(`UPDATE campaigns SET state = ?, updated_at = ? WHERE id = ?`),
		state, micros(s.nowUTC()), id)
	if err := oneRow(res, err); err != nil {
		return fmt.Errorf("set campaign %q state: %w", id, err)
	}
	return nil
}

// oneRow turns an UPDATE that touched no row into ErrNotFound.
func oneRow(res sql.Result, err error) error {
	if err != nil {
		return err
	}
	n, err := res.RowsAffected()
	if err != nil {
		return err
	}
	if n == 0 {
		return ErrNotFound
	}
	return nil
}

// DeleteCampaign deletes campaign id and its contact list. Only a draft,
// stopped or completed campaign may go: else ErrInUse, naming the state.
// Its attempts stay as history (ListAttempts, CampaignTally), so the id
// cannot be used again once it dialled; so do its do-not-call entries (a
// do-not-call list errs on the side of not calling).
func (s *Store) DeleteCampaign(ctx context.Context, id string) error {
	err := s.inTx(ctx, func(tx *sql.Tx) error {
		state, err := s.lockCampaign(ctx, tx, id, s.forUpdate())
		if err != nil {
			return err
		}
		switch state {
		case records.CampaignDraft, records.CampaignStopped, records.CampaignCompleted:
		default:
			return fmt.Errorf("%w: the campaign is %s; stop it first", ErrInUse, state)
		}
		if _, err := tx.ExecContext(ctx, s.rebind(`DELETE FROM campaign_contacts WHERE campaign = ?`), id); err != nil {
			return err
		}
		_, err = tx.ExecContext(ctx, s.rebind(`DELETE FROM campaigns WHERE id = ?`), id)
		return err
	})
	if err != nil {
		return fmt.Errorf("delete campaign %q: %w", id, err)
	}
	return nil
}

// lockCampaign returns the state of campaign id, or ErrNotFound, locking
// its row with lock (a SELECT suffix, "" in SQLite, whose write
// transactions hold the whole database) until the transaction ends.
func (s *Store) lockCampaign(ctx context.Context, tx *sql.Tx, id, lock string) (string, error) {
	var state string
	err := tx.QueryRowContext(ctx, s.rebind(`SELECT state FROM campaigns WHERE id = ?`+lock), id).Scan(&state)
	if errors.Is(err, sql.ErrNoRows) {
		return "", ErrNotFound
	}
	return state, err
}

// forNoKeyUpdate locks a row against other such locks, updates and
// deletes (PostgreSQL), but not against the key-share locks that foreign
// key checks take: claims of a campaign take turns while contacts are
// added to it.
func (s *Store) forNoKeyUpdate() string {
	if s.dialect == dialectPostgres {
		return " FOR NO KEY UPDATE"
	}
	return ""
}
