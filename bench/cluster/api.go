package main

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/http/cookiejar"
	"net/url"
	"os"
	"path/filepath"
	"regexp"
	"time"
)

// apiClient talks to the cluster's designer API (api-1) with a signed-in
// session: the benchmark publishes its flow and reads call records
// through what the cluster offers, not through its database.
type apiClient struct {
	base string // http://host:port/api/v1
	http *http.Client
}

// firstAdmin matches the line api-1 logs on an empty store.
var firstAdmin = regexp.MustCompile(`First start: sign in as (\S+) / (\S+) `)

// signIn signs in as user/password, or, when user is empty, as the first
// admin whose password api-1 logged (`cluster up` prints it too).
func signIn(ctx context.Context, base, clusterDir, user, password string) (*apiClient, error) {
	if user == "" {
		b, err := os.ReadFile(filepath.Join(clusterDir, "logs", "api-1.log"))
		if err != nil {
			return nil, fmt.Errorf("first admin's password: %w", err)
		}
		m := firstAdmin.FindSubmatch(b)
		if m == nil {
			return nil, errors.New("api-1's log names no first admin: pass -user and -password")
		}
		user, password = string(m[1]), string(m[2])
	}
	jar, _ := cookiejar.New(nil)
	c := &apiClient{base: base + "/api/v1", http: &http.Client{Jar: jar, Timeout: 60 * time.Second}}
	if _, err := c.do(ctx, http.MethodPost, "/session", map[string]string{"username": user, "password": password}, nil); err != nil {
		return nil, fmt.Errorf("sign in as %s: %w", user, err)
	}
	return c, nil
}

// do sends a JSON request; a status outside 2xx is an error holding the
// answer. out, when not nil, receives the decoded body.
func (c *apiClient) do(ctx context.Context, method, path string, body, out any) (int, error) {
	var rd io.Reader
	if body != nil {
		b, err := json.Marshal(body)
		if err != nil {
			return 0, fmt.Errorf("encode %s %s: %w", method, path, err)
		}
		rd = bytes.NewReader(b)
	}
	req, err := http.NewRequestWithContext(ctx, method, c.base+path, rd)
	if err != nil {
		return 0, fmt.Errorf("%s %s: %w", method, path, err)
	}
	if body != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	// A cookie-authenticated change must come from the API's own origin
	// (the CSRF check), as a browser's would.
	req.Header.Set("Origin", req.URL.Scheme+"://"+req.URL.Host)
	res, err := c.http.Do(req)
	if err != nil {
		return 0, fmt.Errorf("%s %s: %w", method, path, err)
	}
	defer res.Body.Close()
	b, err := io.ReadAll(res.Body)
	if err != nil {
		return res.StatusCode, fmt.Errorf("%s %s: read answer: %w", method, path, err)
	}
	if res.StatusCode/100 != 2 {
		return res.StatusCode, fmt.Errorf("%s %s: %s: %s", method, path, res.Status, bytes.TrimSpace(b))
	}
	if out != nil {
		if err := json.Unmarshal(b, out); err != nil {
			return res.StatusCode, fmt.Errorf("%s %s: decode answer: %w", method, path, err)
		}
	}
	return res.StatusCode, nil
}

// publishFlow saves source as the flow's draft (creating the flow the
// first time), publishes it and binds number to it. Publishing the same
// source again makes no new version.
func (c *apiClient) publishFlow(ctx context.Context, name, source, number string) error {
	src := map[string]string{"source": source}
	code, err := c.do(ctx, http.MethodPost, "/flows", src, nil)
	if code == http.StatusConflict { // flow exists from an earlier run: replace its draft
		_, err = c.do(ctx, http.MethodPut, "/flows/"+url.PathEscape(name)+"/draft", src, nil)
	}
	if err != nil {
		return fmt.Errorf("save flow %s: %w", name, err)
	}
	if _, err := c.do(ctx, http.MethodPost, "/flows/"+url.PathEscape(name)+"/publish",
		map[string]string{"note": "bench/cluster"}, nil); err != nil {
		return fmt.Errorf("publish flow %s: %w", name, err)
	}
	if _, err := c.do(ctx, http.MethodPut, "/numbers/"+url.PathEscape(number), map[string]string{"flow": name}, nil); err != nil {
		return fmt.Errorf("bind %s to %s: %w", number, name, err)
	}
	return nil
}

// cdr is the part of a call record the benchmark reads.
type cdr struct {
	From      string        `json:"from"`
	Outcome   string        `json:"outcome"`
	StartedAt time.Time     `json:"started_at"`
	Duration  time.Duration `json:"duration"`
}

// cdrs exports the flow's call records started in [after, before).
func (c *apiClient) cdrs(ctx context.Context, flow string, after, before time.Time) ([]cdr, error) {
	q := url.Values{"format": {"json"}, "flow": {flow}, "max": {"100000"},
		"started_after": {after.UTC().Format(time.RFC3339Nano)}, "started_before": {before.UTC().Format(time.RFC3339Nano)}}
	var out []cdr
	if _, err := c.do(ctx, http.MethodGet, "/cdrs/export?"+q.Encode(), nil, &out); err != nil {
		return nil, fmt.Errorf("export CDRs: %w", err)
	}
	return out, nil
}

// waitCDRs polls until the flow has at least want records in the window,
// or until their count stops growing for settle; it returns the last read.
func (c *apiClient) waitCDRs(ctx context.Context, flow string, after, before time.Time, want int, settle time.Duration) ([]cdr, error) {
	var last []cdr
	grew := time.Now()
	for {
		got, err := c.cdrs(ctx, flow, after, before)
		if err != nil {
			return nil, err
		}
		if len(got) > len(last) {
			grew = time.Now()
		}
		last = got
		if len(got) >= want || time.Since(grew) > settle {
			return last, nil
		}
		select {
		case <-ctx.Done():
			return last, ctx.Err()
		case <-time.After(500 * time.Millisecond):
		}
	}
}
