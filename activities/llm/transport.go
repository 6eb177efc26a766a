package llm

import (
	"context"
	"errors"
	"math"
	"net/http"
	"strconv"
	"strings"
	"time"
)

// responseMeta is what the transport saw of one attempt's response.
// go-openai turns an error response into *openai.APIError and drops its
// headers, so the Retry-After a 429 or 503 carries is caught here.
type responseMeta struct {
	sent       bool // the request reached the transport
	timedOut   bool // the per-request timeout ended it
	status     int
	retryAfter string
	requestID  string
}

type metaKey struct{}

// withMeta returns a context whose requests record their response in m.
func withMeta(ctx context.Context, m *responseMeta) context.Context {
	return context.WithValue(ctx, metaKey{}, m)
}

// metaTransport records, for requests whose context carries a
// *responseMeta, the status and headers of the response.
type metaTransport struct{ next http.RoundTripper }

func (t metaTransport) RoundTrip(req *http.Request) (*http.Response, error) {
	m, _ := req.Context().Value(metaKey{}).(*responseMeta)
	if m != nil {
		m.sent = true
	}
	res, err := t.next.RoundTrip(req)
	if m != nil && res != nil {
		m.status = res.StatusCode
		m.retryAfter = res.Header.Get("Retry-After")
		m.requestID = res.Header.Get("X-Request-Id")
	}
	return res, err
}

// recordingClient returns a copy of hc (nil: a new client) whose transport
// records response metadata. hc's own Timeout is kept; the per-request
// timeout comes from the context.
func recordingClient(hc *http.Client) *http.Client {
	var c http.Client
	if hc != nil {
		c = *hc
	}
	next := c.Transport
	if next == nil {
		next = http.DefaultTransport
	}
	c.Transport = metaTransport{next: next}
	return &c
}

// maxRetryAfter caps a Retry-After: beyond it, it is nonsense for a call
// in progress (and would overflow a time.Duration).
const maxRetryAfter = 24 * time.Hour

// parseRetryAfter reads a Retry-After value: delay seconds (some servers
// send fractions) or an HTTP date, relative to now. It reports false for
// an empty or unreadable value; a date in the past is a zero wait.
func parseRetryAfter(v string, now time.Time) (time.Duration, bool) {
	v = strings.TrimSpace(v)
	if v == "" {
		return 0, false
	}
	if secs, err := strconv.ParseFloat(v, 64); err == nil || errors.Is(err, strconv.ErrRange) {
		// "1e999" is out of range: a huge wait; "Inf" and "NaN" are no numbers.
		if math.IsNaN(secs) || math.IsInf(secs, 0) && err == nil || secs < 0 {
			return 0, false
		}
		return min(time.Duration(min(secs, maxRetryAfter.Seconds())*float64(time.Second)), maxRetryAfter), true
	}
	at, err := http.ParseTime(v)
	if err != nil {
		return 0, false
	}
	return min(max(at.Sub(now), 0), maxRetryAfter), true
}
