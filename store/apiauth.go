package store

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"time"
)

// The designer API's users, API keys and browser sessions (tables api_users,
// api_keys and api_sessions of migration 0003). The store keeps what package
// designerapi decides: secrets arrive hashed, and roles are opaque strings
// except AdminRole, of which one user must always remain.

// AdminRole is the role that may manage users: UpdateAPIUser and
// DeleteAPIUser refuse to leave no user with it.
const AdminRole = "admin"

// ErrLastAdmin: the change would leave no user with AdminRole; nothing was
// written.
var ErrLastAdmin = errors.New("refusing to remove or demote the last admin")

// APIUser is a designer API user.
type APIUser struct {
	Username string
	// PasswordHash is the bcrypt hash; the password itself is never stored.
	PasswordHash string
	Role         string
	CreatedAt    time.Time
	UpdatedAt    time.Time
}

// APIUserChange is what UpdateAPIUser writes; empty fields stay unchanged.
type APIUserChange struct {
	Role string
	// PasswordHash replaces the password; it also ends the user's sessions.
	PasswordHash string
	// At is the new UpdatedAt.
	At time.Time
}

// APIKey is a designer API key.
type APIKey struct {
	ID   string
	Name string
	// Hash is the hex SHA-256 of the secret; the secret itself is never stored.
	Hash string
	// Prefix is the first characters of the secret, to recognise it.
	Prefix     string
	Role       string
	CreatedBy  string
	CreatedAt  time.Time
	LastUsedAt time.Time // zero: never used
}

// APISession is a browser session of a designer API user.
type APISession struct {
	// Hash is the hex SHA-256 of the session token (the cookie value).
	Hash     string
	Username string
	// Role is the user's role when the session is read (APISession); it is
	// not stored with the session, so a role change applies at once.
	Role      string
	CreatedAt time.Time
	ExpiresAt time.Time
}

// micros encodes a time for the BIGINT time columns of migrations 0003 to
// 0005: Unix microseconds, UTC, in both dialects. The zero time is 0.
func micros(t time.Time) int64 {
	if t.IsZero() {
		return 0
	}
	return t.UnixMicro()
}

// fromMicros decodes what micros wrote; 0 is the zero time.
func fromMicros(us int64) time.Time {
	if us == 0 {
		return time.Time{}
	}
	return time.UnixMicro(us).UTC()
}

// AddAPIUser creates a user. It fails with ErrExists when the username is
// taken and ErrInvalid for an empty username, password hash or role.
func (s *Store) AddAPIUser(ctx context.Context, u APIUser) error {
	if u.Username == "" || u.PasswordHash == "" || u.Role == "" {
		return fmt.Errorf("add API user %q: %w: username, password hash and role are required", u.Username, ErrInvalid)
	}
	err := s.inTx(ctx, func(tx *sql.Tx) error {
		res, err := tx.ExecContext(ctx, s.rebind(`INSERT INTO api_users (username, password_hash, role, created_at, updated_at)
			VALUES (?, ?, ?, ?, ?) ON CONFLICT (username) DO NOTHING`),
			u.Username, u.PasswordHash, u.Role, micros(u.CreatedAt), micros(u.UpdatedAt))
		if err != nil {
			return err
		}
		if n, err := res.RowsAffected(); err != nil {
			return err
		} else if n == 0 {
			return ErrExists
		}
		return nil
	})
	if err != nil {
		return fmt.Errorf("add API user %q: %w", u.Username, err)
	}
	return nil
}

const apiUserCols = `username, password_hash, role, created_at, updated_at`

func scanAPIUser(row rowScanner) (APIUser, error) {
	var (
		u            APIUser
		created, upd int64
	)
	if err := row.Scan(&u.Username, &u.PasswordHash, &u.Role, &created, &upd); err != nil {
		return APIUser{}, err
	}
	u.CreatedAt, u.UpdatedAt = fromMicros(created), fromMicros(upd)
	return u, nil
}

// APIUser returns one user (ErrNotFound if there is none).
func (s *Store) APIUser(ctx context.Context, username string) (APIUser, error) {
	u, err := scanAPIUser(s.db.QueryRowContext(ctx, s.rebind(`SELECT `+apiUserCols+` FROM api_users WHERE username = ?`), username))
	if errors.Is(err, sql.ErrNoRows) {
		err = ErrNotFound
	}
	if err != nil {
		return APIUser{}, fmt.Errorf("API user %q: %w", username, err)
	}
	return u, nil
}

// APIUsers lists every user by username.
func (s *Store) APIUsers(ctx context.Context) ([]APIUser, error) {
	rows, err := s.db.QueryContext(ctx, `SELECT `+apiUserCols+` FROM api_users ORDER BY username`)
	if err != nil {
		return nil, fmt.Errorf("list API users: %w", err)
	}
	out, err := collect(rows, scanAPIUser)
	if err != nil {
		return nil, fmt.Errorf("list API users: %w", err)
	}
	return out, nil
}

// FirstAPIUserWithRole returns the oldest user with role (ties by username),
// or ErrNotFound when nobody has it.
func (s *Store) FirstAPIUserWithRole(ctx context.Context, role string) (APIUser, error) {
	u, err := scanAPIUser(s.db.QueryRowContext(ctx, s.rebind(`SELECT `+apiUserCols+` FROM api_users
		WHERE role = ? ORDER BY created_at, username LIMIT 1`), role))
	if errors.Is(err, sql.ErrNoRows) {
		err = ErrNotFound
	}
	if err != nil {
		return APIUser{}, fmt.Errorf("first API user with role %q: %w", role, err)
	}
	return u, nil
}

// lockAPIUserRole returns a user's role inside tx, locking the row on
// PostgreSQL (SQLite transactions already exclude other writers).
func (s *Store) lockAPIUserRole(ctx context.Context, tx *sql.Tx, username string) (string, error) {
	var role string
	err := tx.QueryRowContext(ctx, s.rebind(`SELECT role FROM api_users WHERE username = ?`+s.forUpdate()), username).Scan(&role)
	if errors.Is(err, sql.ErrNoRows) {
		return "", ErrNotFound
	}
	return role, err
}

// lockAdmins returns the admins' usernames inside tx, locking their rows on
// PostgreSQL in username order, so two transactions demoting the last two
// admins wait for each other (without deadlocking) instead of both
// succeeding. Lock them before the target row for the same reason.
func (s *Store) lockAdmins(ctx context.Context, tx *sql.Tx) ([]string, error) {
	rows, err := tx.QueryContext(ctx, s.rebind(`SELECT username FROM api_users WHERE role = ? ORDER BY username`+s.forUpdate()), AdminRole)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var admins []string
	for rows.Next() {
		var name string
		if err := rows.Scan(&name); err != nil {
			return nil, err
		}
		admins = append(admins, name)
	}
	return admins, rows.Err()
}

// checkNotLastAdmin locks the admins' rows, then the user's; it fails with
// ErrNotFound for an unknown user and ErrLastAdmin for the only admin.
func (s *Store) checkNotLastAdmin(ctx context.Context, tx *sql.Tx, username string) error {
	admins, err := s.lockAdmins(ctx, tx)
	if err != nil {
		return err
	}
	cur, err := s.lockAPIUserRole(ctx, tx, username)
	if err != nil {
		return err
	}
	if cur == AdminRole && len(admins) == 1 && admins[0] == username {
		return ErrLastAdmin
	}
	return nil
}

// UpdateAPIUser changes a user's role and/or password hash in one
// transaction. A new password hash or a different role ends the user's
// sessions. It fails with
// ErrNotFound for an unknown user and ErrLastAdmin when it would demote the
// last admin.
func (s *Store) UpdateAPIUser(ctx context.Context, username string, c APIUserChange) error {
	err := s.inTx(ctx, func(tx *sql.Tx) error {
		var err error
		if c.Role != "" && c.Role != AdminRole {
			err = s.checkNotLastAdmin(ctx, tx, username)
		}
		if err != nil {
			return err
		}
		cur, err := s.lockAPIUserRole(ctx, tx, username)
		if err != nil {
			return err
		}
		if c.Role != "" {
			if _, err := tx.ExecContext(ctx, s.rebind(`UPDATE api_users SET role = ?, updated_at = ? WHERE username = ?`),
				c.Role, micros(c.At), username); err != nil {
				return err
			}
		}
		if c.PasswordHash != "" {
			if _, err := tx.ExecContext(ctx, s.rebind(`UPDATE api_users SET password_hash = ?, updated_at = ? WHERE username = ?`),
				c.PasswordHash, micros(c.At), username); err != nil {
				return err
			}
		}
		if c.PasswordHash != "" || c.Role != "" && c.Role != cur {
			_, err = tx.ExecContext(ctx, s.rebind(`DELETE FROM api_sessions WHERE username = ?`), username)
		}
		return err
	})
	if err != nil {
		return fmt.Errorf("update API user %q: %w", username, err)
	}
	return nil
}

// DeleteAPIUser removes a user and its sessions (API keys it created stay).
// It fails with ErrNotFound for an unknown user and ErrLastAdmin for the
// last admin.
func (s *Store) DeleteAPIUser(ctx context.Context, username string) error {
	err := s.inTx(ctx, func(tx *sql.Tx) error {
		if err := s.checkNotLastAdmin(ctx, tx, username); err != nil {
			return err
		}
		if _, err := tx.ExecContext(ctx, s.rebind(`DELETE FROM api_sessions WHERE username = ?`), username); err != nil {
			return err
		}
		_, err := tx.ExecContext(ctx, s.rebind(`DELETE FROM api_users WHERE username = ?`), username)
		return err
	})
	if err != nil {
		return fmt.Errorf("delete API user %q: %w", username, err)
	}
	return nil
}

// AddAPISession opens a session (sess.Role is ignored) and, in the same
// transaction, deletes every session expired at sess.CreatedAt. It fails
// with ErrNotFound when the user does not exist.
func (s *Store) AddAPISession(ctx context.Context, sess APISession) error {
	err := s.inTx(ctx, func(tx *sql.Tx) error {
		if _, err := tx.ExecContext(ctx, s.rebind(`DELETE FROM api_sessions WHERE expires_at < ?`), micros(sess.CreatedAt)); err != nil {
			return err
		}
		_, err := tx.ExecContext(ctx, s.rebind(`INSERT INTO api_sessions (hash, username, created_at, expires_at) VALUES (?, ?, ?, ?)`),
			sess.Hash, sess.Username, micros(sess.CreatedAt), micros(sess.ExpiresAt))
		if isForeignKeyViolation(err) {
			return ErrNotFound
		}
		return err
	})
	if err != nil {
		return fmt.Errorf("add API session of %q: %w", sess.Username, err)
	}
	return nil
}

// APISession returns the session whose token hashes to hash, with its
// user's current role, expired or not (ErrNotFound if there is none).
func (s *Store) APISession(ctx context.Context, hash string) (APISession, error) {
	var (
		sess             APISession
		created, expires int64
	)
	err := s.db.QueryRowContext(ctx, s.rebind(`SELECT s.hash, u.username, u.role, s.created_at, s.expires_at FROM api_sessions s
		JOIN api_users u ON u.username = s.username WHERE s.hash = ?`), hash).
		Scan(&sess.Hash, &sess.Username, &sess.Role, &created, &expires)
	if errors.Is(err, sql.ErrNoRows) {
		err = ErrNotFound
	}
	if err != nil {
		return APISession{}, fmt.Errorf("API session: %w", err)
	}
	sess.CreatedAt, sess.ExpiresAt = fromMicros(created), fromMicros(expires)
	return sess, nil
}

// DeleteAPISession ends a session; an unknown one is not an error.
func (s *Store) DeleteAPISession(ctx context.Context, hash string) error {
	err := s.inTx(ctx, func(tx *sql.Tx) error {
		_, err := tx.ExecContext(ctx, s.rebind(`DELETE FROM api_sessions WHERE hash = ?`), hash)
		return err
	})
	if err != nil {
		return fmt.Errorf("delete API session: %w", err)
	}
	return nil
}

// AddAPIKey stores a key (k.LastUsedAt is ignored). It fails with ErrInvalid
// for an empty ID, hash or role.
func (s *Store) AddAPIKey(ctx context.Context, k APIKey) error {
	if k.ID == "" || k.Hash == "" || k.Role == "" {
		return fmt.Errorf("add API key %q: %w: ID, hash and role are required", k.Name, ErrInvalid)
	}
	err := s.inTx(ctx, func(tx *sql.Tx) error {
		_, err := tx.ExecContext(ctx, s.rebind(`INSERT INTO api_keys (id, name, hash, prefix, role, created_by, created_at)
			VALUES (?, ?, ?, ?, ?, ?, ?)`), k.ID, k.Name, k.Hash, k.Prefix, k.Role, k.CreatedBy, micros(k.CreatedAt))
		return err
	})
	if err != nil {
		return fmt.Errorf("add API key %q: %w", k.Name, err)
	}
	return nil
}

const apiKeyCols = `id, name, hash, prefix, role, created_by, created_at, last_used_at`

func scanAPIKey(row rowScanner) (APIKey, error) {
	var (
		k             APIKey
		created, used int64
	)
	if err := row.Scan(&k.ID, &k.Name, &k.Hash, &k.Prefix, &k.Role, &k.CreatedBy, &created, &used); err != nil {
		return APIKey{}, err
	}
	k.CreatedAt, k.LastUsedAt = fromMicros(created), fromMicros(used)
	return k, nil
}

// APIKeys lists the keys, oldest first (ties by ID).
func (s *Store) APIKeys(ctx context.Context) ([]APIKey, error) {
	rows, err := s.db.QueryContext(ctx, `SELECT `+apiKeyCols+` FROM api_keys ORDER BY created_at, id`)
	if err != nil {
		return nil, fmt.Errorf("list API keys: %w", err)
	}
	out, err := collect(rows, scanAPIKey)
	if err != nil {
		return nil, fmt.Errorf("list API keys: %w", err)
	}
	return out, nil
}

// APIKeyByHash returns the key whose secret hashes to hash (ErrNotFound if
// there is none).
func (s *Store) APIKeyByHash(ctx context.Context, hash string) (APIKey, error) {
	k, err := scanAPIKey(s.db.QueryRowContext(ctx, s.rebind(`SELECT `+apiKeyCols+` FROM api_keys WHERE hash = ?`), hash))
	if errors.Is(err, sql.ErrNoRows) {
		err = ErrNotFound
	}
	if err != nil {
		return APIKey{}, fmt.Errorf("API key: %w", err)
	}
	return k, nil
}

// TouchAPIKey records that a key was used at at; an unknown key is not an
// error.
func (s *Store) TouchAPIKey(ctx context.Context, id string, at time.Time) error {
	err := s.inTx(ctx, func(tx *sql.Tx) error {
		_, err := tx.ExecContext(ctx, s.rebind(`UPDATE api_keys SET last_used_at = ? WHERE id = ?`), micros(at), id)
		return err
	})
	if err != nil {
		return fmt.Errorf("touch API key %q: %w", id, err)
	}
	return nil
}

// DeleteAPIKey revokes a key (ErrNotFound if there is none).
func (s *Store) DeleteAPIKey(ctx context.Context, id string) error {
	err := s.inTx(ctx, func(tx *sql.Tx) error {
		res, err := tx.ExecContext(ctx, s.rebind(`DELETE FROM api_keys WHERE id = ?`), id)
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
		return fmt.Errorf("delete API key %q: %w", id, err)
	}
	return nil
}

// SigninCounter is a sign-in failure counter (table signin_limits of
// migration 0011), keyed "user:<name>" or "ip:<address>" by designerapi.
type SigninCounter struct {
	Key string
	// Failures counts wrong passwords since the last lockout.
	Failures int
	// Lockouts counts lockouts since the last successful sign-in.
	Lockouts    int
	LockedUntil time.Time // zero: not locked
	UpdatedAt   time.Time
}

// SigninCounter returns a counter; an unknown key is a zero counter.
func (s *Store) SigninCounter(ctx context.Context, key string) (SigninCounter, error) {
	c, err := scanSigninCounter(s.db.QueryRowContext(ctx, s.rebind(`SELECT key, failures, lockouts, locked_until, updated_at
		FROM signin_limits WHERE key = ?`), key))
	if errors.Is(err, sql.ErrNoRows) {
		return SigninCounter{Key: key}, nil
	}
	if err != nil {
		return SigninCounter{}, fmt.Errorf("sign-in counter %q: %w", key, err)
	}
	return c, nil
}

func scanSigninCounter(row rowScanner) (SigninCounter, error) {
	var (
		c           SigninCounter
		locked, upd int64
	)
	if err := row.Scan(&c.Key, &c.Failures, &c.Lockouts, &locked, &upd); err != nil {
		return SigninCounter{}, err
	}
	c.LockedUntil, c.UpdatedAt = fromMicros(locked), fromMicros(upd)
	return c, nil
}

// UpdateSigninCounter applies change to a counter (a zero one when the key
// is new) in one transaction, the row locked on PostgreSQL, so API
// instances counting the same key at once never lose a failure. It returns
// what was written.
func (s *Store) UpdateSigninCounter(ctx context.Context, key string, change func(SigninCounter) SigninCounter) (SigninCounter, error) {
	var out SigninCounter
	err := s.inTx(ctx, func(tx *sql.Tx) error {
		c, err := scanSigninCounter(tx.QueryRowContext(ctx, s.rebind(`SELECT key, failures, lockouts, locked_until, updated_at
			FROM signin_limits WHERE key = ?`+s.forUpdate()), key))
		if errors.Is(err, sql.ErrNoRows) {
			c, err = SigninCounter{Key: key}, nil
		}
		if err != nil {
			return err
		}
		out = change(c)
		out.Key = key
		_, err = tx.ExecContext(ctx, s.rebind(`INSERT INTO signin_limits (key, failures, lockouts, locked_until, updated_at)
			VALUES (?, ?, ?, ?, ?) ON CONFLICT (key) DO UPDATE SET failures = excluded.failures,
			lockouts = excluded.lockouts, locked_until = excluded.locked_until, updated_at = excluded.updated_at`),
			key, out.Failures, out.Lockouts, micros(out.LockedUntil), micros(out.UpdatedAt))
		return err
	})
	if err != nil {
		return SigninCounter{}, fmt.Errorf("update sign-in counter %q: %w", key, err)
	}
	return out, nil
}

// DeleteSigninCounter forgets a counter (a successful sign-in); an unknown
// key is not an error.
func (s *Store) DeleteSigninCounter(ctx context.Context, key string) error {
	err := s.inTx(ctx, func(tx *sql.Tx) error {
		_, err := tx.ExecContext(ctx, s.rebind(`DELETE FROM signin_limits WHERE key = ?`), key)
		return err
	})
	if err != nil {
		return fmt.Errorf("delete sign-in counter %q: %w", key, err)
	}
	return nil
}

// PruneSigninCounters forgets counters untouched since before and not
// locked at before: failed sign-ins for made-up usernames do not pile up,
// and lockouts stop doubling after a quiet spell.
func (s *Store) PruneSigninCounters(ctx context.Context, before time.Time) error {
	err := s.inTx(ctx, func(tx *sql.Tx) error {
		_, err := tx.ExecContext(ctx, s.rebind(`DELETE FROM signin_limits WHERE updated_at < ? AND locked_until < ?`),
			micros(before), micros(before))
		return err
	})
	if err != nil {
		return fmt.Errorf("prune sign-in counters: %w", err)
	}
	return nil
}
