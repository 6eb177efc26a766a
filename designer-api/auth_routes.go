package designerapi

import (
	"context"
	"errors"
	"net/http"
	"time"

	"github.com/danielgtaylor/huma/v2"
)

// SessionInfo describes a signed-in caller.
type SessionInfo struct {
	Name      string    `json:"name"`
	Role      Role      `json:"role" enum:"agent,viewer,designer,publisher,operator,admin"`
	Via       string    `json:"via" enum:"session,key"`
	ExpiresAt time.Time `json:"expires_at,omitzero"`
}

type signInInput struct {
	// Session is a session cookie the browser still had: it is ended, so
	// a token planted before sign-in (session fixation) is worth nothing.
	Session string `cookie:"voxflow_session" doc:"A previous session cookie (sent by the browser); it is ended"`
	Body    struct {
		Username string `json:"username" minLength:"1" maxLength:"64"`
		Password string `json:"password" minLength:"1" maxLength:"256"`
	}
}

type signInOutput struct {
	SetCookie http.Cookie `header:"Set-Cookie"`
	Body      SessionInfo
}

type signOutOutput struct {
	SetCookie http.Cookie `header:"Set-Cookie"`
}

type sessionOutput struct {
	Body SessionInfo
}

type passwordOutput struct {
	SetCookie http.Cookie `header:"Set-Cookie"`
}

type passwordInput struct {
	Body struct {
		Current string `json:"current" minLength:"1" maxLength:"256"`
		New     string `json:"new" minLength:"10" maxLength:"72"`
	}
}

func (s *server) needAuth() error {
	if s.cfg.Auth == nil {
		return huma.Error503ServiceUnavailable("authentication is not configured")
	}
	return nil
}

func (s *server) sessionCookie(value string, expires time.Time) http.Cookie {
	c := http.Cookie{Name: SessionCookie, Value: value, Path: "/", HttpOnly: true,
		SameSite: http.SameSiteStrictMode, Secure: s.cfg.SecureCookie}
	if value == "" {
		c.MaxAge = -1
	} else {
		c.Expires = expires
		c.MaxAge = int(time.Until(expires).Seconds())
	}
	return c
}

type signOutInput struct {
	Session string `cookie:"voxflow_session" doc:"The session cookie (sent by the browser)"`
}

func (s *server) registerSession(api huma.API) {
	o := op("sign-in", http.MethodPost, "/session", RoleAnyone, "Session",
		"Sign in with a username and password; sets an HttpOnly, SameSite=Strict session cookie")
	o.Errors = []int{http.StatusUnauthorized, http.StatusTooManyRequests}
	o.Description = "After --signin-failures wrong passwords for an account (or four times as many from one address) " +
		"sign-ins are refused with 429 and Retry-After for --signin-lockout, doubling per lockout up to an hour, " +
		"whether or not the password is right. Any session cookie sent along is ended; the new session has a new token."
	huma.Register(api, o, requires(s.needAuth, s.signIn))

	// Every signed-in user, agents included, may see, end and secure their
	// own session.
	o = op("sign-out", http.MethodDelete, "/session", RoleAgent, "Session", "Sign out: end this browser session and clear its cookie")
	o.DefaultStatus = http.StatusNoContent
	huma.Register(api, o, s.signOut)

	huma.Register(api, op("get-session", http.MethodGet, "/session", RoleAgent, "Session", "Who am I: the caller's name and role"),
		s.getSession)

	o = op("change-password", http.MethodPut, "/session/password", RoleAgent, "Session",
		"Change your own password (signed-in users only, not API keys); ends your other sessions and gives this one a new token")
	o.DefaultStatus = http.StatusNoContent
	huma.Register(api, o, s.changePassword)
}

func (s *server) signIn(ctx context.Context, in *signInInput) (*signInOutput, error) {
	user, src := in.Body.Username, SourceFrom(ctx)
	anon := Principal{Name: user}
	if s.limiter != nil {
		wait, err := s.limiter.lockedFor(ctx, user, src)
		if err != nil {
			return nil, s.fail("sign in", err)
		}
		if wait > 0 {
			s.auditAs(ctx, anon, AuditSigninLocked, user, nil)
			return nil, lockedError(wait)
		}
	}
	token, p, exp, err := s.cfg.Auth.Login(ctx, user, in.Body.Password)
	if errors.Is(err, ErrBadCredentials) && s.limiter != nil {
		return nil, s.signInFailed(ctx, anon, src)
	}
	if err != nil {
		return nil, s.fail("sign in", err)
	}
	if s.limiter != nil {
		if err := s.limiter.succeed(ctx, user); err != nil {
			s.log.Error("sign in", "error", err)
		}
	}
	if in.Session != "" {
		if err := s.cfg.Auth.Logout(ctx, in.Session); err != nil {
			s.log.Error("sign in: end the previous session", "error", err)
		}
	}
	s.auditAs(ctx, p, AuditSigninSuccess, user, nil)
	return &signInOutput{SetCookie: s.sessionCookie(token, exp),
		Body: SessionInfo{Name: p.Name, Role: p.Role, Via: p.Via, ExpiresAt: exp}}, nil
}

// signInFailed counts a wrong password (unknown users alike) and answers
// 401, or 429 when this failure started a lockout.
func (s *server) signInFailed(ctx context.Context, anon Principal, src string) error {
	s.log.Warn("sign-in failed", "user", anon.Name, "source", src)
	s.auditAs(ctx, anon, AuditSigninFailure, anon.Name, nil)
	wait, err := s.limiter.fail(ctx, anon.Name, src)
	if err != nil {
		return s.fail("sign in", err)
	}
	if wait > 0 {
		s.auditAs(ctx, anon, AuditSigninLockout, anon.Name, map[string]any{"seconds": int(wait.Seconds())})
		return lockedError(wait)
	}
	return huma.Error401Unauthorized(ErrBadCredentials.Error())
}

func (s *server) signOut(ctx context.Context, in *signOutInput) (*signOutOutput, error) {
	if in.Session != "" {
		if err := s.cfg.Auth.Logout(ctx, in.Session); err != nil {
			return nil, s.fail("sign out", err)
		}
	}
	return &signOutOutput{SetCookie: s.sessionCookie("", time.Time{})}, nil
}

func (s *server) getSession(ctx context.Context, _ *struct{}) (*sessionOutput, error) {
	p, _ := PrincipalFrom(ctx)
	return &sessionOutput{Body: SessionInfo{Name: p.Name, Role: p.Role, Via: p.Via}}, nil
}

func (s *server) changePassword(ctx context.Context, in *passwordInput) (*passwordOutput, error) {
	p, _ := PrincipalFrom(ctx)
	if p.Via != "session" {
		return nil, huma.Error422UnprocessableEntity("API keys have no password; sign in as a user")
	}
	if err := s.cfg.Auth.CheckPassword(ctx, p.Name, in.Body.Current); err != nil {
		return nil, huma.Error422UnprocessableEntity("the current password is wrong",
			&huma.ErrorDetail{Message: "wrong password", Location: "body.current"})
	}
	if _, err := s.cfg.Auth.UpdateUser(ctx, p.Name, "", in.Body.New); err != nil {
		return nil, s.fail("change password", err)
	}
	// The change ended every session of the user, this one too: go on
	// with a new token.
	token, exp, err := s.cfg.Auth.NewSession(ctx, p.Name)
	if err != nil {
		return nil, s.fail("change password", err)
	}
	s.audit(ctx, AuditPasswordChange, p.Name, nil)
	return &passwordOutput{SetCookie: s.sessionCookie(token, exp)}, nil
}

type usersOutput struct {
	Body struct {
		Users []User `json:"users"`
	}
}

type userOutput struct {
	Body User
}

type createUserInput struct {
	Body struct {
		Username string `json:"username" pattern:"^[A-Za-z0-9][A-Za-z0-9._@-]{0,63}$"`
		Password string `json:"password" minLength:"10" maxLength:"72"`
		Role     Role   `json:"role" enum:"agent,viewer,designer,publisher,operator,admin"`
	}
}

type updateUserInput struct {
	UsernameParam
	Body struct {
		Role     Role   `json:"role,omitempty" enum:"agent,viewer,designer,publisher,operator,admin" doc:"New role (empty: unchanged)"`
		Password string `json:"password,omitempty" maxLength:"72" doc:"New password (empty: unchanged); signs the user out everywhere"`
	}
}

// UsernameParam is the path parameter naming a user.
type UsernameParam struct {
	Username string `path:"username"`
}

type keysOutput struct {
	Body struct {
		Keys []APIKey `json:"keys"`
	}
}

type createKeyInput struct {
	Body struct {
		Name string `json:"name" minLength:"1" maxLength:"100"`
		Role Role   `json:"role" enum:"agent,viewer,designer,publisher,operator,admin"`
	}
}

// CreatedKey is a new API key with its secret, shown only this once.
type CreatedKey struct {
	APIKey
	Key string `json:"key" doc:"The secret: send it as Authorization: Bearer <key>. It is not shown again."`
}

type createKeyOutput struct {
	Body CreatedKey
}

type keyIDInput struct {
	ID string `path:"id"`
}

func (s *server) registerAdmin(api huma.API) {
	huma.Register(api, op("list-users", http.MethodGet, "/users", RoleAdmin, "Admin", "List users"), s.listUsers)

	o := op("create-user", http.MethodPost, "/users", RoleAdmin, "Admin", "Create a user")
	o.DefaultStatus = http.StatusCreated
	huma.Register(api, o, s.createUser)

	huma.Register(api, op("update-user", http.MethodPatch, "/users/{username}", RoleAdmin, "Admin",
		"Change a user's role or password; the last admin cannot be demoted"), s.updateUser)

	o = op("delete-user", http.MethodDelete, "/users/{username}", RoleAdmin, "Admin", "Delete a user and end their sessions")
	o.DefaultStatus = http.StatusNoContent
	huma.Register(api, o, s.deleteUser)

	huma.Register(api, op("list-keys", http.MethodGet, "/keys", RoleAdmin, "Admin", "List API keys (never their secrets)"), s.listKeys)

	o = op("create-key", http.MethodPost, "/keys", RoleAdmin, "Admin", "Create an API key; the secret is in this response only")
	o.DefaultStatus = http.StatusCreated
	huma.Register(api, o, s.createKey)

	o = op("delete-key", http.MethodDelete, "/keys/{id}", RoleAdmin, "Admin", "Revoke an API key")
	o.DefaultStatus = http.StatusNoContent
	huma.Register(api, o, s.deleteKey)
}

func (s *server) listUsers(ctx context.Context, _ *struct{}) (*usersOutput, error) {
	users, err := s.cfg.Auth.Users(ctx)
	if err != nil {
		return nil, s.fail("list users", err)
	}
	out := &usersOutput{}
	out.Body.Users = users
	return out, nil
}

func (s *server) createUser(ctx context.Context, in *createUserInput) (*userOutput, error) {
	u, err := s.cfg.Auth.CreateUser(ctx, in.Body.Username, in.Body.Password, in.Body.Role)
	if err != nil {
		return nil, s.fail("create user", err)
	}
	s.audit(ctx, AuditUserCreate, u.Username, map[string]any{"role": u.Role})
	return &userOutput{Body: u}, nil
}

func (s *server) updateUser(ctx context.Context, in *updateUserInput) (*userOutput, error) {
	u, err := s.cfg.Auth.UpdateUser(ctx, in.Username, in.Body.Role, in.Body.Password)
	if err != nil {
		return nil, s.fail("update user", err)
	}
	s.audit(ctx, AuditUserUpdate, u.Username, map[string]any{"role": in.Body.Role, "password_changed": in.Body.Password != ""})
	return &userOutput{Body: u}, nil
}

func (s *server) deleteUser(ctx context.Context, in *UsernameParam) (*struct{}, error) {
	if err := s.cfg.Auth.DeleteUser(ctx, in.Username); err != nil {
		return nil, s.fail("delete user", err)
	}
	s.audit(ctx, AuditUserDelete, in.Username, nil)
	return nil, nil
}

func (s *server) listKeys(ctx context.Context, _ *struct{}) (*keysOutput, error) {
	keys, err := s.cfg.Auth.Keys(ctx)
	if err != nil {
		return nil, s.fail("list API keys", err)
	}
	out := &keysOutput{}
	out.Body.Keys = keys
	return out, nil
}

func (s *server) createKey(ctx context.Context, in *createKeyInput) (*createKeyOutput, error) {
	key, k, err := s.cfg.Auth.CreateKey(ctx, in.Body.Name, in.Body.Role, who(ctx))
	if err != nil {
		return nil, s.fail("create API key", err)
	}
	s.audit(ctx, AuditKeyCreate, k.ID, map[string]any{"name": k.Name, "role": k.Role})
	return &createKeyOutput{Body: CreatedKey{APIKey: k, Key: key}}, nil
}

func (s *server) deleteKey(ctx context.Context, in *keyIDInput) (*struct{}, error) {
	if err := s.cfg.Auth.DeleteKey(ctx, in.ID); err != nil {
		return nil, s.fail("delete API key", err)
	}
	s.audit(ctx, AuditKeyDelete, in.ID, nil)
	return nil, nil
}
