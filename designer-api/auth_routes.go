package designerapi

import (
	"context"
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
	Body struct {
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
	o.Errors = []int{http.StatusUnauthorized}
	huma.Register(api, o, requires(s.needAuth, s.signIn))

	// Every signed-in user, agents included, may see, end and secure their
	// own session.
	o = op("sign-out", http.MethodDelete, "/session", RoleAgent, "Session", "Sign out: end this browser session and clear its cookie")
	o.DefaultStatus = http.StatusNoContent
	huma.Register(api, o, s.signOut)

	huma.Register(api, op("get-session", http.MethodGet, "/session", RoleAgent, "Session", "Who am I: the caller's name and role"),
		s.getSession)

	o = op("change-password", http.MethodPut, "/session/password", RoleAgent, "Session",
		"Change your own password (signed-in users only, not API keys); signs you out everywhere")
	o.DefaultStatus = http.StatusNoContent
	huma.Register(api, o, s.changePassword)
}

func (s *server) signIn(ctx context.Context, in *signInInput) (*signInOutput, error) {
	token, p, exp, err := s.cfg.Auth.Login(ctx, in.Body.Username, in.Body.Password)
	if err != nil {
		return nil, s.fail("sign in", err)
	}
	return &signInOutput{SetCookie: s.sessionCookie(token, exp),
		Body: SessionInfo{Name: p.Name, Role: p.Role, Via: p.Via, ExpiresAt: exp}}, nil
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

func (s *server) changePassword(ctx context.Context, in *passwordInput) (*struct{}, error) {
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
	return nil, nil
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
	return &userOutput{Body: u}, nil
}

func (s *server) updateUser(ctx context.Context, in *updateUserInput) (*userOutput, error) {
	u, err := s.cfg.Auth.UpdateUser(ctx, in.Username, in.Body.Role, in.Body.Password)
	if err != nil {
		return nil, s.fail("update user", err)
	}
	return &userOutput{Body: u}, nil
}

func (s *server) deleteUser(ctx context.Context, in *UsernameParam) (*struct{}, error) {
	if err := s.cfg.Auth.DeleteUser(ctx, in.Username); err != nil {
		return nil, s.fail("delete user", err)
	}
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
	return &createKeyOutput{Body: CreatedKey{APIKey: k, Key: key}}, nil
}

func (s *server) deleteKey(ctx context.Context, in *keyIDInput) (*struct{}, error) {
	if err := s.cfg.Auth.DeleteKey(ctx, in.ID); err != nil {
		return nil, s.fail("delete API key", err)
	}
	return nil, nil
}
