// Package registrar is the SIP registrar of voxflow's media workers: agents'
// phones (softphones, desk phones, baresip) REGISTER to voxflow with digest
// credentials, and the routing layer finds where an agent can be called with
// Registrar.Lookup.
//
// It implements RFC 3261 §10.3: bindings are added, refreshed and removed
// per Contact (the contact's expires parameter, else the Expires header,
// else a default), "Contact: *" with "Expires: 0" removes them all, an
// interval below the minimum is refused with 423 and Min-Expires, one above
// the maximum is shortened, and the 200 OK lists the agent's current
// contacts with their remaining expires. Requests are authenticated with
// HTTP digest (RFC 7616/2617, MD5, qop=auth): the registrar issues nonces
// that expire (an expired one, or one from another worker, gets a new
// challenge with stale=true), refuses a replayed nonce-count, and answers
// 403 when the authenticated user is not the address-of-record's user.
// Accounts store HA1 = md5(user:realm:password), never the password.
//
// Bindings live behind the Locations interface; platform/sipmedia keeps them in
// the voxflow store so every media worker sees every registration.
package registrar

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"strconv"
	"strings"
	"sync/atomic"
	"time"

	"github.com/emiago/sipgo/sip"
)

// DefaultRealm is the digest realm when none is configured.
const DefaultRealm = "voxflow"

// Sentinel errors; match with errors.Is.
var (
	// ErrNotRegistered: Lookup found no live binding for the agent.
	ErrNotRegistered = errors.New("agent is not registered")
	// ErrUnknownAccount: no SIP account has that username.
	ErrUnknownAccount = errors.New("unknown SIP account")
	// ErrBadAuthorization: an Authorization header could not be parsed, or
	// lacks what a qop=auth MD5 digest needs.
	ErrBadAuthorization = errors.New("malformed Authorization header")
	// ErrOutOfOrder: a REGISTER's CSeq is not above that of the request
	// that wrote a binding it changes, with the same Call-ID.
	ErrOutOfOrder = errors.New("out-of-order REGISTER")
	// ErrBadRegister: the REGISTER is malformed (bad Contact or Expires,
	// "*" mixed with other contacts or without Expires: 0, no To user).
	ErrBadRegister = errors.New("malformed REGISTER")
)

// Account is a SIP account agents authenticate with.
type Account struct {
	Username    string
	Realm       string // the realm HA1 was computed for
	HA1         string // hex(md5(username:realm:password))
	DisplayName string
	Enabled     bool
}

// Accounts finds accounts by username; an unknown one is an error wrapping
// ErrUnknownAccount. platform/sipmedia.RegistrarStore implements it.
type Accounts interface {
	Account(ctx context.Context, username string) (Account, error)
}

// Config configures a Registrar.
type Config struct {
	// Realm is the digest realm (default DefaultRealm). Accounts made for
	// another realm cannot authenticate: their HA1 does not match.
	Realm string
	// Accounts and Locations are required (platform/sipmedia.RegistrarStore
	// is both, over the store).
	Accounts  Accounts
	Locations Locations
	// WorkerID is recorded with each binding: the media worker holding it.
	WorkerID string
	// DefaultExpires applies when a REGISTER gives no interval (default
	// 3600 s); a shorter non-zero one than MinExpires is refused with 423
	// (default 60 s); a longer one than MaxExpires is shortened to it
	// (default 3600 s). Whole seconds.
	DefaultExpires, MinExpires, MaxExpires time.Duration
	// NonceTTL is how long a nonce may be used (default 5 min).
	NonceTTL time.Duration
	// NonceKey signs nonces; media workers sharing it accept each other's
	// nonces. Default: random per registrar (a nonce from another worker
	// then gets a stale=true challenge, which clients answer silently).
	NonceKey []byte
	// Timeout bounds the account and binding look-ups of one REGISTER
	// (default 5 s).
	Timeout time.Duration
	// PurgeInterval is how often, at most, expired bindings are deleted
	// from Locations, after answering a REGISTER (default 1 min).
	PurgeInterval time.Duration
	// AuthResult, when set, is told the outcome of each REGISTER that
	// carries credentials, by source address ("ip:port"): ok is false when
	// they do not verify (malformed, wrong response, unknown user, other
	// realm, stale or replayed nonce), true when they do. media/sipguard
	// bans sources that fail too often.
	AuthResult func(src string, ok bool)
	// Source, when set, is where a request comes from, for AuthResult and
	// the bindings (behind a proxy: the client it relays for, so that calls
	// to the phone go to the phone, not the proxy); "" when that is not
	// known (the bindings then have none: calls go to their Contact).
	// Default req.Source().
	Source func(req *sip.Request) string
	// Logger defaults to slog.Default(); Now to time.Now.
	Logger *slog.Logger
	Now    func() time.Time
}

// Registrar answers REGISTER requests. It is safe for concurrent use.
type Registrar struct {
	cfg    Config
	expiry Expiry
	nonces *nonces
	log    *slog.Logger
	// dummyHA1 stands in for an unknown user's HA1, so that user costs
	// the same work as a known one with a wrong password.
	dummyHA1  string
	lastPurge atomic.Int64
}

// New checks cfg and returns a Registrar.
func New(cfg Config) (*Registrar, error) {
	if cfg.Accounts == nil || cfg.Locations == nil {
		return nil, errors.New("registrar: Config.Accounts and Config.Locations are required")
	}
	if cfg.Realm == "" {
		cfg.Realm = DefaultRealm
	}
	if strings.ContainsAny(cfg.Realm, "\"\\\r\n") {
		return nil, fmt.Errorf("registrar: realm %q must not contain quotes, backslashes or line breaks", cfg.Realm)
	}
	def := func(d *time.Duration, v time.Duration) {
		if *d <= 0 {
			*d = v
		}
	}
	def(&cfg.DefaultExpires, time.Hour)
	def(&cfg.MinExpires, time.Minute)
	def(&cfg.MaxExpires, time.Hour)
	def(&cfg.NonceTTL, 5*time.Minute)
	def(&cfg.Timeout, 5*time.Second)
	def(&cfg.PurgeInterval, time.Minute)
	e := Expiry{Default: secs(cfg.DefaultExpires), Min: secs(cfg.MinExpires), Max: secs(cfg.MaxExpires)}
	if e.Min < 1 || e.Min > e.Max || e.Default < e.Min || e.Default > e.Max {
		return nil, fmt.Errorf("registrar: want 1 s <= MinExpires (%d s) <= DefaultExpires (%d s) <= MaxExpires (%d s)", e.Min, e.Default, e.Max)
	}
	if cfg.Logger == nil {
		cfg.Logger = slog.Default()
	}
	if cfg.Now == nil {
		cfg.Now = time.Now
	}
	n, err := newNonces(cfg.NonceKey, cfg.NonceTTL)
	if err != nil {
		return nil, err
	}
	return &Registrar{cfg: cfg, expiry: e, nonces: n, log: cfg.Logger.With("component", "registrar"),
		dummyHA1: HA1("", cfg.Realm, n.issue(cfg.Now()))}, nil
}

func secs(d time.Duration) int { return int(d / time.Second) }

// Realm is the digest realm.
func (r *Registrar) Realm() string { return r.cfg.Realm }

// Lookup returns the live contacts of an agent (the account username: the
// NAME of agent:NAME), latest expiry first, or an error wrapping
// ErrNotRegistered when there is none. It reads Locations, so it sees
// registrations taken by any media worker sharing them.
func (r *Registrar) Lookup(ctx context.Context, user string) ([]Contact, error) {
	cs, err := r.cfg.Locations.Contacts(ctx, user, r.cfg.Now())
	if err != nil {
		return nil, fmt.Errorf("registrar: look up %q: %w", user, err)
	}
	if len(cs) == 0 {
		return nil, fmt.Errorf("registrar: agent %q: %w", user, ErrNotRegistered)
	}
	return cs, nil
}

// ServeRegister answers a REGISTER on its server transaction (a
// sipgo.RequestHandler).
func (r *Registrar) ServeRegister(req *sip.Request, tx sip.ServerTransaction) {
	ctx, cancel := context.WithTimeout(context.Background(), r.cfg.Timeout)
	defer cancel()
	res := r.Handle(ctx, req)
	if err := tx.Respond(res); err != nil {
		r.log.Debug("respond to REGISTER", "code", res.StatusCode, "error", err)
	}
	r.maybePurge(ctx)
}

func (r *Registrar) maybePurge(ctx context.Context) {
	now := r.cfg.Now()
	last := r.lastPurge.Load()
	if now.UnixNano()-last < int64(r.cfg.PurgeInterval) || !r.lastPurge.CompareAndSwap(last, now.UnixNano()) {
		return
	}
	n, err := r.cfg.Locations.Purge(ctx, now)
	switch {
	case err != nil:
		r.log.Warn("purge expired registrations", "error", err)
	case n > 0:
		r.log.Debug("purged expired registrations", "count", n)
	}
}

// Handle decides the response to a REGISTER. The request's source and
// transport (Config.Source, sip.Request.Transport) are recorded with its
// bindings.
func (r *Registrar) Handle(ctx context.Context, req *sip.Request) *sip.Response {
	now := r.cfg.Now()
	log := r.log.With("source", req.Source())
	aor, res := checkRegister(req)
	if res != nil {
		return res
	}
	log = log.With("aor", aor)
	rq, err := parseRegister(req, aor)
	if err != nil {
		log.Info("REGISTER refused", "code", 400, "error", err)
		return reply(req, sip.StatusBadRequest, "Bad Request ("+reason(err)+")")
	}
	rq.source = r.source(req)

	acct, res := r.authenticate(ctx, req, now, log)
	if res != nil {
		return res
	}
	if acct.Username != aor {
		log.Warn("REGISTER refused: authenticated as another agent", "code", 403, "user", acct.Username)
		return reply(req, sip.StatusForbidden, "Forbidden (credentials are not for "+aor+")")
	}
	if res := r.setIntervals(req, &rq, log); res != nil {
		return res
	}
	live, err := r.updateBindings(ctx, aor, rq, now)
	switch {
	case errors.Is(err, ErrOutOfOrder):
		log.Info("REGISTER refused", "code", 400, "error", err)
		return reply(req, sip.StatusBadRequest, "Bad Request (out-of-order CSeq)")
	case errors.Is(err, ErrUnknownAccount): // removed meanwhile
		return reply(req, sip.StatusNotFound, "Not Found")
	case err != nil:
		log.Error("REGISTER: update bindings", "error", err)
		return reply(req, sip.StatusInternalServerError, "Server Internal Error")
	}
	logBindings(log, rq)
	return registered(req, live, now)
}

// checkRegister checks what a REGISTER must carry before it is parsed: it
// returns the address-of-record's user, or the response refusing the
// request (405, 400, 404, 420).
func checkRegister(req *sip.Request) (aor string, res *sip.Response) {
	if req.Method != sip.REGISTER {
		return "", reply(req, sip.StatusMethodNotAllowed, "Method Not Allowed", sip.NewHeader("Allow", "REGISTER"))
	}
	to, callID, cseq := req.To(), req.CallID(), req.CSeq()
	if to == nil || callID == nil || callID.Value() == "" || cseq == nil || req.From() == nil {
		return "", reply(req, sip.StatusBadRequest, "Bad Request (missing To, From, Call-ID or CSeq)")
	}
	if cseq.MethodName != sip.REGISTER {
		return "", reply(req, sip.StatusBadRequest, "Bad Request (CSeq method is not REGISTER)")
	}
	aor = to.Address.User
	if aor == "" {
		return "", reply(req, sip.StatusNotFound, "Not Found (no user in To)")
	}
	if reqs := req.GetHeaders("Require"); len(reqs) > 0 {
		var exts []string
		for _, h := range reqs {
			exts = append(exts, h.Value())
		}
		return "", reply(req, sip.StatusBadExtension, "Bad Extension", sip.NewHeader("Unsupported", strings.Join(exts, ", ")))
	}
	return aor, nil
}

// setIntervals decides each binding's interval, once authenticated (RFC
// 3261 §10.3 step 7); it returns the 423 response when one is too brief.
func (r *Registrar) setIntervals(req *sip.Request, rq *parsedRegister, log *slog.Logger) *sip.Response {
	rq.workerID = r.cfg.WorkerID
	for i, c := range rq.contacts {
		secs, tooBrief := r.expiry.interval(c.param, rq.header)
		if tooBrief {
			log.Info("REGISTER refused: interval too brief", "code", 423, "expires", secs, "min", r.expiry.Min)
			return reply(req, sip.StatusIntervalToBrief, "Interval Too Brief", sip.NewHeader("Min-Expires", strconv.Itoa(r.expiry.Min)))
		}
		rq.bindings[i].expires = secs
	}
	return nil
}

// updateBindings applies the REGISTER to the agent's bindings and returns
// the live ones; a REGISTER without contacts is a query and changes
// nothing.
func (r *Registrar) updateBindings(ctx context.Context, aor string, rq parsedRegister, now time.Time) ([]Contact, error) {
	if len(rq.bindings) == 0 && !rq.wildcard {
		return r.cfg.Locations.Contacts(ctx, aor, now)
	}
	return r.cfg.Locations.Update(ctx, aor, now, func(live []Contact) (Change, error) {
		return plan(live, rq.registerRequest, now)
	})
}

func logBindings(log *slog.Logger, rq parsedRegister) {
	for _, b := range rq.bindings {
		if b.expires == 0 {
			log.Info("agent unregistered", "contact", b.uri)
		} else {
			log.Info("agent registered", "contact", b.uri, "expires", b.expires, "transport", rq.transport)
		}
	}
	if rq.wildcard {
		log.Info("agent unregistered all contacts")
	}
}

// registered is the 200 OK listing the agent's live contacts with the
// seconds each has left (at least 1).
func registered(req *sip.Request, live []Contact, now time.Time) *sip.Response {
	hdrs := make([]sip.Header, 0, len(live)+1)
	for _, c := range live {
		left := int(c.Expires.Sub(now).Round(time.Second) / time.Second)
		if left < 1 {
			left = 1
		}
		hdrs = append(hdrs, sip.NewHeader("Contact", "<"+c.URI+">;expires="+strconv.Itoa(left)))
	}
	hdrs = append(hdrs, sip.NewHeader("Date", now.UTC().Format(http.TimeFormat)))
	return reply(req, sip.StatusOK, "OK", hdrs...)
}

// source is where req comes from (Config.Source).
func (r *Registrar) source(req *sip.Request) string {
	if r.cfg.Source != nil {
		return r.cfg.Source(req)
	}
	return req.Source()
}

// authenticate checks the request's digest credentials and reports the
// outcome to Config.AuthResult. It returns the account, or the response to
// send (401 challenge, 400, 403, 500).
func (r *Registrar) authenticate(ctx context.Context, req *sip.Request, now time.Time, log *slog.Logger) (Account, *sip.Response) {
	acct, res, out := r.checkCredentials(ctx, req, now, log)
	if r.cfg.AuthResult != nil && out != noCredentials {
		r.cfg.AuthResult(r.source(req), out == verified)
	}
	return acct, res
}

// authOutcome is what checkCredentials made of a request's credentials.
type authOutcome int

const (
	noCredentials authOutcome = iota // none, or none we could judge (store error)
	verified
	failed
)

// checkCredentials checks the request's digest credentials.
func (r *Registrar) checkCredentials(ctx context.Context, req *sip.Request, now time.Time, log *slog.Logger) (Account, *sip.Response, authOutcome) {
	var cred credentials
	found := false
	for _, h := range req.GetHeaders("Authorization") {
		scheme, c, err := parseAuthorization(h.Value())
		if err != nil {
			log.Info("REGISTER refused", "code", 400, "error", err)
			return Account{}, reply(req, sip.StatusBadRequest, "Bad Request (malformed Authorization)"), failed
		}
		if strings.EqualFold(scheme, "Digest") && c.get("realm") == r.cfg.Realm {
			cred, found = c, true
			break
		}
	}
	if !found { // none, or only for other realms
		out := noCredentials
		if req.GetHeader("Authorization") != nil {
			out = failed
		}
		return Account{}, r.challenge(req, now, false), out
	}
	nc, err := digestFields(cred)
	if err != nil {
		log.Info("REGISTER refused: unusable credentials", "code", 401, "error", err)
		return Account{}, r.challenge(req, now, false), failed
	}
	user := cred.get("username")
	acct, err := r.cfg.Accounts.Account(ctx, user)
	if errors.Is(err, ErrUnknownAccount) {
		// Spend the same work as for a wrong password, so timing does not
		// tell which names exist.
		_ = responseMatches(cred, r.dummyHA1, req.Method.String())
		log.Info("REGISTER refused: unknown agent", "code", 401, "user", user)
		return Account{}, r.challenge(req, now, false), failed
	}
	if err != nil {
		log.Error("REGISTER: read account", "user", user, "error", err)
		return Account{}, reply(req, sip.StatusInternalServerError, "Server Internal Error"), noCredentials
	}
	if acct.Realm != r.cfg.Realm {
		log.Warn("REGISTER refused: the account was made for another realm; add it again for this one",
			"code", 401, "user", user, "account_realm", acct.Realm, "realm", r.cfg.Realm)
		return Account{}, r.challenge(req, now, false), failed
	}
	if !responseMatches(cred, acct.HA1, req.Method.String()) {
		log.Info("REGISTER refused: wrong password", "code", 401, "user", user)
		return Account{}, r.challenge(req, now, false), failed
	}
	state, issued := r.nonces.check(cred.get("nonce"), now)
	if state == nonceStale {
		// Counted: a phone retries once and its success clears the
		// count, while a replayer of an old request keeps failing.
		log.Debug("REGISTER: stale nonce", "user", user)
		return Account{}, r.challenge(req, now, true), failed
	}
	if !r.nonces.use(cred.get("nonce"), nc, issued, now) {
		log.Info("REGISTER refused: nonce count replayed", "code", 401, "user", user, "nc", cred.get("nc"))
		return Account{}, r.challenge(req, now, true), failed
	}
	if !acct.Enabled {
		log.Info("REGISTER refused: account disabled", "code", 403, "user", user)
		return Account{}, reply(req, sip.StatusForbidden, "Forbidden (account disabled)"), verified
	}
	return acct, nil, verified
}

func (r *Registrar) challenge(req *sip.Request, now time.Time, stale bool) *sip.Response {
	return reply(req, sip.StatusUnauthorized, "Unauthorized",
		sip.NewHeader("WWW-Authenticate", challenge(r.cfg.Realm, r.nonces.issue(now), stale)))
}

func reply(req *sip.Request, code int, reason string, hdrs ...sip.Header) *sip.Response {
	res := sip.NewResponseFromRequest(req, code, reason, nil)
	for _, h := range hdrs {
		res.AppendHeader(h)
	}
	return res
}

// reason is an error's text after its sentinel, for a reason phrase.
func reason(err error) string {
	s := err.Error()
	if i := strings.Index(s, ": "); i >= 0 {
		s = s[i+2:]
	}
	return strings.Map(func(r rune) rune {
		if r < 0x20 || r == 0x7f {
			return ' '
		}
		return r
	}, s)
}

// parsedRegister is a REGISTER's contacts before their intervals are
// decided.
type parsedRegister struct {
	registerRequest
	header   *uint64 // Expires header
	contacts []parsedContact
}

type parsedContact struct {
	param *uint64 // expires parameter
}

// parseRegister reads the Contacts and Expires of a REGISTER.
func parseRegister(req *sip.Request, aor string) (parsedRegister, error) {
	rq := parsedRegister{registerRequest: registerRequest{
		user: aor, callID: req.CallID().Value(), cseq: req.CSeq().SeqNo,
		source: req.Source(), transport: strings.ToUpper(req.Transport()),
	}}
	if ua := req.GetHeader("User-Agent"); ua != nil {
		rq.userAgent = ua.Value()
	}
	if h := req.GetHeader("Expires"); h != nil {
		v, err := parseDeltaSeconds(h.Value())
		if err != nil {
			return rq, fmt.Errorf("%w: Expires %q", ErrBadRegister, h.Value())
		}
		rq.header = &v
	}
	seen := map[string]bool{}
	for _, h := range req.GetHeaders("Contact") {
		ch, ok := h.(*sip.ContactHeader)
		if !ok {
			return rq, fmt.Errorf("%w: Contact %q", ErrBadRegister, h.Value())
		}
		if ch.Address.Wildcard {
			rq.wildcard = true
			continue
		}
		if ch.Address.Host == "" {
			return rq, fmt.Errorf("%w: Contact %q has no host", ErrBadRegister, h.Value())
		}
		var pc parsedContact
		if ch.Params != nil {
			if v, ok := ch.Params.Get("expires"); ok {
				e, err := parseDeltaSeconds(v)
				if err != nil {
					return rq, fmt.Errorf("%w: Contact expires %q", ErrBadRegister, v)
				}
				pc.param = &e
			}
		}
		uri := ch.Address.String()
		if seen[uri] {
			return rq, fmt.Errorf("%w: Contact %s given twice", ErrBadRegister, uri)
		}
		seen[uri] = true
		rq.contacts = append(rq.contacts, pc)
		rq.bindings = append(rq.bindings, binding{uri: uri})
	}
	if rq.wildcard && (len(rq.contacts) > 0 || rq.header == nil || *rq.header != 0) {
		return rq, fmt.Errorf("%w: Contact * must be alone and come with Expires: 0", ErrBadRegister)
	}
	return rq, nil
}

// parseDeltaSeconds reads delta-seconds; values beyond 2^32-1 are taken as
// 2^32-1 (RFC 3261 §25.1: "or larger").
func parseDeltaSeconds(v string) (uint64, error) {
	v = strings.TrimSpace(v)
	if v == "" || len(v) > 20 {
		return 0, errors.New("not delta-seconds")
	}
	for _, c := range v {
		if c < '0' || c > '9' {
			return 0, errors.New("not delta-seconds")
		}
	}
	n, err := strconv.ParseUint(v, 10, 64)
	if err != nil || n > 1<<32-1 {
		n = 1<<32 - 1
	}
	return n, nil
}
