package apiserver

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/url"
	"strings"
	"sync"
	"time"

	commonpb "go.temporal.io/api/common/v1"
	"go.temporal.io/sdk/converter"
	"google.golang.org/protobuf/encoding/protojson"

	designerapi "github.com/voxflow/voxflow/designer-api"
	"github.com/voxflow/voxflow/store"
)

// CodecPath is where Temporal's remote codec protocol is served: POST
// {CodecPath}/decode and /encode, or {CodecPath}/{namespace}/decode; the
// namespace may come in the X-Namespace header instead (Temporal's UI).
const CodecPath = designerapi.Prefix + "/codec"

// AuditCodecDecode is the audit action of decoding payloads for a caller.
const AuditCodecDecode = "codec.decode"

const (
	// codecMinRole may read callers' data out of any history.
	codecMinRole = designerapi.RoleOperator
	// codecMaxBody bounds a request: Temporal caps a payload at 2 MiB, and
	// the UI sends one event's payloads at a time.
	codecMaxBody = 8 << 20
	// codecAuditEvery keeps the audit log to one decode entry per actor
	// and interval: the UI decodes every event of a page separately.
	codecAuditEvery = time.Minute
)

// Codec endpoint errors.
var (
	errCodecOrigin = errors.New("origin may not call the codec endpoint (add it to api.origins)")
	errCodecRole   = errors.New("the codec endpoint needs role " + string(codecMinRole) + " or above")
)

// codecServer decodes (and encodes) payloads with the process's payload
// codec, so that Temporal's UI and CLI can show encrypted histories.
type codecServer struct {
	codec   converter.PayloadCodec
	auth    *designerapi.Auth
	store   *store.Store
	origins map[string]bool
	log     *slog.Logger
	now     func() time.Time

	mu      sync.Mutex
	audited map[string]time.Time // actor → its last codec.decode entry
}

func newCodecServer(pc converter.PayloadCodec, auth *designerapi.Auth, s *store.Store, origins []string, log *slog.Logger) *codecServer {
	cs := &codecServer{codec: pc, auth: auth, store: s, origins: map[string]bool{}, log: log,
		now: time.Now, audited: map[string]time.Time{}}
	for _, o := range origins {
		if o = strings.ToLower(strings.TrimSuffix(strings.TrimSpace(o), "/")); o != "" {
			cs.origins[o] = true
		}
	}
	return cs
}

func (cs *codecServer) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	origin := r.Header.Get("Origin")
	if origin != "" && !cs.originAllowed(r, origin) {
		http.Error(w, errCodecOrigin.Error(), http.StatusForbidden)
		return
	}
	if origin != "" {
		h := w.Header()
		h.Set("Access-Control-Allow-Origin", origin)
		h.Set("Access-Control-Allow-Credentials", "true")
		h.Add("Vary", "Origin")
	}
	if r.Method == http.MethodOptions {
		h := w.Header()
		h.Set("Access-Control-Allow-Methods", "POST, OPTIONS")
		h.Set("Access-Control-Allow-Headers", "Authorization, Content-Type, X-Namespace")
		h.Set("Access-Control-Max-Age", "600")
		w.WriteHeader(http.StatusNoContent)
		return
	}
	if r.Method != http.MethodPost {
		w.Header().Set("Allow", "POST, OPTIONS")
		http.Error(w, "use POST", http.StatusMethodNotAllowed)
		return
	}
	op, ns, ok := codecRoute(r)
	if !ok {
		http.NotFound(w, r)
		return
	}
	p, status, err := cs.principal(r, origin != "")
	if err != nil {
		if status == http.StatusUnauthorized {
			w.Header().Set("WWW-Authenticate", `Bearer realm="voxflow"`)
		}
		http.Error(w, err.Error(), status)
		return
	}
	cs.serveOp(w, r, p, op, ns)
}

// serveOp encodes or decodes the request's payloads for p.
func (cs *codecServer) serveOp(w http.ResponseWriter, r *http.Request, p designerapi.Principal, op, ns string) {
	body, err := io.ReadAll(http.MaxBytesReader(w, r.Body, codecMaxBody))
	if err != nil {
		http.Error(w, fmt.Sprintf("read payloads: %v", err), http.StatusRequestEntityTooLarge)
		return
	}
	var in commonpb.Payloads
	if err := protojson.Unmarshal(body, &in); err != nil {
		http.Error(w, fmt.Sprintf("payloads are not Temporal's JSON (common.v1.Payloads): %v", err), http.StatusBadRequest)
		return
	}
	var out []*commonpb.Payload
	if op == "encode" {
		out, err = cs.codec.Encode(in.Payloads)
	} else {
		out, err = cs.codec.Decode(in.Payloads)
	}
	if err != nil {
		http.Error(w, fmt.Sprintf("%s payloads: %v", op, err), http.StatusBadRequest)
		return
	}
	if op == "decode" {
		cs.auditDecode(r, p, ns, len(in.Payloads))
	}
	b, err := protojson.Marshal(&commonpb.Payloads{Payloads: out})
	if err != nil {
		cs.log.Error("codec: marshal payloads", "error", err)
		http.Error(w, "could not write payloads", http.StatusInternalServerError)
		return
	}
	w.Header().Set("Content-Type", "application/json")
	_, _ = w.Write(b)
}

// codecRoute splits {CodecPath}[/{namespace}]/{encode|decode}; the
// X-Namespace header names the namespace when the path does not.
func codecRoute(r *http.Request) (op, ns string, ok bool) {
	rest, found := strings.CutPrefix(r.URL.Path, CodecPath+"/")
	if !found {
		return "", "", false
	}
	parts := strings.Split(rest, "/")
	op = parts[len(parts)-1]
	if op != "encode" && op != "decode" || len(parts) > 2 {
		return "", "", false
	}
	ns = r.Header.Get("X-Namespace")
	if len(parts) == 2 {
		ns = parts[0]
	}
	return op, ns, true
}

// originAllowed: the API's own origin or one of api.origins.
func (cs *codecServer) originAllowed(r *http.Request, origin string) bool {
	origin = strings.ToLower(strings.TrimSuffix(origin, "/"))
	if cs.origins[origin] {
		return true
	}
	u, err := url.Parse(origin)
	return err == nil && u.Host != "" && strings.EqualFold(u.Host, r.Host)
}

// principal authenticates an API key (Authorization: Bearer vfk_...), or,
// from a browser page of an allowed origin that sends credentials, the
// session cookie; the origin check above keeps that from being CSRF.
func (cs *codecServer) principal(r *http.Request, fromAllowedOrigin bool) (designerapi.Principal, int, error) {
	ctx := r.Context()
	var p designerapi.Principal
	var err error
	switch h := r.Header.Get("Authorization"); {
	case h != "":
		scheme, key, _ := strings.Cut(h, " ")
		if !strings.EqualFold(scheme, "Bearer") {
			return p, http.StatusUnauthorized, designerapi.ErrUnauthenticated
		}
		p, err = cs.auth.Key(ctx, strings.TrimSpace(key))
	case fromAllowedOrigin:
		c, cerr := r.Cookie(designerapi.SessionCookie)
		if cerr != nil || c.Value == "" {
			return p, http.StatusUnauthorized, designerapi.ErrUnauthenticated
		}
		p, err = cs.auth.Session(ctx, c.Value)
	default:
		return p, http.StatusUnauthorized, designerapi.ErrUnauthenticated
	}
	switch {
	case errors.Is(err, designerapi.ErrUnauthenticated):
		return p, http.StatusUnauthorized, designerapi.ErrUnauthenticated
	case err != nil:
		cs.log.Error("codec: authenticate", "error", err)
		return p, http.StatusInternalServerError, errors.New("could not check credentials")
	case !p.Role.Allows(codecMinRole):
		return p, http.StatusForbidden, fmt.Errorf("%s has role %s: %w", p.Name, p.Role, errCodecRole)
	}
	return p, 0, nil
}

// auditDecode records that p read payloads, at most once per actor and
// codecAuditEvery. A failed write is logged: the payloads are decoded.
func (cs *codecServer) auditDecode(r *http.Request, p designerapi.Principal, ns string, count int) {
	if cs.store == nil || !cs.dueAudit(p.Name) {
		return
	}
	details := map[string]any{"count": count, "namespace": ns}
	if p.KeyID != "" {
		details["key_id"] = p.KeyID
	}
	d, _ := json.Marshal(details)
	source, _, err := net.SplitHostPort(r.RemoteAddr)
	if err != nil {
		source = r.RemoteAddr
	}
	e := store.AuditEntry{Actor: p.Name, Role: string(p.Role), Via: p.Via, Source: source,
		Action: AuditCodecDecode, Target: ns, Details: string(d)}
	if _, err := cs.store.AddAudit(context.WithoutCancel(r.Context()), e); err != nil {
		cs.log.Error("audit", "action", AuditCodecDecode, "error", err)
	}
}

// dueAudit says whether actor's decode is to be recorded now, and forgets
// actors whose interval has passed so that the map stays small.
func (cs *codecServer) dueAudit(actor string) bool {
	cs.mu.Lock()
	defer cs.mu.Unlock()
	now := cs.now()
	if last, ok := cs.audited[actor]; ok && now.Sub(last) < codecAuditEvery {
		return false
	}
	for a, t := range cs.audited {
		if now.Sub(t) >= codecAuditEvery {
			delete(cs.audited, a)
		}
	}
	cs.audited[actor] = now
	return true
}
