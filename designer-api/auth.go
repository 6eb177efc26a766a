package designerapi

import (
	"context"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"errors"
	"fmt"
	"regexp"
	"strings"
	"sync"
	"time"

	"golang.org/x/crypto/bcrypt"

	"github.com/voxflow/voxflow/store"
)

// Role is what a user or API key may do. Roles are ordered: each one may do
// everything the roles before it may.
type Role string

// Roles, weakest first.
const (
	// RoleAgent is a person who takes calls: it signs itself in and out,
	// takes breaks, ends its wrap-ups and reads the routing board. It acts
	// only for the agent named like the user (or like the API key).
	RoleAgent Role = "agent"
	// RoleViewer reads flows, versions, numbers, calls, CDRs, metrics,
	// queues, agents and callbacks.
	RoleViewer Role = "viewer"
	// RoleSupervisor also listens to, whispers on and barges into live
	// calls from the board (the one right the roles above it do not get:
	// hearing callers is a supervisor's job, not a designer's; an admin
	// may too).
	RoleSupervisor Role = "supervisor"
	// RoleDesigner also edits drafts and runs the simulator.
	RoleDesigner Role = "designer"
	// RolePublisher also publishes, rolls back, binds numbers and puts
	// and deletes queues.
	RolePublisher Role = "publisher"
	// RoleOperator also resets, terminates and replay-checks live calls,
	// sets agents' profiles and changes any agent's state.
	RoleOperator Role = "operator"
	// RoleAdmin also manages users and API keys; the store keeps at least
	// one user with it.
	RoleAdmin Role = store.AdminRole
)

// Roles lists every role, weakest first.
var Roles = []Role{RoleAgent, RoleViewer, RoleSupervisor, RoleDesigner, RolePublisher, RoleOperator, RoleAdmin}

// MayMonitor reports whether r may listen to, whisper on or barge into
// calls: supervisors and admins only.
func (r Role) MayMonitor() bool { return r == RoleSupervisor || r == RoleAdmin }

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
	// ErrInvalidRole: not one of agent, viewer, supervisor, designer, publisher, operator, admin.
	ErrInvalidRole = errors.New("invalid role: want agent, viewer, supervisor, designer, publisher, operator or admin")
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

// Auth keeps users, API keys and sessions in the store (its API user, key
// and session methods).
//
// Secrets are never stored: passwords as bcrypt hashes, API keys and session
// tokens (32 random bytes each) as hex SHA-256, which is enough for random
// secrets of that length and lets a request be authenticated by one indexed
// lookup.
type Auth struct {
	store *store.Store
	opts  AuthOptions
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

func userOf(u store.APIUser) User {
	return User{Username: u.Username, Role: Role(u.Role), CreatedAt: u.CreatedAt, UpdatedAt: u.UpdatedAt}
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

func keyOf(k store.APIKey) APIKey {
	return APIKey{ID: k.ID, Name: k.Name, Prefix: k.Prefix, Role: Role(k.Role), CreatedBy: k.CreatedBy,
		CreatedAt: k.CreatedAt, LastUsedAt: k.LastUsedAt}
}

// NewAuth returns an Auth over the store. The tables are created by the
// store's migrations when the store is opened.
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
	return &Auth{store: s, opts: opts}, nil
}

// now is the clock in UTC at the store's microsecond precision, so what an
// operation returns equals what is read back later.
func (a *Auth) now() time.Time { return a.opts.Now().UTC().Truncate(time.Microsecond) }

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

// userErr turns the store's errors about a user into this package's.
func userErr(err error) error {
	switch {
	case errors.Is(err, store.ErrNotFound):
		return ErrUserNotFound
	case errors.Is(err, store.ErrExists):
		return ErrUserExists
	case errors.Is(err, store.ErrLastAdmin):
		return ErrLastAdmin
	}
	return err
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
	now := a.now()
	u := store.APIUser{Username: username, PasswordHash: hash, Role: string(role), CreatedAt: now, UpdatedAt: now}
	if err := a.store.AddAPIUser(ctx, u); err != nil {
		return User{}, fmt.Errorf("create user %q: %w", username, userErr(err))
	}
	return userOf(u), nil
}

// Users lists every user by name.
func (a *Auth) Users(ctx context.Context) ([]User, error) {
	us, err := a.store.APIUsers(ctx)
	if err != nil {
		return nil, fmt.Errorf("list users: %w", err)
	}
	out := make([]User, 0, len(us))
	for _, u := range us {
		out = append(out, userOf(u))
	}
	return out, nil
}

// User returns one user.
func (a *Auth) User(ctx context.Context, username string) (User, error) {
	u, err := a.store.APIUser(ctx, username)
	if err != nil {
		return User{}, fmt.Errorf("user %q: %w", username, userErr(err))
	}
	return userOf(u), nil
}

// UpdateUser changes a user's role and/or password (empty: unchanged). A
// password change or a new role signs the user out everywhere. The last admin cannot be
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
	err := a.store.UpdateAPIUser(ctx, username, store.APIUserChange{Role: string(role), PasswordHash: hash, At: a.now()})
	if err != nil {
		return User{}, fmt.Errorf("update user %q: %w", username, userErr(err))
	}
	return a.User(ctx, username)
}

// DeleteUser removes a user and its sessions. The last admin cannot be removed.
func (a *Auth) DeleteUser(ctx context.Context, username string) error {
	if err := a.store.DeleteAPIUser(ctx, username); err != nil {
		return fmt.Errorf("delete user %q: %w", username, userErr(err))
	}
	return nil
}

// EnsureAdmin creates user "admin" with a random password when no admin
// exists yet (first start) and returns its credentials with created=true;
// `voxflow dev` prints them. When an admin exists it returns the first
// admin's name, an empty password and created=false.
func (a *Auth) EnsureAdmin(ctx context.Context) (username, password string, created bool, err error) {
	existing, err := a.store.FirstAPIUserWithRole(ctx, string(RoleAdmin))
	switch {
	case err == nil:
		return existing.Username, "", false, nil
	case !errors.Is(err, store.ErrNotFound):
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

// verifyPassword returns the user when password is theirs, ErrBadCredentials
// when it is not or there is no such user.
func (a *Auth) verifyPassword(ctx context.Context, username, password string) (store.APIUser, error) {
	u, err := a.store.APIUser(ctx, username)
	if errors.Is(err, store.ErrNotFound) {
		// Spend the same time as a real check so usernames cannot be probed by timing.
		_ = bcrypt.CompareHashAndPassword(dummyHash(a.opts.BcryptCost), []byte(password))
		return u, ErrBadCredentials
	}
	if err != nil {
		return u, err
	}
	if bcrypt.CompareHashAndPassword([]byte(u.PasswordHash), []byte(password)) != nil {
		return u, ErrBadCredentials
	}
	return u, nil
}

// CheckPassword verifies a user's password (ErrBadCredentials if wrong).
func (a *Auth) CheckPassword(ctx context.Context, username, password string) error {
	if _, err := a.verifyPassword(ctx, username, password); err != nil {
		return fmt.Errorf("check password of %q: %w", username, err)
	}
	return nil
}

// Login checks a username and password and opens a session. It returns the
// session token (the cookie value) and its expiry.
func (a *Auth) Login(ctx context.Context, username, password string) (token string, p Principal, expires time.Time, err error) {
	u, err := a.verifyPassword(ctx, username, password)
	if err != nil {
		return "", p, expires, fmt.Errorf("sign in %q: %w", username, err)
	}
	token, expires, err = a.NewSession(ctx, username)
	if err != nil {
		return "", p, expires, fmt.Errorf("sign in: %w", err)
	}
	return token, Principal{Name: username, Role: Role(u.Role), Via: "session"}, expires, nil
}

// NewSession opens a fresh session for a user (a new random token): at
// sign-in, and after a password change, which ended the others.
func (a *Auth) NewSession(ctx context.Context, username string) (token string, expires time.Time, err error) {
	token, err = randomToken(32)
	if err != nil {
		return "", expires, fmt.Errorf("new session of %q: %w", username, err)
	}
	now := a.now()
	expires = now.Add(a.opts.SessionTTL)
	err = a.store.AddAPISession(ctx, store.APISession{Hash: sha256Hex(token), Username: username, CreatedAt: now, ExpiresAt: expires})
	if errors.Is(err, store.ErrNotFound) {
		err = ErrBadCredentials // the user was deleted since the password check
	}
	if err != nil {
		return "", expires, fmt.Errorf("new session of %q: %w", username, err)
	}
	return token, expires, nil
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
	if err := a.store.DeleteAPISession(ctx, sha256Hex(token)); err != nil {
		return fmt.Errorf("sign out: %w", err)
	}
	return nil
}

// Session returns the principal of a session token.
func (a *Auth) Session(ctx context.Context, token string) (Principal, error) {
	sess, err := a.store.APISession(ctx, sha256Hex(token))
	if errors.Is(err, store.ErrNotFound) || (err == nil && sess.ExpiresAt.Before(a.now())) {
		return Principal{}, ErrUnauthenticated
	}
	if err != nil {
		return Principal{}, fmt.Errorf("session: %w", err)
	}
	return Principal{Name: sess.Username, Role: Role(sess.Role), Via: "session"}, nil
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
	k := store.APIKey{ID: id, Name: name, Hash: sha256Hex(key), Prefix: key[:len(KeyPrefix)+6], Role: string(role),
		CreatedBy: createdBy, CreatedAt: a.now()}
	if err := a.store.AddAPIKey(ctx, k); err != nil {
		return "", APIKey{}, fmt.Errorf("create API key %q: %w", name, err)
	}
	return key, keyOf(k), nil
}

// Keys lists API keys, oldest first.
func (a *Auth) Keys(ctx context.Context) ([]APIKey, error) {
	ks, err := a.store.APIKeys(ctx)
	if err != nil {
		return nil, fmt.Errorf("list API keys: %w", err)
	}
	out := make([]APIKey, 0, len(ks))
	for _, k := range ks {
		out = append(out, keyOf(k))
	}
	return out, nil
}

// DeleteKey revokes an API key.
func (a *Auth) DeleteKey(ctx context.Context, id string) error {
	err := a.store.DeleteAPIKey(ctx, id)
	if errors.Is(err, store.ErrNotFound) {
		err = ErrKeyNotFound
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
	k, err := a.store.APIKeyByHash(ctx, sha256Hex(key))
	if errors.Is(err, store.ErrNotFound) {
		return Principal{}, ErrUnauthenticated
	}
	if err != nil {
		return Principal{}, fmt.Errorf("API key: %w", err)
	}
	if now := a.now(); now.Sub(k.LastUsedAt) > keyUseInterval {
		// Best effort: a failed bookkeeping write must not fail the request.
		_ = a.store.TouchAPIKey(ctx, k.ID, now)
	}
	return Principal{Name: "key:" + k.Name, Role: Role(k.Role), Via: "key", KeyID: k.ID}, nil
}
