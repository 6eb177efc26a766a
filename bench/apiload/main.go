// Command apiload is a small HTTP load generator for the voxflow designer
// API: C concurrent workers send a fixed number of requests to one endpoint
// at a time and it reports p50/p99/mean latency and requests per second.
// It is run as a separate process (on loopback) by BenchmarkDesignerAPI in
// bench/designer_test.go, which parses its JSON lines, and can be pointed
// at any running `voxflow dev`:
//
//	VOXFLOW_API_KEY=vfk_... go run ./bench/apiload -url http://127.0.0.1:8080 \
//	    -endpoints flow-get,validate,publish,calls-list -n 1000 -c 8
//
// Endpoints (flows are named <prefix>NNNN, NNNN in 0..flows-1):
//
//	flow-get    GET  /api/v1/flows/{name}            (random flow)
//	validate    POST /api/v1/flows/validate          (source of <prefix>0000)
//	publish     POST /api/v1/flows/{name}/publish    (each worker owns its own
//	            flows; before every publish it saves a draft with a new
//	            trailing comment, PUT /flows/{name}/draft, timed separately as
//	            draft-save, so every publish makes a new version)
//	calls-list  GET  /api/v1/calls?limit=100          (Temporal visibility;
//	            -calls-limit changes the limit)
//	cdr-search  GET  /api/v1/cdrs?limit=50            (newest CDRs)
//	flow-list   GET  /api/v1/flows?limit=100
//
// Every run is bounded by -n requests and by -timeout. Output: a table on
// stderr and one JSON object per endpoint on stdout.
package main

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"math"
	"math/rand/v2"
	"net/http"
	"os"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"time"
)

// Result is one endpoint's figures (one JSON line on stdout).
type Result struct {
	Endpoint    string  `json:"endpoint"`
	Concurrency int     `json:"concurrency"`
	Requests    int     `json:"requests"`
	Errors      int     `json:"errors"`
	FirstError  string  `json:"first_error,omitempty"`
	P50MS       float64 `json:"p50_ms"`
	P99MS       float64 `json:"p99_ms"`
	MeanMS      float64 `json:"mean_ms"`
	MaxMS       float64 `json:"max_ms"`
	ReqPerSec   float64 `json:"req_per_s"`
	WallS       float64 `json:"wall_s"`
	// Draft-save figures (publish only: the PUT before each publish).
	SaveP50MS float64 `json:"save_p50_ms,omitempty"`
	SaveP99MS float64 `json:"save_p99_ms,omitempty"`
	// Bytes is the mean response body size.
	Bytes int `json:"bytes"`
}

type loader struct {
	base, key, prefix string
	flows, callsLimit int
	client            *http.Client
	validateBody      []byte
}

func main() {
	var (
		base      = flag.String("url", "http://127.0.0.1:8080", "voxflow base URL")
		endpoints = flag.String("endpoints", "flow-get,validate,publish,calls-list", "comma-separated endpoints, run one after another")
		n         = flag.Int("n", 1000, "requests per endpoint")
		c         = flag.Int("c", 8, "concurrent workers")
		flows     = flag.Int("flows", 1000, "number of seeded flows")
		prefix    = flag.String("prefix", "bench-flow-", "seeded flow name prefix")
		timeout   = flag.Duration("timeout", 2*time.Minute, "time limit per endpoint (stops early, reports what was done)")
		warmup    = flag.Int("warmup", 10, "untimed requests per endpoint before measuring")
		callLimit = flag.Int("calls-limit", 100, "limit query parameter of calls-list")
	)
	flag.Parse()
	key := os.Getenv("VOXFLOW_API_KEY")
	if key == "" {
		fmt.Fprintln(os.Stderr, "apiload: set VOXFLOW_API_KEY (an API key, vfk_...)")
		os.Exit(2)
	}
	if *n < 1 || *c < 1 || *flows < 1 {
		fmt.Fprintln(os.Stderr, "apiload: -n, -c and -flows must be positive")
		os.Exit(2)
	}
	l := &loader{
		base: strings.TrimRight(*base, "/"), key: key, prefix: *prefix, flows: *flows, callsLimit: *callLimit,
		client: &http.Client{Timeout: 30 * time.Second, Transport: &http.Transport{
			MaxIdleConns: *c * 2, MaxIdleConnsPerHost: *c * 2, IdleConnTimeout: time.Minute,
		}},
	}
	enc := json.NewEncoder(os.Stdout)
	fmt.Fprintf(os.Stderr, "%-11s %4s %6s %5s %9s %9s %9s %9s %9s\n", "endpoint", "c", "n", "err", "p50 ms", "p99 ms", "mean ms", "max ms", "req/s")
	failed := false
	for _, ep := range strings.Split(*endpoints, ",") {
		ep = strings.TrimSpace(ep)
		if ep == "" {
			continue
		}
		r, err := l.run(ep, *n, *c, *warmup, *timeout)
		if err != nil {
			fmt.Fprintf(os.Stderr, "apiload: %s: %v\n", ep, err)
			failed = true
			continue
		}
		fmt.Fprintf(os.Stderr, "%-11s %4d %6d %5d %9.2f %9.2f %9.2f %9.2f %9.1f\n",
			ep, r.Concurrency, r.Requests, r.Errors, r.P50MS, r.P99MS, r.MeanMS, r.MaxMS, r.ReqPerSec)
		if r.FirstError != "" {
			fmt.Fprintf(os.Stderr, "  first error: %s\n", r.FirstError)
		}
		if err := enc.Encode(r); err != nil {
			failed = true
		}
	}
	if failed {
		os.Exit(1)
	}
}

func (l *loader) flowName(i int) string { return fmt.Sprintf("%s%04d", l.prefix, i) }

// do sends one request and reads the whole body; it returns the body, the
// ETag header and an error for transport failures and non-2xx answers.
func (l *loader) do(ctx context.Context, method, path string, body []byte, hdr ...string) ([]byte, string, error) {
	var rd io.Reader
	if body != nil {
		rd = bytes.NewReader(body)
	}
	req, err := http.NewRequestWithContext(ctx, method, l.base+path, rd)
	if err != nil {
		return nil, "", err
	}
	req.Header.Set("Authorization", "Bearer "+l.key)
	req.Header.Set("Accept", "application/json")
	if body != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	for i := 0; i+1 < len(hdr); i += 2 {
		req.Header.Set(hdr[i], hdr[i+1])
	}
	resp, err := l.client.Do(req)
	if err != nil {
		return nil, "", err
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		return nil, "", err
	}
	if resp.StatusCode/100 != 2 {
		return b, "", fmt.Errorf("%s %s: %d %s", method, path, resp.StatusCode, truncate(string(b), 200))
	}
	return b, resp.Header.Get("ETag"), nil
}

func truncate(s string, n int) string {
	if len(s) <= n {
		return s
	}
	return s[:n] + "..."
}

// flowState is what a publish worker knows about one of its flows.
type flowState struct {
	source string // the published source without bench comments
	etag   string // the current draft's ETag ("" when it has none)
}

type flowDetail struct {
	Draft *struct {
		Source string `json:"source"`
	} `json:"draft"`
	Published *struct {
		Source string `json:"source"`
	} `json:"published"`
}

// getFlow reads a flow's published source and its draft's ETag.
func (l *loader) getFlow(ctx context.Context, name string) (flowState, error) {
	b, etag, err := l.do(ctx, http.MethodGet, "/api/v1/flows/"+name, nil)
	if err != nil {
		return flowState{}, err
	}
	var d flowDetail
	if err := json.Unmarshal(b, &d); err != nil {
		return flowState{}, fmt.Errorf("get %s: %w", name, err)
	}
	st := flowState{etag: etag}
	switch {
	case d.Published != nil:
		st.source = d.Published.Source
	case d.Draft != nil:
		st.source = d.Draft.Source
	default:
		return st, fmt.Errorf("flow %s has no source", name)
	}
	return st, nil
}

// opResult is one request's outcome. lat is set by ops that time only part
// of their work (publish); otherwise the caller times the whole op.
type opResult struct {
	bytes     int
	lat, save time.Duration
	err       error
}

// op is one request of an endpoint, made by worker w (its i-th).
type op func(ctx context.Context, w, i int) opResult

func (l *loader) get(path string) op {
	return func(ctx context.Context, w, i int) opResult {
		b, _, err := l.do(ctx, http.MethodGet, path, nil)
		return opResult{bytes: len(b), err: err}
	}
}

func (l *loader) op(ctx context.Context, ep string, c int) (op, error) {
	switch ep {
	case "flow-get":
		return func(ctx context.Context, w, i int) opResult {
			b, _, err := l.do(ctx, http.MethodGet, "/api/v1/flows/"+l.flowName(rand.IntN(l.flows)), nil)
			return opResult{bytes: len(b), err: err}
		}, nil
	case "flow-list":
		return l.get("/api/v1/flows?limit=100"), nil
	case "calls-list":
		return l.get(fmt.Sprintf("/api/v1/calls?limit=%d", l.callsLimit)), nil
	case "cdr-search":
		return l.get("/api/v1/cdrs?limit=50"), nil
	case "validate":
		st, err := l.getFlow(ctx, l.flowName(0))
		if err != nil {
			return nil, err
		}
		body, _ := json.Marshal(map[string]string{"source": st.source})
		return func(ctx context.Context, w, i int) opResult {
			b, _, err := l.do(ctx, http.MethodPost, "/api/v1/flows/validate", body)
			if err == nil && !bytes.Contains(b, []byte(`"valid":true`)) {
				err = fmt.Errorf("validate: flow not valid: %s", truncate(string(b), 200))
			}
			return opResult{bytes: len(b), err: err}
		}, nil
	case "publish":
		if c > l.flows {
			return nil, errors.New("publish: more workers than flows")
		}
		// Worker w owns flows w, w+c, w+2c, ...: no two workers edit one flow.
		states := make([]map[string]*flowState, c)
		for w := range states {
			states[w] = map[string]*flowState{}
		}
		var seq atomic.Int64
		return func(ctx context.Context, w, i int) opResult {
			owned := (l.flows - w + c - 1) / c
			name := l.flowName(w + c*(i%owned))
			st := states[w][name]
			if st == nil {
				s, err := l.getFlow(ctx, name)
				if err != nil {
					return opResult{err: err}
				}
				st = &s
				states[w][name] = st
			}
			src := fmt.Sprintf("%s\n# apiload publish %d\n", strings.TrimRight(st.source, "\n"), seq.Add(1))
			body, _ := json.Marshal(map[string]string{"source": src})
			var hdr []string
			if st.etag != "" {
				hdr = []string{"If-Match", st.etag}
			}
			t0 := time.Now()
			_, etag, err := l.do(ctx, http.MethodPut, "/api/v1/flows/"+name+"/draft", body, hdr...)
			r := opResult{save: time.Since(t0)}
			if err != nil {
				delete(states[w], name) // re-read it next time
				r.err = fmt.Errorf("save draft: %w", err)
				return r
			}
			t1 := time.Now()
			b, _, err := l.do(ctx, http.MethodPost, "/api/v1/flows/"+name+"/publish", []byte(`{"note":"apiload"}`), "If-Match", etag)
			r.lat, r.bytes, r.err = time.Since(t1), len(b), err
			st.etag = "" // publishing removes the draft
			if err != nil {
				delete(states[w], name)
			} else if bytes.Contains(b, []byte(`"unchanged":true`)) {
				r.err = errors.New("publish answered unchanged")
			}
			return r
		}, nil
	}
	return nil, fmt.Errorf("unknown endpoint %q (want flow-get, validate, publish, calls-list, cdr-search or flow-list)", ep)
}

func (l *loader) run(ep string, n, c, warmup int, timeout time.Duration) (Result, error) {
	ctx, cancel := context.WithTimeout(context.Background(), timeout)
	defer cancel()
	f, err := l.op(ctx, ep, c)
	if err != nil {
		return Result{}, err
	}
	// Untimed warm-up (connections, caches), spread over the workers.
	for i := range warmup {
		if r := f(ctx, i%c, i/c); r.err != nil {
			return Result{}, fmt.Errorf("warm-up: %w", r.err)
		}
	}
	samples := make([]opResult, n)
	done := make([]bool, n)
	var next atomic.Int64
	var wg sync.WaitGroup
	start := time.Now()
	for w := range c {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for k := warmup/c + 1; ; k++ {
				i := int(next.Add(1)) - 1
				if i >= n || ctx.Err() != nil {
					return
				}
				t0 := time.Now()
				r := f(ctx, w, k)
				if r.lat == 0 {
					r.lat = time.Since(t0)
				}
				samples[i], done[i] = r, true
			}
		}()
	}
	wg.Wait()
	wall := time.Since(start)

	res := Result{Endpoint: ep, Concurrency: c, WallS: wall.Seconds()}
	var lats, saves []time.Duration
	var sum time.Duration
	size := 0
	for i, r := range samples {
		if !done[i] {
			continue
		}
		res.Requests++
		if r.err != nil {
			res.Errors++
			if res.FirstError == "" {
				res.FirstError = r.err.Error()
			}
			continue
		}
		lats = append(lats, r.lat)
		sum += r.lat
		size += r.bytes
		if r.save > 0 {
			saves = append(saves, r.save)
		}
	}
	if len(lats) == 0 {
		return res, fmt.Errorf("no successful request (%d errors): %s", res.Errors, res.FirstError)
	}
	slices.Sort(lats)
	slices.Sort(saves)
	res.P50MS, res.P99MS = pct(lats, 0.50), pct(lats, 0.99)
	res.MeanMS = ms(sum) / float64(len(lats))
	res.MaxMS = ms(lats[len(lats)-1])
	res.ReqPerSec = float64(res.Requests) / wall.Seconds()
	res.Bytes = size / len(lats)
	if len(saves) > 0 {
		res.SaveP50MS, res.SaveP99MS = pct(saves, 0.50), pct(saves, 0.99)
	}
	return res, nil
}

func ms(d time.Duration) float64 { return float64(d) / float64(time.Millisecond) }

// pct is the nearest-rank percentile of sorted durations, in ms.
func pct(sorted []time.Duration, p float64) float64 {
	k := int(math.Ceil(p*float64(len(sorted)))) - 1
	k = max(0, min(k, len(sorted)-1))
	return ms(sorted[k])
}
