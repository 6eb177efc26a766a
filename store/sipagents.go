package store

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"regexp"
	"time"
)

// ErrExists: the SIP account to add is already there; nothing was written.
var ErrExists = errors.New("already exists")

// SIPAccount is an agent's SIP login, checked by the registrar
// (media/registrar) when the agent's phone registers.
type SIPAccount struct {
	Username string
	// Realm is the digest realm HA1 was computed for.
	Realm string
	// HA1 is hex(md5(username:realm:password)); the password itself is
	// never stored.
	HA1         string
	DisplayName string
	Enabled     bool
	CreatedAt   time.Time
}

// Registration is a live binding of an agent to a contact URI (RFC 3261
// §10): where to send requests for the agent until ExpiresAt.
type Registration struct {
	Username string // the agent (account username, the AOR's user part)
	Contact  string // contact URI as registered
	// Source is the host:port the REGISTER came from and Transport its
	// transport (UDP, TCP, TLS...): behind NAT, requests go there rather
	// than to the contact's host.
	Source, Transport string
	CallID            string
	CSeq              uint32
	UserAgent         string
	WorkerID          string // media worker that took the registration
	ExpiresAt         time.Time
	UpdatedAt         time.Time
}

// sipUsername is what an agent's name may be: safe as a SIP URI user part
// and as a command-line argument.
var sipUsername = regexp.MustCompile(`^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$`)

func checkSIPUsername(name string) error {
	if !sipUsername.MatchString(name) {
		return fmt.Errorf("%w: agent name %q: use 1-64 letters, digits, '.', '_' or '-', starting with a letter or digit", ErrInvalid, name)
	}
	return nil
}

// AddSIPAccount creates an account. A zero CreatedAt means now. It fails
// with ErrExists when the username is taken and ErrInvalid for a bad name
// or an empty realm or HA1.
func (s *Store) AddSIPAccount(ctx context.Context, a SIPAccount) error {
	if err := checkSIPUsername(a.Username); err != nil {
		return fmt.Errorf("add SIP account: %w", err)
	}
	if a.Realm == "" || a.HA1 == "" {
		return fmt.Errorf("add SIP account %q: %w: realm and HA1 are required", a.Username, ErrInvalid)
	}
	if a.CreatedAt.IsZero() {
		a.CreatedAt = s.now()
	}
	enabled := 0
	if a.Enabled {
		enabled = 1
	}
	err := s.inTx(ctx, func(tx *sql.Tx) error {
		var n int
		if err := tx.QueryRowContext(ctx, s.rebind(`SELECT COUNT(*) FROM sip_accounts WHERE username = ?`), a.Username).Scan(&n); err != nil {
			return err
		}
		if n > 0 {
			return ErrExists
		}
		_, err := tx.ExecContext(ctx, s.rebind(`INSERT INTO sip_accounts (username, realm, ha1, display_name, enabled, created_at)
			VALUES (?, ?, ?, ?, ?, ?)`), a.Username, a.Realm, a.HA1, a.DisplayName, enabled, a.CreatedAt.UTC().UnixMicro())
		return err
	})
	if err != nil {
		return fmt.Errorf("add SIP account %q: %w", a.Username, err)
	}
	return nil
}

const sipAccountCols = `username, realm, ha1, display_name, enabled, created_at`

func scanSIPAccount(row rowScanner) (SIPAccount, error) {
	var (
		a       SIPAccount
		enabled int
		created int64
	)
	if err := row.Scan(&a.Username, &a.Realm, &a.HA1, &a.DisplayName, &enabled, &created); err != nil {
		return SIPAccount{}, err
	}
	a.Enabled = enabled != 0
	a.CreatedAt = time.UnixMicro(created).UTC()
	return a, nil
}

// SIPAccount returns one account, or an error wrapping ErrNotFound.
func (s *Store) SIPAccount(ctx context.Context, username string) (SIPAccount, error) {
	a, err := scanSIPAccount(s.db.QueryRowContext(ctx, s.rebind(`SELECT `+sipAccountCols+` FROM sip_accounts WHERE username = ?`), username))
	if errors.Is(err, sql.ErrNoRows) {
		return SIPAccount{}, fmt.Errorf("SIP account %q: %w", username, ErrNotFound)
	}
	if err != nil {
		return SIPAccount{}, fmt.Errorf("SIP account %q: %w", username, err)
	}
	return a, nil
}

// SIPAccounts lists every account by username.
func (s *Store) SIPAccounts(ctx context.Context) ([]SIPAccount, error) {
	rows, err := s.db.QueryContext(ctx, `SELECT `+sipAccountCols+` FROM sip_accounts ORDER BY username`)
	if err != nil {
		return nil, fmt.Errorf("list SIP accounts: %w", err)
	}
	out, err := collect(rows, scanSIPAccount)
	if err != nil {
		return nil, fmt.Errorf("list SIP accounts: %w", err)
	}
	return out, nil
}

// RemoveSIPAccount deletes an account, its registrations and its routing
// profile, or fails with ErrNotFound.
func (s *Store) RemoveSIPAccount(ctx context.Context, username string) error {
	err := s.inTx(ctx, func(tx *sql.Tx) error {
		// Explicit, not only ON DELETE CASCADE: a SQLite connection opened
		// without foreign keys would keep the bindings and the profile.
		if _, err := tx.ExecContext(ctx, s.rebind(`DELETE FROM sip_registrations WHERE username = ?`), username); err != nil {
			return err
		}
		if _, err := tx.ExecContext(ctx, s.rebind(`DELETE FROM agent_profiles WHERE username = ?`), username); err != nil {
			return err
		}
		res, err := tx.ExecContext(ctx, s.rebind(`DELETE FROM sip_accounts WHERE username = ?`), username)
		if err != nil {
			return err
		}
		if n, err := res.RowsAffected(); err != nil {
			return err
		} else if n == 0 {
			return ErrNotFound
		}
		return nil
	})
	if err != nil {
		return fmt.Errorf("remove SIP account %q: %w", username, err)
	}
	return nil
}

const registrationCols = `username, contact, source, transport, call_id, cseq, user_agent, worker_id, expires_at, updated_at`

func scanRegistration(row rowScanner) (Registration, error) {
	var (
		r                Registration
		cseq             int64
		expires, updated int64
	)
	if err := row.Scan(&r.Username, &r.Contact, &r.Source, &r.Transport, &r.CallID, &cseq, &r.UserAgent, &r.WorkerID, &expires, &updated); err != nil {
		return Registration{}, err
	}
	r.CSeq = uint32(cseq)
	r.ExpiresAt = time.UnixMicro(expires).UTC()
	r.UpdatedAt = time.UnixMicro(updated).UTC()
	return r, nil
}

// LiveRegistrations returns the bindings of username that have not expired
// at now, latest expiry first; an empty username returns everyone's,
// by username then latest expiry first. Expired rows are ignored, not
// deleted (see PurgeRegistrations).
func (s *Store) LiveRegistrations(ctx context.Context, username string, now time.Time) ([]Registration, error) {
	q := `SELECT ` + registrationCols + ` FROM sip_registrations WHERE expires_at > ?`
	args := []any{now.UTC().UnixMicro()}
	if username != "" {
		q += ` AND username = ?`
		args = append(args, username)
	}
	q += ` ORDER BY username, expires_at DESC, contact`
	rows, err := s.db.QueryContext(ctx, s.rebind(q), args...)
	if err != nil {
		return nil, fmt.Errorf("registrations of %q: %w", username, err)
	}
	return collectRegistrations(rows, username)
}

func collectRegistrations(rows *sql.Rows, username string) ([]Registration, error) {
	out, err := collect(rows, scanRegistration)
	if err != nil {
		return nil, fmt.Errorf("registrations of %q: %w", username, err)
	}
	return out, nil
}

// RegistrationChange is what UpdateRegistrations writes: bindings to insert
// or replace (by contact) and contacts to remove.
type RegistrationChange struct {
	Put    []Registration
	Remove []string
}

// UpdateRegistrations changes the bindings of one account atomically: in
// one transaction (holding the account's row on PostgreSQL, the database on
// SQLite) it deletes the account's expired bindings, calls fn with the live
// ones (at now), writes the change fn returns and returns the live bindings
// after it. An error from fn aborts with nothing written and is returned
// wrapped. fn may be called more than once (transient failures are
// retried), so it must not have side effects. A missing account fails with
// ErrNotFound.
func (s *Store) UpdateRegistrations(ctx context.Context, username string, now time.Time,
	fn func(live []Registration) (RegistrationChange, error)) ([]Registration, error) {
	var after []Registration
	nowMicro := now.UTC().UnixMicro()
	err := s.inTx(ctx, func(tx *sql.Tx) error {
		var found string
		err := tx.QueryRowContext(ctx, s.rebind(`SELECT username FROM sip_accounts WHERE username = ?`+s.forUpdate()), username).Scan(&found)
		if errors.Is(err, sql.ErrNoRows) {
			return ErrNotFound
		}
		if err != nil {
			return err
		}
		if _, err := tx.ExecContext(ctx, s.rebind(`DELETE FROM sip_registrations WHERE username = ? AND expires_at <= ?`), username, nowMicro); err != nil {
			return err
		}
		live, err := s.txRegistrations(ctx, tx, username)
		if err != nil {
			return err
		}
		change, err := fn(live)
		if err != nil {
			return err
		}
		for _, c := range change.Remove {
			if _, err := tx.ExecContext(ctx, s.rebind(`DELETE FROM sip_registrations WHERE username = ? AND contact = ?`), username, c); err != nil {
				return err
			}
		}
		for _, r := range change.Put {
			if r.Contact == "" {
				return fmt.Errorf("%w: empty contact", ErrInvalid)
			}
			updated := r.UpdatedAt
			if updated.IsZero() {
				updated = now
			}
			_, err := tx.ExecContext(ctx, s.rebind(`INSERT INTO sip_registrations (`+registrationCols+`)
				VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
				ON CONFLICT (username, contact) DO UPDATE SET source = excluded.source, transport = excluded.transport,
					call_id = excluded.call_id, cseq = excluded.cseq, user_agent = excluded.user_agent,
					worker_id = excluded.worker_id, expires_at = excluded.expires_at, updated_at = excluded.updated_at`),
				username, r.Contact, r.Source, r.Transport, r.CallID, int64(r.CSeq), r.UserAgent, r.WorkerID,
				r.ExpiresAt.UTC().UnixMicro(), updated.UTC().UnixMicro())
			if err != nil {
				return err
			}
		}
		after, err = s.txRegistrations(ctx, tx, username)
		return err
	})
	if err != nil {
		return nil, fmt.Errorf("update registrations of %q: %w", username, err)
	}
	// Bindings written already expired (expires_at <= now) are not live.
	live := after[:0]
	for _, r := range after {
		if r.ExpiresAt.UnixMicro() > nowMicro {
			live = append(live, r)
		}
	}
	return live, nil
}

func (s *Store) txRegistrations(ctx context.Context, tx *sql.Tx, username string) ([]Registration, error) {
	rows, err := tx.QueryContext(ctx, s.rebind(`SELECT `+registrationCols+` FROM sip_registrations
		WHERE username = ? ORDER BY expires_at DESC, contact`), username)
	if err != nil {
		return nil, err
	}
	return collectRegistrations(rows, username)
}

// PurgeRegistrations deletes every binding expired at now and returns how
// many.
func (s *Store) PurgeRegistrations(ctx context.Context, now time.Time) (int64, error) {
	res, err := s.db.ExecContext(ctx, s.rebind(`DELETE FROM sip_registrations WHERE expires_at <= ?`), now.UTC().UnixMicro())
	if err != nil {
		return 0, fmt.Errorf("purge registrations: %w", err)
	}
	n, err := res.RowsAffected()
	if err != nil {
		return 0, fmt.Errorf("purge registrations: %w", err)
	}
	return n, nil
}
