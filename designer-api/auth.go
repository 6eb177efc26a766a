package designerapi

import (
	"context"
	"crypto/rand"
	"crypto/sha256"
	"database/sql"
	"encoding/base64"
	"encoding/hex"
	"errors"
	"fmt"
	"regexp"
	"strconv"
	"strings"
	"sync"
	"time"

	"golang.org/x/crypto/bcrypt"
	"modernc.org/sqlite"

	"github.com/voxflow/voxflow/store"
)

// Role is what a user or API key may do. Roles are ordered: each one may do
// everything the roles before it may.
type Role string

// Roles, weakest first.
const (
	// RoleViewer reads flows, versions, numbers, calls, CDRs and metrics.
	RoleViewer Role = "viewer"
	// RoleDesigner also edits drafts and runs the simulator.
	RoleDesigner Role = "designer"
	// RolePublisher also publishes, rolls back and binds numbers.
	RolePublisher Role = "publisher"
	// RoleOperator also resets, terminates and replay-checks live calls.
	RoleOperator Role = "operator"
	// RoleAdmin also manages users and API keys.
	RoleAdmin Role = "admin"
)

// Roles lists every role, weakest first.
var Roles = []Role{RoleViewer, RoleDesigner, RolePublisher, RoleOperator, RoleAdmin}

// rank orders roles; 0 is not a role.
func (r Role) rank() int {
	for i, x := range Roles {
		if x == r {
			return i + 1
		}
	}
	return 0
}

// Valid reports whether r is one of Roles.
func (r Role) Valid() bool { return r.rank() > 0 }

// Allows reports whether a holder of r may call an operation needing min.
func (r Role) Allows(min Role) bool { return r.Valid() && r.rank() >= min.rank() }

// Auth errors. Methods wrap them; match with errors.Is.
var (
	// ErrUnauthenticated: no credentials, or unknown/expired ones.
	ErrUnauthenticated = errors.New("not signed in: send Authorization: Bearer vfk_... or sign in at POST /api/v1/session")
	// ErrBadCredentials: the username or password is wrong.
	ErrBadCredentials = errors.New("wrong username or password")
	// ErrUserExists: a user with that name already exists.
	ErrUserExists = errors.New("user already exists")
	// ErrUserNotFound: no such user.
	ErrUserNotFound = errors.New("user not found")
	// ErrKeyNotFound: no such API key.
	ErrKeyNotFound = errors.New("API key not found")
	// ErrInvalidRole: not one of viewer, designer, publisher, operator, admin.
	ErrInvalidRole = errors.New("invalid role: want viewer, designer, publisher, operator or admin")
	// ErrWeakPassword: the password is too short or too long.
	ErrWeakPassword = errors.New("password must be 10 to 72 bytes")
	// ErrInvalidUsername: the username has a bad shape.
	ErrInvalidUsername = errors.New("username must be 1-64 characters of letters, digits, '.', '_', '-' or '@'")
	// ErrLastAdmin: the change would leave no admin.
	ErrLastAdmin = errors.New("refusing to remove or demote the last admin")
)

// KeyPrefix starts every API key.
const KeyPrefix = "vfk_"

// SessionCookie is the name of the browser session cookie.
const SessionCookie = "voxflow_session"

// AuthOptions tune an Auth. Zero values take the defaults.
type AuthOptions struct {
	// SessionTTL is how long a browser session lasts (default 12h).
	SessionTTL time.Duration
	// BcryptCost is the password hashing cost (default bcrypt.DefaultCost;
	// tests use bcrypt.MinCost).
	BcryptCost int
	// Now is the clock (default time.Now).
	Now func() time.Time
}

// Auth keeps users, API keys and sessions in the store's database (tables
// api_users, api_keys, api_sessions of migration 0003).
//
// Secrets are never stored: passwords as bcrypt hashes, API keys and session
// tokens (32 random bytes each) as hex SHA-256, which is enough for random
// secrets of that length and lets a request be authenticated by one indexed
// lookup.
type Auth struct {
	db       *sql.DB
	postgres bool
	opts     AuthOptions
}

// Principal is who made a request.
type Principal struct {
	// Name is the username, or "key:<name>" for an API key.
	Name string `json:"name"`
	Role Role   `json:"role"`
	// Via is "session" or "key".
	Via   string `json:"via"`
	KeyID string `json:"key_id,omitempty"`
}

// User is a stored user, without its password hash.
type User struct {
	Username  string    `json:"username"`
	Role      Role      `json:"role"`
	CreatedAt time.Time `json:"created_at"`
	UpdatedAt time.Time `json:"updated_at"`
}

// APIKey describes a stored key; the secret itself is shown only once, when
// the key is created.
type APIKey struct {
	ID         string    `json:"id"`
	Name       string    `json:"name"`
	Prefix     string    `json:"prefix" doc:"The first characters of the key, to recognise it"`
	Role       Role      `json:"role"`
	CreatedBy  string    `json:"created_by"`
	CreatedAt  time.Time `json:"created_at"`
	LastUsedAt time.Time `json:"last_used_at,omitzero"`
}

// NewAuth returns an Auth over the store's database. The tables are created
// by the store's migrations when the store is opened.
func NewAuth(s *store.Store, opts AuthOptions) (*Auth, error) {
	if s == nil {
		return nil, errors.New("new auth: nil store")
	}
	if opts.SessionTTL <= 0 {
		opts.SessionTTL = 12 * time.Hour
	}
	if opts.BcryptCost == 0 {
		opts.BcryptCost = bcrypt.DefaultCost
	}
	if opts.Now == nil {
		opts.Now = time.Now
	}
	db := s.DB()
	_, isSQLite := db.Driver().(*sqlite.Driver)
	return &Auth{db: db, postgres: !isSQLite, opts: opts}, nil
}

// q rewrites "?" placeholders to "$n" for PostgreSQL.
func (a *Auth) q(query string) string {
	if !a.postgres {
		return query
	}
	var b strings.Builder
	n := 0
	for i := 0; i < len(query); i++ {
		if query[i] == '?' {
			n++
			b.WriteString("$" + strconv.Itoa(n))
			continue
		}
		b.WriteByte(query[i])
	}
	return b.String()
}

func (a *Auth) now() time.Time { return a.opts.Now().UTC() }

func micros(t time.Time) int64 { return t.UnixMicro() }

func fromMicros(us int64) time.Time {
	if us == 0 {
		return time.Time{}
	}
	return time.UnixMicro(us).UTC()
}

func randomToken(n int) (string, error) {
	b := make([]byte, n)
	if _, err := rand.Read(b); err != nil {
		return "", fmt.Errorf("random token: %w", err)
	}
	return base64.RawURLEncoding.EncodeToString(b), nil
}

func sha256Hex(s string) string {
	sum := sha256.Sum256([]byte(s))
	return hex.EncodeToString(sum[:])
}

var usernamePattern = regexp.MustCompile(`^[A-Za-z0-9][A-Za-z0-9._@-]{0,63}$`)

func checkPassword(pw string) error {
	if len(pw) < 10 || len(pw) > 72 {
		return ErrWeakPassword
	}
	return nil
}

func (a *Auth) hashPassword(pw string) (string, error) {
	if err := checkPassword(pw); err != nil {
		return "", err
	}
	h, err := bcrypt.GenerateFromPassword([]byte(pw), a.opts.BcryptCost)
	if err != nil {
		return "", fmt.Errorf("hash password: %w", err)
	}
	return string(h), nil
}

// CreateUser adds a user.
func (a *Auth) CreateUser(ctx context.Context, username, password string, role Role) (User, error) {
	if !usernamePattern.MatchString(username) {
		return User{}, fmt.Errorf("create user %q: %w", username, ErrInvalidUsername)
	}
	if !role.Valid() {
		return User{}, fmt.Errorf("create user %q: %w", username, ErrInvalidRole)
	}
	hash, err := a.hashPassword(password)
	if err != nil {
		return User{}, fmt.Errorf("create user %q: %w", username, err)
	}
	now := a.now().Truncate(time.Microsecond)
	res, err := a.db.ExecContext(ctx, a.q(`INSERT INTO api_users (username, password_hash, role, created_at, updated_at)
		VALUES (?, ?, ?, ?, ?) ON CONFLICT (username) DO NOTHING`), username, hash, string(role), micros(now), micros(now))
	if err != nil {
		return User{}, fmt.Errorf("create user %q: %w", username, err)
	}
	if n, err := res.RowsAffected(); err == nil && n == 0 {
		return User{}, fmt.Errorf("create user %q: %w", username, ErrUserExists)
	}
	return User{Username: username, Role: role, CreatedAt: now, UpdatedAt: now}, nil
}

// Users lists every user by name.
func (a *Auth) Users(ctx context.Context) ([]User, error) {
	rows, err := a.db.QueryContext(ctx, `SELECT username, role, created_at, updated_at FROM api_users ORDER BY username`)
	if err != nil {
		return nil, fmt.Errorf("list users: %w", err)
	}
	defer rows.Close()
	out := []User{}
	for rows.Next() {
		var (
			u            User
			role         string
			created, upd int64
		)
		if err := rows.Scan(&u.Username, &role, &created, &upd); err != nil {
			return nil, fmt.Errorf("list users: %w", err)
		}
		u.Role, u.CreatedAt, u.UpdatedAt = Role(role), fromMicros(created), fromMicros(upd)
		out = append(out, u)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("list users: %w", err)
	}
	return out, nil
}

// User returns one user.
func (a *Auth) User(ctx context.Context, username string) (User, error) {
	var (
		u            User
		role         string
		created, upd int64
	)
	err := a.db.QueryRowContext(ctx, a.q(`SELECT username, role, created_at, updated_at FROM api_users WHERE username = ?`),
		username).Scan(&u.Username, &role, &created, &upd)
	if errors.Is(err, sql.ErrNoRows) {
		err = ErrUserNotFound
	}
	if err != nil {
		return User{}, fmt.Errorf("user %q: %w", username, err)
	}
	u.Role, u.CreatedAt, u.UpdatedAt = Role(role), fromMicros(created), fromMicros(upd)
	return u, nil
}

// inTx runs fn in a transaction.
func (a *Auth) inTx(ctx context.Context, fn func(tx *sql.Tx) error) error {
	tx, err := a.db.BeginTx(ctx, nil)
	if err != nil {
		return err
	}
	if err := fn(tx); err != nil {
		_ = tx.Rollback()
		return err
	}
	return tx.Commit()
}

// otherAdmins counts admins other than username (inside tx).
func (a *Auth) otherAdmins(ctx context.Context, tx *sql.Tx, username string) (int, error) {
	var n int
	err := tx.QueryRowContext(ctx, a.q(`SELECT COUNT(*) FROM api_users WHERE role = ? AND username <> ?`),
		string(RoleAdmin), username).Scan(&n)
	return n, err
}

// UpdateUser changes a user's role and/or password (empty: unchanged). A
// password change signs the user out everywhere. The last admin cannot be
// demoted.
func (a *Auth) UpdateUser(ctx context.Context, username string, role Role, password string) (User, error) {
	if role != "" && !role.Valid() {
		return User{}, fmt.Errorf("update user %q: %w", username, ErrInvalidRole)
	}
	hash := ""
	if password != "" {
		var err error
		if hash, err = a.hashPassword(password); err != nil {
			return User{}, fmt.Errorf("update user %q: %w", username, err)
		}
	}
	now := a.now()
	err := a.inTx(ctx, func(tx *sql.Tx) error {
		var cur string
		err := tx.QueryRowContext(ctx, a.q(`SELECT role FROM api_users WHERE username = ?`), username).Scan(&cur)
		if errors.Is(err, sql.ErrNoRows) {
			return ErrUserNotFound
		}
		if err != nil {
			return err
		}
		if role != "" && role != RoleAdmin && Role(cur) == RoleAdmin {
			n, err := a.otherAdmins(ctx, tx, username)
			if err != nil {
				return err
			}
			if n == 0 {
				return ErrLastAdmin
			}
		}
		if role != "" {
			if _, err := tx.ExecContext(ctx, a.q(`UPDATE api_users SET role = ?, updated_at = ? WHERE username = ?`),
				string(role), micros(now), username); err != nil {
				return err
			}
		}
		if hash != "" {
			if _, err := tx.ExecContext(ctx, a.q(`UPDATE api_users SET password_hash = ?, updated_at = ? WHERE username = ?`),
				hash, micros(now), username); err != nil {
				return err
			}
			if _, err := tx.ExecContext(ctx, a.q(`DELETE FROM api_sessions WHERE username = ?`), username); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		return User{}, fmt.Errorf("update user %q: %w", username, err)
	}
	return a.User(ctx, username)
}

// DeleteUser removes a user and its sessions. The last admin cannot be removed.
func (a *Auth) DeleteUser(ctx context.Context, username string) error {
	err := a.inTx(ctx, func(tx *sql.Tx) error {
		var cur string
		err := tx.QueryRowContext(ctx, a.q(`SELECT role FROM api_users WHERE username = ?`), username).Scan(&cur)
		if errors.Is(err, sql.ErrNoRows) {
			return ErrUserNotFound
		}
		if err != nil {
			return err
		}
		if Role(cur) == RoleAdmin {
			n, err := a.otherAdmins(ctx, tx, username)
			if err != nil {
				return err
			}
			if n == 0 {
				return ErrLastAdmin
			}
		}
		if _, err := tx.ExecContext(ctx, a.q(`DELETE FROM api_sessions WHERE username = ?`), username); err != nil {
			return err
		}
		_, err = tx.ExecContext(ctx, a.q(`DELETE FROM api_users WHERE username = ?`), username)
		return err
	})
	if err != nil {
		return fmt.Errorf("delete user %q: %w", username, err)
	}
	return nil
}

// EnsureAdmin creates user "admin" with a random password when no admin
// exists yet (first start) and returns its credentials with created=true;
// `voxflow dev` prints them. When an admin exists it returns the first
// admin's name, an empty password and created=false.
func (a *Auth) EnsureAdmin(ctx context.Context) (username, password string, created bool, err error) {
	var existing string
	err = a.db.QueryRowContext(ctx, a.q(`SELECT username FROM api_users WHERE role = ? ORDER BY created_at, username LIMIT 1`),
		string(RoleAdmin)).Scan(&existing)
	switch {
	case err == nil:
		return existing, "", false, nil
	case !errors.Is(err, sql.ErrNoRows):
		return "", "", false, fmt.Errorf("ensure admin: %w", err)
	}
	password, err = randomToken(18) // 24 characters, 144 bits
	if err != nil {
		return "", "", false, fmt.Errorf("ensure admin: %w", err)
	}
	username = "admin"
	for i := 0; i < 5; i++ {
		_, err = a.CreateUser(ctx, username, password, RoleAdmin)
		if !errors.Is(err, ErrUserExists) {
			break
		}
		// "admin" exists but was demoted: pick another name, never touch it.
		suffix, rerr := randomToken(3)
		if rerr != nil {
			return "", "", false, fmt.Errorf("ensure admin: %w", rerr)
		}
		username = "admin-" + strings.ToLower(suffix)
	}
	if err != nil {
		return "", "", false, fmt.Errorf("ensure admin: %w", err)
	}
	return username, password, true, nil
}

// CheckPassword verifies a user's password (ErrBadCredentials if wrong).
func (a *Auth) CheckPassword(ctx context.Context, username, password string) error {
	var hash string
	err := a.db.QueryRowContext(ctx, a.q(`SELECT password_hash FROM api_users WHERE username = ?`), username).Scan(&hash)
	if errors.Is(err, sql.ErrNoRows) {
		_ = bcrypt.CompareHashAndPassword(dummyHash(a.opts.BcryptCost), []byte(password))
		return fmt.Errorf("check password of %q: %w", username, ErrBadCredentials)
	}
	if err != nil {
		return fmt.Errorf("check password of %q: %w", username, err)
	}
	if bcrypt.CompareHashAndPassword([]byte(hash), []byte(password)) != nil {
		return fmt.Errorf("check password of %q: %w", username, ErrBadCredentials)
	}
	return nil
}

// Login checks a username and password and opens a session. It returns the
// session token (the cookie value) and its expiry.
func (a *Auth) Login(ctx context.Context, username, password string) (token string, p Principal, expires time.Time, err error) {
	var hash, role string
	err = a.db.QueryRowContext(ctx, a.q(`SELECT password_hash, role FROM api_users WHERE username = ?`), username).Scan(&hash, &role)
	if errors.Is(err, sql.ErrNoRows) {
		// Spend the same time as a real check so usernames cannot be probed by timing.
		_ = bcrypt.CompareHashAndPassword(dummyHash(a.opts.BcryptCost), []byte(password))
		return "", p, expires, fmt.Errorf("sign in %q: %w", username, ErrBadCredentials)
	}
	if err != nil {
		return "", p, expires, fmt.Errorf("sign in %q: %w", username, err)
	}
	if bcrypt.CompareHashAndPassword([]byte(hash), []byte(password)) != nil {
		return "", p, expires, fmt.Errorf("sign in %q: %w", username, ErrBadCredentials)
	}
	token, err = randomToken(32)
	if err != nil {
		return "", p, expires, fmt.Errorf("sign in %q: %w", username, err)
	}
	now := a.now()
	expires = now.Add(a.opts.SessionTTL).Truncate(time.Microsecond)
	err = a.inTx(ctx, func(tx *sql.Tx) error {
		if _, err := tx.ExecContext(ctx, a.q(`DELETE FROM api_sessions WHERE expires_at < ?`), micros(now)); err != nil {
			return err
		}
		_, err := tx.ExecContext(ctx, a.q(`INSERT INTO api_sessions (hash, username, created_at, expires_at) VALUES (?, ?, ?, ?)`),
			sha256Hex(token), username, micros(now), micros(expires))
		return err
	})
	if err != nil {
		return "", p, expires, fmt.Errorf("sign in %q: %w", username, err)
	}
	return token, Principal{Name: username, Role: Role(role), Via: "session"}, expires, nil
}

var dummyHashes sync.Map // cost -> []byte

func dummyHash(cost int) []byte {
	if h, ok := dummyHashes.Load(cost); ok {
		return h.([]byte)
	}
	h, _ := bcrypt.GenerateFromPassword([]byte("voxflow-dummy-password"), cost)
	dummyHashes.Store(cost, h)
	return h
}

// Logout ends the session of token (no error if it is unknown).
func (a *Auth) Logout(ctx context.Context, token string) error {
	if _, err := a.db.ExecContext(ctx, a.q(`DELETE FROM api_sessions WHERE hash = ?`), sha256Hex(token)); err != nil {
		return fmt.Errorf("sign out: %w", err)
	}
	return nil
}

// Session returns the principal of a session token.
func (a *Auth) Session(ctx context.Context, token string) (Principal, error) {
	var (
		name, role string
		expires    int64
	)
	err := a.db.QueryRowContext(ctx, a.q(`SELECT u.username, u.role, s.expires_at FROM api_sessions s
		JOIN api_users u ON u.username = s.username WHERE s.hash = ?`), sha256Hex(token)).Scan(&name, &role, &expires)
	if errors.Is(err, sql.ErrNoRows) || (err == nil && expires < micros(a.now())) {
		return Principal{}, ErrUnauthenticated
	}
	if err != nil {
		return Principal{}, fmt.Errorf("session: %w", err)
	}
	return Principal{Name: name, Role: Role(role), Via: "session"}, nil
}

// CreateKey makes an API key; the returned secret (vfk_...) is shown once.
func (a *Auth) CreateKey(ctx context.Context, name string, role Role, createdBy string) (string, APIKey, error) {
	if !role.Valid() {
		return "", APIKey{}, fmt.Errorf("create API key %q: %w", name, ErrInvalidRole)
	}
	secret, err := randomToken(32)
	if err != nil {
		return "", APIKey{}, fmt.Errorf("create API key %q: %w", name, err)
	}
	id, err := randomToken(9)
	if err != nil {
		return "", APIKey{}, fmt.Errorf("create API key %q: %w", name, err)
	}
	key := KeyPrefix + secret
	k := APIKey{ID: id, Name: name, Prefix: key[:len(KeyPrefix)+6], Role: role, CreatedBy: createdBy,
		CreatedAt: a.now().Truncate(time.Microsecond)}
	_, err = a.db.ExecContext(ctx, a.q(`INSERT INTO api_keys (id, name, hash, prefix, role, created_by, created_at)
		VALUES (?, ?, ?, ?, ?, ?, ?)`), k.ID, k.Name, sha256Hex(key), k.Prefix, string(k.Role), k.CreatedBy, micros(k.CreatedAt))
	if err != nil {
		return "", APIKey{}, fmt.Errorf("create API key %q: %w", name, err)
	}
	return key, k, nil
}

// Keys lists API keys, oldest first.
func (a *Auth) Keys(ctx context.Context) ([]APIKey, error) {
	rows, err := a.db.QueryContext(ctx, `SELECT id, name, prefix, role, created_by, created_at, last_used_at
		FROM api_keys ORDER BY created_at, id`)
	if err != nil {
		return nil, fmt.Errorf("list API keys: %w", err)
	}
	defer rows.Close()
	out := []APIKey{}
	for rows.Next() {
		var (
			k             APIKey
			role          string
			created, used int64
		)
		if err := rows.Scan(&k.ID, &k.Name, &k.Prefix, &role, &k.CreatedBy, &created, &used); err != nil {
			return nil, fmt.Errorf("list API keys: %w", err)
		}
		k.Role, k.CreatedAt, k.LastUsedAt = Role(role), fromMicros(created), fromMicros(used)
		out = append(out, k)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("list API keys: %w", err)
	}
	return out, nil
}

// DeleteKey revokes an API key.
func (a *Auth) DeleteKey(ctx context.Context, id string) error {
	res, err := a.db.ExecContext(ctx, a.q(`DELETE FROM api_keys WHERE id = ?`), id)
	if err == nil {
		var n int64
		if n, err = res.RowsAffected(); err == nil && n == 0 {
			err = ErrKeyNotFound
		}
	}
	if err != nil {
		return fmt.Errorf("delete API key %q: %w", id, err)
	}
	return nil
}

// keyUseInterval bounds how often last_used_at is written per key.
const keyUseInterval = time.Minute

// Key returns the principal of an API key (vfk_...).
func (a *Auth) Key(ctx context.Context, key string) (Principal, error) {
	if !strings.HasPrefix(key, KeyPrefix) {
		return Principal{}, ErrUnauthenticated
	}
	var (
		id, name, role string
		used           int64
	)
	hash := sha256Hex(key)
	err := a.db.QueryRowContext(ctx, a.q(`SELECT id, name, role, last_used_at FROM api_keys WHERE hash = ?`), hash).
		Scan(&id, &name, &role, &used)
	if errors.Is(err, sql.ErrNoRows) {
		return Principal{}, ErrUnauthenticated
	}
	if err != nil {
		return Principal{}, fmt.Errorf("API key: %w", err)
	}
	if now := a.now(); now.Sub(fromMicros(used)) > keyUseInterval {
		// Best effort: a failed bookkeeping write must not fail the request.
		_, _ = a.db.ExecContext(ctx, a.q(`UPDATE api_keys SET last_used_at = ? WHERE id = ?`), micros(now), id)
	}
	return Principal{Name: "key:" + name, Role: Role(role), Via: "key", KeyID: id}, nil
}
