package e2e

import (
	"bytes"
	"context"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/voxflow/voxflow/internal/cli"
	"github.com/voxflow/voxflow/media/sipworker/sipptest"
)

// The production commands serve /healthz and /metrics (engine and media
// on --admin-addr, api beside its API on --http), configured here through
// a --config file, the environment and flags.
func TestProductionCommandsServeHealthAndMetrics(t *testing.T) {
	sipptest.Need(t)
	ts, _, dbPath := cliMediaEnv(t)
	engineAdmin, _ := freeAddr(t)
	mediaAdmin, _ := freeAddr(t)
	apiAddr, _ := freeAddr(t)
	conf := filepath.Join(t.TempDir(), "voxflow.yaml")
	yaml := "temporal:\n  address: " + ts.GetFrontendHostPort() + "\n  namespace: " + ts.GetDefaultNamespace() +
		"\nstore: sqlite://" + dbPath + "\nmedia:\n  id: admin-media\n  drain_timeout: 5s\n"
	if err := os.WriteFile(conf, []byte(yaml), 0o644); err != nil {
		t.Fatal(err)
	}
	t.Setenv("VOXFLOW_RECORD_DIR", t.TempDir())
	sipAddr := "127.0.0.1:" + strconv.Itoa(sipptest.FreePort(t))
	run := func(args ...string) (stop func() string) {
		ctx, cancel := context.WithCancel(context.Background())
		var out bytes.Buffer
		exited := make(chan int, 1)
		go func() { exited <- cli.Main(ctx, args, strings.NewReader(""), &out, &out) }()
		return func() string {
			cancel()
			select {
			case code := <-exited:
				if code != 0 {
					t.Errorf("voxflow %s exited %d:\n%s", args[0], code, out.String())
				}
			case <-time.After(20 * time.Second):
				t.Errorf("voxflow %s did not exit", args[0])
			}
			return out.String()
		}
	}
	stopEngine := run("engine", "--config", conf, "--admin-addr", engineAdmin)
	stopMedia := run("media", "--config", conf, "--admin-addr", mediaAdmin, "--sip", sipAddr)
	stopAPI := run("api", "--config", conf, "--http", apiAddr)
	for _, c := range []struct{ name, addr, metric, value string }{
		{"engine", engineAdmin, "go_goroutines", ""},
		{"media", mediaAdmin, "voxflow_sip_live_calls", "0"},
		{"api", apiAddr, "voxflow_text_sessions", "0"},
	} {
		var health string
		waitFor(t, c.name+" /healthz", func() bool {
			code, body := get(t, "http://"+c.addr+"/healthz")
			health = body
			return code == 200
		})
		if health != "ok\n" {
			t.Errorf("%s /healthz: %q", c.name, health)
		}
		code, body := get(t, "http://"+c.addr+"/metrics")
		if v := sampleValue(body, c.metric); code != 200 || v == "" || (c.value != "" && v != c.value) {
			t.Errorf("%s /metrics: %d, want %s %s in:\n%.2000s", c.name, code, c.metric, c.value, body)
		}
	}
	if out := stopAPI(); !strings.Contains(out, "API, designer and console on http://"+apiAddr) {
		t.Errorf("api banner:\n%s", out)
	}
	if out := stopMedia(); !strings.Contains(out, "activities on media-admin-media") || !strings.Contains(out, "/healthz and /metrics on http://"+mediaAdmin) {
		t.Errorf("media banner:\n%s", out)
	}
	stopEngine()
}

// get fetches url; a refused connection is code 0.
func get(t *testing.T, url string) (int, string) {
	t.Helper()
	c := &http.Client{Timeout: 5 * time.Second}
	res, err := c.Get(url)
	if err != nil {
		return 0, err.Error()
	}
	defer res.Body.Close()
	b, _ := io.ReadAll(res.Body)
	return res.StatusCode, string(b)
}

// A bad setting stops a production command before it starts, naming the
// key and where the value came from.
func TestProductionCommandsRejectBadConfig(t *testing.T) {
	conf := filepath.Join(t.TempDir(), "voxflow.yaml")
	if err := os.WriteFile(conf, []byte("media:\n  rtp_port: 10000-20000\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	cases := []struct {
		args []string
		want string
	}{
		{[]string{"media", "--config", conf}, conf + ":2:3: media.rtp_port: unknown setting (did you mean media.rtp_ports?)"},
		{[]string{"media", "--store", "sqlite:///x.db", "--rtp-ports", "9-3"}, "media.rtp_ports (from --rtp-ports): want START-END"},
		{[]string{"media"}, "store is required (--store or $VOXFLOW_STORE)"},
		{[]string{"engine", "--temporal", "nohost"}, `temporal.address (from --temporal): want host:port, got "nohost"`},
	}
	for _, c := range cases {
		var out bytes.Buffer
		code := cli.Main(context.Background(), c.args, strings.NewReader(""), &out, &out)
		if code == 0 || !strings.Contains(out.String(), c.want) {
			t.Errorf("voxflow %s: exit %d, output %q; want non-zero and %q", strings.Join(c.args, " "), code, out.String(), c.want)
		}
	}
}
