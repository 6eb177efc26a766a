package config

import (
	"errors"
	"flag"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/spf13/pflag"
)

var update = flag.Bool("update", false, "rewrite the golden files")

// load binds keys on a fresh flag set, parses args and loads with env.
func load(t *testing.T, env map[string]string, args []string, keys ...string) (Config, error) {
	t.Helper()
	fs := pflag.NewFlagSet("test", pflag.ContinueOnError)
	f := Bind(fs, keys...)
	if err := fs.Parse(args); err != nil {
		return Config{}, err
	}
	return f.load(func(k string) (string, bool) { v, ok := env[k]; return v, ok })
}

func writeFile(t *testing.T, text string) string {
	t.Helper()
	p := filepath.Join(t.TempDir(), "voxflow.yaml")
	if err := os.WriteFile(p, []byte(text), 0o644); err != nil {
		t.Fatal(err)
	}
	return p
}

// Defaults, then the file, then the environment, then flags.
func TestPrecedence(t *testing.T) {
	file := writeFile(t, `
temporal:
  address: file:7233
  namespace: from-file
media:
  sip: ":5070"
  drain_timeout: 90s
  registrar: false
  vars:
    crm_url: http://crm.file/api
    tier: gold
store: sqlite:///file.db
`)
	env := map[string]string{"TEMPORAL_NAMESPACE": "from-env", "VOXFLOW_SIP": ":5080", "VOXFLOW_STORE": "sqlite:///env.db"}
	args := []string{"--config", file, "--sip", ":5090", "--var", "tier=platinum,region=eu"}
	c, err := load(t, env, args, "temporal.address", "temporal.namespace", "media.sip", "media.vars", "store")
	if err != nil {
		t.Fatal(err)
	}
	want := []struct{ key, got, want, origin string }{
		{"temporal.address", c.Temporal.Address, "file:7233", file + ":3:12"},
		{"temporal.namespace", c.Temporal.Namespace, "from-env", "$TEMPORAL_NAMESPACE"},
		{"media.sip", c.Media.SIPAddr, ":5090", "--sip"},
		{"store", c.Store, "sqlite:///env.db", "$VOXFLOW_STORE"},
		{"dev.http", c.Dev.HTTPAddr, DefaultHTTPAddr, "default"},
	}
	for _, w := range want {
		if w.got != w.want || c.Origin(w.key) != w.origin {
			t.Errorf("%s = %q from %s, want %q from %s", w.key, w.got, c.Origin(w.key), w.want, w.origin)
		}
	}
	if c.Media.DrainTimeout != 90*time.Second || c.Media.Registrar {
		t.Errorf("drain %s registrar %v, want 90s false from the file", c.Media.DrainTimeout, c.Media.Registrar)
	}
	wantVars := map[string]string{"crm_url": "http://crm.file/api", "tier": "platinum", "region": "eu"}
	if len(c.Media.Vars) != len(wantVars) {
		t.Fatalf("vars = %v, want %v", c.Media.Vars, wantVars)
	}
	for k, v := range wantVars {
		if c.Media.Vars[k] != v {
			t.Errorf("vars[%s] = %q, want %q", k, c.Media.Vars[k], v)
		}
	}
}

func TestDefaultsValidate(t *testing.T) {
	if err := Defaults().Validate(); err != nil {
		t.Fatal(err)
	}
}

// Bad input: each error names the key and where the value came from
// (golden file testdata/errors.golden).
func TestErrors(t *testing.T) {
	cases := []struct {
		name string
		file string
		env  map[string]string
		args []string
	}{
		{name: "unknown key with suggestion", file: "media:\n  sipp: \":5060\"\n"},
		{name: "unknown top-level key", file: "colour: blue\n"},
		{name: "bad duration in file", file: "media:\n  drain_timeout: soon\n"},
		{name: "mapping for a scalar", file: "store:\n  dsn: x\n"},
		{name: "scalar for vars", file: "media:\n  vars: crm\n"},
		{name: "bad bool in env", env: map[string]string{"VOXFLOW_REGISTRAR": "maybe"}},
		{name: "bad rtp ports from flag", args: []string{"--rtp-ports", "20000-10000"}},
		{name: "bad sip address from env", env: map[string]string{"VOXFLOW_SIP": "5060"}},
		{name: "tls cert without key", args: []string{"--tls-cert", "cert.pem"}},
		{name: "trunk password without trunk", env: map[string]string{"VOXFLOW_TRUNK_PASSWORD": "s3cret"}},
		{name: "several problems", args: []string{"--temporal", ":7233", "--drain-timeout", "0s"}},
		{name: "bad flag value", args: []string{"--temporal-port", "http"}},
		{name: "temporal client cert without key", env: map[string]string{"TEMPORAL_TLS_CLIENT_CERT_PATH": "client.pem"}},
		{name: "temporal cert as path and data", args: []string{"--tls-cert-path", "c.pem", "--tls-cert-data", "PEM", "--tls-key-path", "k.pem"}},
		{name: "api key with tls off", args: []string{"--tls=false"}, env: map[string]string{"TEMPORAL_API_KEY": "k"}},
	}
	var out strings.Builder
	for _, tc := range cases {
		args, dir := tc.args, ""
		if tc.file != "" {
			path := writeFile(t, tc.file)
			dir = filepath.Dir(path)
			args = append([]string{"--config", path}, args...)
		}
		_, err := load(t, tc.env, args, "temporal.address", "media.rtp_ports", "media.tls_cert", "media.drain_timeout", "dev.temporal_port",
			"temporal.tls", "temporal.tls_cert_path", "temporal.tls_cert_data", "temporal.tls_key_path")
		if err == nil {
			t.Errorf("%s: no error", tc.name)
			continue
		}
		if tc.name != "bad flag value" && !errors.Is(err, ErrInvalid) {
			t.Errorf("%s: %v does not wrap ErrInvalid", tc.name, err)
		}
		msg := err.Error()
		if dir != "" {
			msg = strings.ReplaceAll(msg, dir, "DIR")
		}
		out.WriteString("# " + tc.name + "\n" + msg + "\n\n")
	}
	golden := filepath.Join("testdata", "errors.golden")
	if *update {
		if err := os.WriteFile(golden, []byte(out.String()), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	want, err := os.ReadFile(golden)
	if err != nil {
		t.Fatal(err)
	}
	if out.String() != string(want) {
		t.Errorf("errors differ from %s (run with -update to accept):\n%s", golden, out.String())
	}
}

// TLS to Temporal is on when asked, and by itself with an API key or a
// client certificate, unless turned off; older flag names still work.
func TestTemporalTLS(t *testing.T) {
	keys := []string{"temporal.address", "temporal.tls", "temporal.api_key", "temporal.tls_cert_path", "temporal.tls_key_path", "media.tls_cert"}
	cases := []struct {
		name string
		env  map[string]string
		args []string
		tls  bool
	}{
		{name: "plain", tls: false},
		{name: "asked", args: []string{"--tls"}, tls: true},
		{name: "api key", env: map[string]string{"TEMPORAL_API_KEY": "k"}, tls: true},
		{name: "mtls", args: []string{"--tls-cert-path", "c.pem", "--tls-key-path", "k.pem"}, tls: true},
		{name: "env off", env: map[string]string{"TEMPORAL_TLS": "false"}, tls: false},
	}
	for _, tc := range cases {
		c, err := load(t, tc.env, tc.args, keys...)
		if err != nil {
			t.Fatalf("%s: %v", tc.name, err)
		}
		if got := c.Temporal.UseTLS(); got != tc.tls {
			t.Errorf("%s: UseTLS = %v, want %v", tc.name, got, tc.tls)
		}
	}
	c, err := load(t, nil, []string{"--temporal", "tmp.example:7233", "--tls-cert", "sip.pem"}, keys...)
	if err == nil || c.Temporal.Address != "tmp.example:7233" || c.Origin("temporal.address") != "--temporal" {
		t.Errorf("alias --temporal: address %q from %s", c.Temporal.Address, c.Origin("temporal.address"))
	}
	if err == nil || !strings.Contains(err.Error(), "media.tls_cert (from --tls-cert)") {
		t.Errorf("alias --tls-cert: err = %v", err)
	}
}

// A flag value that does not parse fails when the command line is parsed.
func TestFlagParseError(t *testing.T) {
	_, err := load(t, nil, []string{"--drain-timeout", "soon"}, "media.drain_timeout")
	if err == nil || !strings.Contains(err.Error(), "want a duration") {
		t.Fatalf("err = %v", err)
	}
}

func TestRequire(t *testing.T) {
	c := Defaults()
	err := c.Require("store", c.Store, "the media worker finds the flow of each dialled number there")
	if !errors.Is(err, ErrInvalid) || !strings.Contains(err.Error(), "store is required (--store or $VOXFLOW_STORE)") {
		t.Fatalf("err = %v", err)
	}
}

// sharedFlags name one thing in two commands that never bind both keys:
// --http is dev.http for `voxflow dev` and api.http for `voxflow api`.
var sharedFlags = map[string]bool{"flag http": true}

// Every key is unique and has a flag and an environment variable.
func TestTable(t *testing.T) {
	var c Config
	seen := map[string]bool{}
	for _, s := range c.settings() {
		for _, name := range []string{"key " + s.key, "flag " + s.flag, "env " + s.env} {
			if seen[name] && !sharedFlags[name] {
				t.Errorf("duplicate %s", name)
			}
			seen[name] = true
		}
		if s.flag == "" || s.env == "" || s.usage == "" {
			t.Errorf("%s: missing flag, env or usage", s.key)
		}
	}
}
