package builtin

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"mime"
	"net/http"
	"net/url"
	"strings"
	"time"

	"github.com/voxflow/voxflow/activities"
)

// MaxResponseBytes bounds what an http node reads: responses are mapped
// into variables that live in workflow history.
const MaxResponseBytes = 256 << 10

// HTTPCaller performs the requests of http nodes.
type HTTPCaller struct {
	Client *http.Client
}

// NewHTTPCaller returns a caller with sane transport defaults.
func NewHTTPCaller() *HTTPCaller {
	return &HTTPCaller{Client: &http.Client{Timeout: 30 * time.Second}}
}

// Do runs one request. A non-2xx status is a non-retryable HTTPStatus
// error (the node's on_error path decides); network errors are retried by
// the engine's policy for idempotent methods.
func (h *HTTPCaller) Do(ctx context.Context, in activities.HTTPInput) (activities.HTTPResult, error) {
	u, err := url.Parse(in.URL)
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		return activities.HTTPResult{}, activities.NewBadInput(fmt.Errorf("http node: bad URL (%d chars, starting %q): want http(s)://host/...", len(in.URL), in.URL[:min(len(in.URL), 8)]))
	}
	if in.Timeout > 0 {
		var cancel context.CancelFunc
		ctx, cancel = context.WithTimeout(ctx, in.Timeout)
		defer cancel()
	}
	var body io.Reader
	if in.Body != "" {
		body = strings.NewReader(in.Body)
	}
	req, err := http.NewRequestWithContext(ctx, in.Method, u.String(), body)
	if err != nil {
		return activities.HTTPResult{}, activities.NewBadInput(fmt.Errorf("http node: build request: %w", err))
	}
	for k, v := range in.Headers {
		req.Header.Set(k, v)
	}
	if in.Body != "" && req.Header.Get("Content-Type") == "" && json.Valid([]byte(in.Body)) {
		req.Header.Set("Content-Type", "application/json")
	}
	resp, err := h.Client.Do(req)
	if err != nil {
		var ue *url.Error // it names the whole URL, query and all
		if errors.As(err, &ue) {
			err = ue.Err
		}
		return activities.HTTPResult{}, fmt.Errorf("%s %s: %w", in.Method, errorURL(u), err)
	}
	defer resp.Body.Close()
	raw, err := io.ReadAll(io.LimitReader(resp.Body, MaxResponseBytes+1))
	if err != nil {
		return activities.HTTPResult{}, fmt.Errorf("%s %s: read body: %w", in.Method, errorURL(u), err)
	}
	if len(raw) > MaxResponseBytes {
		return activities.HTTPResult{}, activities.NewBadInput(fmt.Errorf("%s %s: response larger than %d bytes", in.Method, errorURL(u), MaxResponseBytes))
	}
	res := activities.HTTPResult{Status: resp.StatusCode, Headers: map[string]string{}}
	for k := range resp.Header {
		res.Headers[strings.ToLower(k)] = resp.Header.Get(k)
	}
	res.Body = decodeBody(resp.Header.Get("Content-Type"), raw)
	if resp.StatusCode < 200 || resp.StatusCode > 299 {
		return res, activities.NewHTTPStatus(in.Method, errorURL(u), resp.StatusCode, resp.Status, res)
	}
	return res, nil
}

// decodeBody returns JSON as values expressions can navigate, else text.
func decodeBody(contentType string, raw []byte) any {
	mt, _, _ := mime.ParseMediaType(contentType)
	if mt == "application/json" || strings.HasSuffix(mt, "+json") || (mt == "" && json.Valid(raw)) {
		var v any
		dec := json.NewDecoder(bytes.NewReader(raw))
		if err := dec.Decode(&v); err == nil {
			return v
		}
	}
	return string(raw)
}

// errorURL is u as errors and logs show it: no user info and no query,
// where flows put callers' data (an account or card number). Errors end
// up in worker logs, the call's timeline and its CDR.
func errorURL(u *url.URL) string {
	v := url.URL{Scheme: u.Scheme, Host: u.Host, Path: u.Path}
	if u.RawQuery != "" {
		return v.String() + "?…"
	}
	return v.String()
}
