// Package designerapi is voxflow's HTTP API (huma, OpenAPI 3.1) for the
// visual designer, the operations console and flows-as-code: flows with
// drafts, ETags, validation, graph view, diffs, versions, publish and
// rollback; number bindings; live calls (list, timeline, stuck, reset,
// terminate, replay check); CDR search and export; simulated calls streamed
// as Server-Sent Events; a metrics summary; queues, agents' routing
// profiles and states, callbacks and the router's live board. Every
// operation declares the least role that may call it; callers
// authenticate with an API key (Authorization: Bearer vfk_...) or a
// browser session cookie.
//
// The package talks to Temporal only through the CallOps, Simulator and
// Routing interfaces; package temporalops (designer-api/temporalops)
// implements the first two over a Temporal client, platform.Router the
// third, so this package and its tests need no server.
package designerapi

import (
	"cmp"
	"context"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"strings"
	"sync"
	"time"

	"github.com/danielgtaylor/huma/v2"
	"github.com/danielgtaylor/huma/v2/adapters/humago"

	"github.com/voxflow/voxflow/store"
)

// Prefix is where every operation lives.
const Prefix = "/api/v1"

// APIVersion is the version in the OpenAPI document.
const APIVersion = "1.0.0"

// Config wires the API to the platform. Store and Auth are needed to serve
// requests (without them operations answer 503, which is enough to print the
// OpenAPI document); Calls and Sim are optional (503 without them).
type Config struct {
	Store *store.Store
	// Calls operates on live calls (temporalops.NewCallOps in production).
	Calls CallOps
	// Sim runs simulated calls on a text channel (temporalops.NewSimulator).
	Sim Simulator
	// Routing reaches the router workflow (platform.Router): live queue
	// figures and agents' states. Without it the board and agents' state
	// changes answer 503 and listings carry no live figures.
	Routing Routing
	Auth    *Auth
	// Browser serves the browser channels' sockets under /api/v1/ws/
	// (media/browser.Server); nil: they answer 503.
	Browser Browser
	// Logger receives server-side failures (default slog.Default()).
	Logger *slog.Logger
	// SecureCookie marks the session cookie Secure; set it when served over
	// HTTPS (directly or behind a TLS-terminating proxy): the API's own
	// origin is then https://.
	SecureCookie bool
	// Signin bounds wrong passwords per account and per source address
	// (zero: defaults).
	Signin SigninLimits
	// Origins are other origins (scheme://host[:port]) whose pages may make
	// cookie-authenticated changes; the API's own origin always may.
	Origins []string
	// Campaigns starts and steers campaign workflows (platform.Campaigns);
	// without it campaign controls and preview dials answer 503.
	Campaigns CampaignControl
	// Eraser erases a caller's data (platform.EraseNumber, adapted by
	// platform/apiserver); without it POST /privacy/erase answers 503.
	Eraser Eraser

	// boardTimings pace the board stream (zero: defaultBoardTimings); tests shorten them.
	boardTimings boardTimings
	// campaignEvery paces the campaign streams (zero: CampaignStatsEvery); tests shorten it.
	campaignEvery time.Duration
	// maxCampaignStreams bounds the campaign streams (zero: MaxCampaignStreams); tests lower it.
	maxCampaignStreams int
}

// RoleAnyone marks operations that need no credentials (signing in).
const RoleAnyone Role = "anyone"

// metaRole is the operation metadata key holding the least Role.
const metaRole = "voxflow.minRole"

// ExtMinRole is the OpenAPI extension naming each operation's least role.
const ExtMinRole = "x-min-role"

type server struct {
	cfg   Config
	api   huma.API
	log   *slog.Logger
	sims  *simHub
	locks keyedMutex
	// board feeds the board streams; history counts the board's history
	// (nil without a store).
	board   *boardHub
	history *historyKeeper
	// campaignStreams holds a token per open campaign stream.
	campaignStreams chan struct{}
	// origins are Config.Origins, normalised; limiter counts sign-in
	// failures (nil without a store).
	origins []string
	limiter *signinLimiter
}

// New builds the API. The handler serves /api/v1/..., /openapi.json,
// /openapi.yaml, /docs and /schemas/...; the huma.API gives the OpenAPI
// document and lets tests iterate the operations.
func New(cfg Config) (http.Handler, huma.API) {
	if cfg.Logger == nil {
		cfg.Logger = slog.Default()
	}
	mux := http.NewServeMux()
	hc := huma.DefaultConfig("voxflow API", APIVersion)
	hc.Info.Description = "Contact flows, versions, numbers, live calls, CDRs, simulation, queues and agents for the voxflow designer and operations console. " +
		"Authenticate with `Authorization: Bearer vfk_...` (an API key) or a session cookie from `POST /api/v1/session`. " +
		"Each operation names the least role that may call it in `" + ExtMinRole + "` (agent < viewer < supervisor < designer < publisher < operator < admin; listening to calls is for supervisor and admin only). " +
		"Errors are RFC 9457 problem details; flow errors list line, column and YAML path."
	hc.Components.SecuritySchemes = map[string]*huma.SecurityScheme{
		"bearer":  {Type: "http", Scheme: "bearer", BearerFormat: "vfk_<43 characters>", Description: "An API key made by an admin (POST /api/v1/keys)."},
		"session": {Type: "apiKey", In: "cookie", Name: SessionCookie, Description: "A browser session from POST /api/v1/session."},
	}
	hc.OpenAPIPath = "/openapi"
	hc.DocsPath = "" // served by WebHandler from /openapi.json: huma's renderers load from a CDN
	api := humago.New(mux, hc)
	s := &server{cfg: cfg, api: api, log: cfg.Logger, sims: newSimHub(cfg.Sim), origins: normOrigins(cfg.Origins)}
	if cfg.Store != nil {
		s.history = newHistoryKeeper(cfg.Store)
		now := time.Now
		if a := cfg.Auth; a != nil {
			now = func() time.Time { return a.opts.Now() } // tests move Auth's clock
		}
		s.limiter = newSigninLimiter(cfg.Store, cfg.Signin, now, cfg.Logger)
	}
	if cfg.boardTimings == (boardTimings{}) {
		cfg.boardTimings = defaultBoardTimings
	}
	s.board = s.newBoardHub(cfg.boardTimings)
	if s.cfg.campaignEvery <= 0 {
		s.cfg.campaignEvery = CampaignStatsEvery
	}
	s.campaignStreams = make(chan struct{}, cmp.Or(cfg.maxCampaignStreams, MaxCampaignStreams))
	api.UseMiddleware(s.authenticate)
	s.registerSession(api)
	s.registerAdmin(api)
	s.registerAudit(api)
	s.registerFlows(api)
	s.registerNumbers(api)
	s.registerCalls(api)
	s.registerCDRs(api)
	s.registerSimulate(api)
	s.registerMetrics(api)
	s.registerNodeTypes(api)
	s.registerRouting(api)
	s.registerBoard(api)
	s.registerCampaigns(api)
	s.registerDNC(api)
	s.registerPrivacy(api)
	s.registerSockets(mux)
	documentFlowProblems(api)
	return SecurityHeaders(mux), api
}

// OpenAPI returns the API's OpenAPI 3.1 document as JSON (what `voxflow
// openapi` prints).
func OpenAPI() ([]byte, error) {
	_, api := New(Config{})
	b, err := json.MarshalIndent(api.OpenAPI(), "", "  ")
	if err != nil {
		return nil, fmt.Errorf("render OpenAPI document: %w", err)
	}
	return append(b, '\n'), nil
}

// op describes an operation with its least role.
func op(id, method, path string, min Role, tag, summary string) huma.Operation {
	o := huma.Operation{
		OperationID: id, Method: method, Path: Prefix + path,
		Summary: summary, Tags: []string{tag},
		Metadata:   map[string]any{metaRole: min},
		Extensions: map[string]any{ExtMinRole: string(min)},
	}
	if min != RoleAnyone {
		o.Description = "Least role: " + string(min) + "."
		o.Security = []map[string][]string{{"bearer": {}}, {"session": {}}}
		o.Errors = []int{http.StatusUnauthorized, http.StatusForbidden}
	}
	return o
}

// MinRole returns the least role an operation declared (false if none).
func MinRole(o *huma.Operation) (Role, bool) {
	r, ok := o.Metadata[metaRole].(Role)
	return r, ok
}

type principalKey struct{}

// PrincipalFrom returns who made the request, if authenticated.
func PrincipalFrom(ctx context.Context) (Principal, bool) {
	p, ok := ctx.Value(principalKey{}).(Principal)
	return p, ok
}

func (s *server) authenticate(ctx huma.Context, next func(huma.Context)) {
	min, ok := MinRole(ctx.Operation())
	if !ok {
		_ = huma.WriteErr(s.api, ctx, http.StatusInternalServerError, "operation "+ctx.Operation().OperationID+" declares no role")
		return
	}
	ctx = huma.WithValue(ctx, sourceKey{}, sourceIP(ctx.RemoteAddr()))
	if err := s.checkOrigin(ctx); err != nil {
		_ = huma.WriteErr(s.api, ctx, http.StatusForbidden, err.Error())
		return
	}
	p, err := s.principal(ctx)
	if err == nil {
		ctx = huma.WithValue(ctx, principalKey{}, p)
	}
	if min == RoleAnyone {
		next(ctx)
		return
	}
	switch {
	case errors.Is(err, errNoAuth):
		_ = huma.WriteErr(s.api, ctx, http.StatusServiceUnavailable, "authentication is not configured")
		return
	case errors.Is(err, ErrUnauthenticated):
		ctx.SetHeader("WWW-Authenticate", `Bearer realm="voxflow"`)
		_ = huma.WriteErr(s.api, ctx, http.StatusUnauthorized, ErrUnauthenticated.Error())
		return
	case err != nil:
		s.log.Error("authenticate", "error", err)
		_ = huma.WriteErr(s.api, ctx, http.StatusInternalServerError, "could not check credentials")
		return
	}
	if !p.Role.Allows(min) {
		_ = huma.WriteErr(s.api, ctx, http.StatusForbidden,
			fmt.Sprintf("%s has role %s; %s needs %s or above", p.Name, p.Role, ctx.Operation().OperationID, min))
		return
	}
	next(ctx)
}

var errNoAuth = errors.New("no auth configured")

func (s *server) principal(ctx huma.Context) (Principal, error) {
	if s.cfg.Auth == nil {
		return Principal{}, errNoAuth
	}
	if h := ctx.Header("Authorization"); h != "" {
		scheme, key, _ := strings.Cut(h, " ")
		if !strings.EqualFold(scheme, "Bearer") {
			return Principal{}, ErrUnauthenticated
		}
		return s.cfg.Auth.Key(ctx.Context(), strings.TrimSpace(key))
	}
	c, err := huma.ReadCookie(ctx, SessionCookie)
	if err != nil || c.Value == "" {
		return Principal{}, ErrUnauthenticated
	}
	return s.cfg.Auth.Session(ctx.Context(), c.Value)
}

// who names the caller for audit fields (published_by, created_by).
func who(ctx context.Context) string {
	if p, ok := PrincipalFrom(ctx); ok {
		return p.Name
	}
	return "unknown"
}

// fail maps an error to a problem-details response. Client errors carry the
// error text; server errors are logged and answered without internals.
func (s *server) fail(what string, err error) error {
	var se huma.StatusError
	if errors.As(err, &se) {
		return se
	}
	msg := err.Error()
	switch {
	case errors.Is(err, store.ErrConflict):
		return huma.Error412PreconditionFailed(msg)
	case errors.Is(err, store.ErrNotFound), errors.Is(err, ErrCallNotFound), errors.Is(err, ErrUserNotFound),
		errors.Is(err, ErrKeyNotFound), errors.Is(err, errSimNotFound):
		return huma.Error404NotFound(msg)
	case errors.Is(err, store.ErrInvalid), errors.Is(err, ErrInvalidRole), errors.Is(err, ErrWeakPassword),
		errors.Is(err, ErrInvalidUsername), errors.Is(err, ErrNoSuchNode):
		return huma.Error422UnprocessableEntity(msg)
	case errors.Is(err, ErrUserExists), errors.Is(err, ErrLastAdmin), errors.Is(err, ErrCallNotRunning),
		errors.Is(err, errSimEnded), errors.Is(err, store.ErrInUse):
		return huma.Error409Conflict(msg)
	case errors.Is(err, ErrBadCredentials):
		return huma.Error401Unauthorized(ErrBadCredentials.Error())
	case errors.Is(err, errSimLimit):
		return huma.Error429TooManyRequests(msg)
	case errors.Is(err, context.DeadlineExceeded):
		return huma.Error504GatewayTimeout(what + ": timed out")
	}
	s.log.Error(what, "error", err)
	return huma.Error500InternalServerError(what + " failed; see the server log")
}

func (s *server) needStore() error {
	if s.cfg.Store == nil {
		return huma.Error503ServiceUnavailable("the store is not configured")
	}
	return nil
}

// requires is the middleware of handlers that need an optional part of the
// Config (the store, CallOps, the simulator): need answers first, 503 when
// the part is missing. It wraps the handler rather than being a huma
// middleware, which would run before huma validates the input: invalid
// input answers 422 whether or not the part is configured.
func requires[I, O any](need func() error, h func(context.Context, *I) (*O, error)) func(context.Context, *I) (*O, error) {
	return func(ctx context.Context, in *I) (*O, error) {
		if err := need(); err != nil {
			return nil, err
		}
		return h(ctx, in)
	}
}

// keyedMutex serialises work on one key (a flow name) within this process.
type keyedMutex struct {
	mu sync.Mutex
	m  map[string]*keyedEntry
}

type keyedEntry struct {
	mu   sync.Mutex
	refs int
}

func (k *keyedMutex) lock(key string) func() {
	k.mu.Lock()
	if k.m == nil {
		k.m = map[string]*keyedEntry{}
	}
	e := k.m[key]
	if e == nil {
		e = &keyedEntry{}
		k.m[key] = e
	}
	e.refs++
	k.mu.Unlock()
	e.mu.Lock()
	return func() {
		e.mu.Unlock()
		k.mu.Lock()
		if e.refs--; e.refs == 0 {
			delete(k.m, key)
		}
		k.mu.Unlock()
	}
}

// Cursors are opaque to clients: base64url of a small JSON position.
type cursor struct {
	After string `json:"a,omitempty"`
	N     int    `json:"n,omitempty"`
}

func encodeCursor(c cursor) string {
	b, _ := json.Marshal(c)
	return base64.RawURLEncoding.EncodeToString(b)
}

func decodeCursor(s string) (cursor, error) {
	var c cursor
	if s == "" {
		return c, nil
	}
	b, err := base64.RawURLEncoding.DecodeString(s)
	if err == nil {
		err = json.Unmarshal(b, &c)
	}
	if err != nil {
		return c, &huma.ErrorDetail{Message: "bad cursor: pass next_cursor from the previous page", Location: "query.cursor", Value: s}
	}
	return c, nil
}

func badCursor(err error) error {
	return huma.Error422UnprocessableEntity("invalid cursor", err)
}
