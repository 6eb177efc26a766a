// Package config is the configuration of voxflow's processes (`voxflow
// dev`, `engine`, `media`): one struct, one table of settings, and one
// order of precedence: defaults, then an optional YAML file (--config),
// then environment variables, then command-line flags, then Validate. Each
// default is one constant here; every error names the setting's key (and
// for a file, its line and column).
package config

import (
	"errors"
	"fmt"
	"net"
	"strconv"
	"strings"
	"time"
)

// Defaults. Each is used by every command that has the setting.
const (
	DefaultTemporalAddress = "127.0.0.1:7233"
	DefaultTemporalPort    = 7233
	DefaultNamespace       = "default"
	DefaultHTTPAddr        = ":8080"
	DefaultSIPAddr         = ":5060"
	DefaultDataDir         = "./voxflow-data"
	DefaultDrainTimeout    = 5 * time.Minute
	// DevWorkerID is the media worker ID of `voxflow dev` (queue media-dev).
	DevWorkerID = "dev"
	// SIPOff as media.sip runs no SIP media worker (voxflow dev only).
	SIPOff = "off"
)

// Config is everything a voxflow process can be told.
type Config struct {
	Temporal Temporal
	// Store is the store DSN: sqlite:///path or postgres://...
	Store string
	// AdminAddr serves /healthz and /metrics (engine, media); empty: off.
	AdminAddr string
	// Verbose logs at debug level.
	Verbose bool
	Dev     Dev
	API     API
	Media   Media
	AI      AI

	// EngineCompat is the last engine change an engine worker may record
	// in calls (a rolling upgrade's first step, docs/upgrades.md); empty: all.
	EngineCompat string

	// LogFormat is how a process logs: LogText or LogJSON.
	LogFormat string
	// Telemetry configures traces (metrics are always on /metrics).
	Telemetry Telemetry

	// Codec encrypts Temporal payloads; Retention deletes old records.
	Codec     Codec
	Retention Retention

	// origins records where each setting that is not a default came from.
	origins map[string]string
}

// Temporal is where the Temporal frontend is and how to reach it: plain,
// TLS, mTLS (a client certificate) or an API key (Temporal Cloud). The
// names follow the Temporal CLI's flags and environment variables.
type Temporal struct {
	Address   string
	Namespace string
	APIKey    string
	// TLS turns TLS on; an API key or a client certificate turns it on
	// unless temporal.tls is set to false explicitly.
	TLS                        bool
	TLSCertPath, TLSKeyPath    string
	TLSCAPath                  string
	TLSCertData, TLSKeyData    string
	TLSCAData                  string
	TLSServerName              string
	TLSDisableHostVerification bool
	tlsSet                     bool // temporal.tls was given, not defaulted
}

// Dev is `voxflow dev`'s own settings.
type Dev struct {
	DataDir string
	// TemporalPort is the embedded Temporal frontend's port on 127.0.0.1.
	TemporalPort int
	// HTTPAddr serves the API, designer, console, /healthz, /metrics.
	HTTPAddr string
}

// API is `voxflow api`'s own settings.
type API struct {
	// HTTPAddr serves the API, designer, console, /healthz and /metrics.
	HTTPAddr string
	// SecureCookie marks the session cookie Secure: set it when browsers
	// reach the API over HTTPS (a TLS-terminating load balancer).
	SecureCookie bool
	// TLSCert and TLSKey serve HTTPS (voxflow dev and voxflow api).
	TLSCert, TLSKey string
	// SigninFailures wrong passwords lock an account out for
	// SigninLockout, doubling each time up to an hour.
	SigninFailures int
	SigninLockout  time.Duration
	// Origins are other origins allowed to make cookie-authenticated
	// changes (comma-separated); the API's own is always allowed.
	Origins string
}

// Media is a SIP media worker's settings.
type Media struct {
	// ID names the worker; its task queue is media-<ID>. Default: the
	// hostname (`voxflow media`), DevWorkerID (`voxflow dev`).
	ID           string
	SIPAddr      string
	TLSCert      string
	TLSKey       string
	TLSAddr      string
	ExternalHost string
	// RTPPorts is START-END; empty leaves ephemeral ports.
	RTPPorts  string
	RecordDir string
	PromptDir string
	// Vars are given to every call (e.g. crm_url).
	Vars         map[string]string
	DrainTimeout time.Duration
	Trunk        Trunk
	// From is the caller ID of outbound calls that give none.
	From      string
	Registrar bool
	// Realm is the registrar's digest realm; empty: registrar.DefaultRealm.
	Realm string
	// WebRTC configures browsers' calls (agents' desktops, the web widget).
	WebRTC WebRTC
	// Guard bans scanners and sheds floods.
	Guard SIPGuard
}

// WebRTC configures the browser channels' network.
type WebRTC struct {
	// ICEServers are comma-separated stun:/turn:/turns: URLs, handed to
	// browsers too; empty: host candidates only (loopback, LAN).
	ICEServers                 string
	ICEUsername, ICECredential string
	// PublicIPs (comma-separated) replace the interfaces' addresses in our
	// candidates (a worker behind 1:1 NAT).
	PublicIPs string
	// UDPPorts is START-END for ICE; empty: ephemeral.
	UDPPorts string
	// Origins (comma-separated host patterns) may embed the web widget.
	Origins string
}

// List splits a comma-separated setting, dropping empty pieces.
func List(s string) []string {
	var out []string
	for _, p := range strings.Split(s, ",") {
		if p = strings.TrimSpace(p); p != "" {
			out = append(out, p)
		}
	}
	return out
}

// UDPRange is media.webrtc.udp_ports as numbers; 0, 0 when it is empty.
func (w WebRTC) UDPRange() (start, end int, err error) {
	return portRange(w.UDPPorts)
}

// AI configures models: an OpenAI-compatible endpoint for intent and llm
// nodes and call summaries, and optionally for transcription and voices.
// Empty LLMURL runs everything offline. The API key is read only from
// $VOXFLOW_LLM_API_KEY or KeyFile, never from flags or files of settings.
type AI struct {
	LLMURL string
	// API is "openai" (default) or "azure"; APIVersion Azure's.
	API, APIVersion string
	Model           string
	Timeout         time.Duration
	// JSONMode is how structured answers are asked for: json_schema
	// (default), tool or json_object (for servers without the first).
	JSONMode string
	KeyFile  string
	// TranscribeModel, when set, transcribes free speech through the
	// endpoint's audio/transcriptions (e.g. whisper-1) instead of offline.
	TranscribeModel string
	// TTSModel, when set, voices prompts through audio/speech (e.g.
	// tts-1) with TTSVoice, instead of espeak-ng.
	TTSModel, TTSVoice string
}

// Trunk is the SIP trunk for outbound calls to bare numbers.
type Trunk struct {
	URI, User, Password string
}

// Defaults returns the configuration before any file, variable or flag.
func Defaults() Config {
	return Config{
		Temporal: Temporal{Address: DefaultTemporalAddress, Namespace: DefaultNamespace},
		Dev:      Dev{DataDir: DefaultDataDir, TemporalPort: DefaultTemporalPort, HTTPAddr: DefaultHTTPAddr},
		API: API{HTTPAddr: DefaultHTTPAddr, SigninFailures: DefaultSigninFailures,
			SigninLockout: DefaultSigninLockout},
		Media: Media{
			SIPAddr: DefaultSIPAddr, DrainTimeout: DefaultDrainTimeout,
			Registrar: true,
			Guard: SIPGuard{AuthFailures: DefaultSIPAuthFailures, AuthWindow: DefaultSIPAuthWindow,
				BanTime: DefaultSIPBanTime, MaxCalls: DefaultMaxCalls, MaxCallRate: DefaultMaxCallRate},
		},
		LogFormat: LogText,
		Telemetry: Telemetry{Traces: TracesOff, SampleRatio: DefaultSampleRatio},
	}
}

// Validate checks every setting; the error names the key and where its
// value came from, one line per problem.
func (c Config) Validate() error {
	var errs []error
	bad := func(key, format string, args ...any) { errs = append(errs, c.problem(key, format, args...)) }
	if err := checkHostPort(c.Temporal.Address, false); err != nil {
		bad("temporal.address", "%v", err)
	}
	if c.Temporal.Namespace == "" {
		bad("temporal.namespace", "must not be empty")
	}
	c.Temporal.validate(bad)
	if c.AdminAddr != "" {
		if err := checkHostPort(c.AdminAddr, true); err != nil {
			bad("admin_addr", "%v", err)
		}
	}
	if c.Dev.DataDir == "" {
		bad("dev.data_dir", "must not be empty")
	}
	if c.Dev.TemporalPort < 1 || c.Dev.TemporalPort > 65535 {
		bad("dev.temporal_port", "want a port from 1 to 65535, got %d", c.Dev.TemporalPort)
	}
	if err := checkHostPort(c.Dev.HTTPAddr, true); err != nil {
		bad("dev.http", "%v", err)
	}
	if err := checkHostPort(c.API.HTTPAddr, true); err != nil {
		bad("api.http", "%v", err)
	}
	c.Media.validate(bad)
	c.AI.validate(bad)
	c.validateTelemetry(bad)
	c.validateSecurity(bad)
	return errors.Join(errs...)
}

func (t Temporal) validate(bad func(key, format string, args ...any)) {
	both := func(key, path, data, what string) {
		if path != "" && data != "" {
			bad(key, "give the %s as a path or as data, not both", what)
		}
	}
	both("temporal.tls_cert_path", t.TLSCertPath, t.TLSCertData, "client certificate")
	both("temporal.tls_key_path", t.TLSKeyPath, t.TLSKeyData, "client key")
	both("temporal.tls_ca_path", t.TLSCAPath, t.TLSCAData, "server CA")
	hasCert, hasKey := t.TLSCertPath != "" || t.TLSCertData != "", t.TLSKeyPath != "" || t.TLSKeyData != ""
	if hasCert != hasKey {
		bad("temporal.tls_cert_path", "mTLS needs both a client certificate (--tls-cert-path) and its key (--tls-key-path)")
	}
	tlsOptions := hasCert || t.TLSCAPath != "" || t.TLSCAData != "" || t.TLSServerName != "" || t.TLSDisableHostVerification
	if t.tlsSet && !t.TLS && (tlsOptions || t.APIKey != "") {
		bad("temporal.tls", "is false, but TLS settings or an API key are given (Temporal Cloud needs TLS)")
	}
}

// UseTLS says whether to connect to Temporal over TLS: when asked, or when
// an API key, a client certificate or any TLS setting is given and
// temporal.tls was not set to false.
func (t Temporal) UseTLS() bool {
	if t.tlsSet {
		return t.TLS
	}
	return t.TLS || t.APIKey != "" || t.TLSCertPath != "" || t.TLSCertData != "" || t.TLSCAPath != "" ||
		t.TLSCAData != "" || t.TLSServerName != "" || t.TLSDisableHostVerification
}

func (a AI) validate(bad func(key, format string, args ...any)) {
	if a.LLMURL != "" && !strings.HasPrefix(a.LLMURL, "http://") && !strings.HasPrefix(a.LLMURL, "https://") {
		bad("ai.llm_url", "want an http:// or https:// URL, got %q", a.LLMURL)
	}
	if a.API != "" && a.API != "openai" && a.API != "azure" {
		bad("ai.llm_api", "want openai or azure, got %q", a.API)
	}
	if a.JSONMode != "" && a.JSONMode != "json_schema" && a.JSONMode != "tool" && a.JSONMode != "json_object" {
		bad("ai.llm_json_mode", "want json_schema, tool or json_object, got %q", a.JSONMode)
	}
	if a.Timeout < 0 {
		bad("ai.llm_timeout", "must not be negative")
	}
	if a.LLMURL == "" && a.TranscribeModel != "" {
		bad("ai.transcribe_model", "transcription through a model needs its endpoint (--llm-url)")
	}
	if a.LLMURL == "" && a.TTSModel != "" {
		bad("ai.tts_model", "voices through a model need its endpoint (--llm-url)")
	}
}

func (m Media) validate(bad func(key, format string, args ...any)) {
	if m.SIPAddr != SIPOff {
		if err := checkHostPort(m.SIPAddr, true); err != nil {
			bad("media.sip", "%v (or %q for no SIP worker in voxflow dev)", err, SIPOff)
		}
	}
	if (m.TLSCert == "") != (m.TLSKey == "") {
		bad("media.tls_cert", "SIP over TLS needs both --sip-tls-cert and --sip-tls-key")
	}
	if m.TLSAddr != "" {
		if err := checkHostPort(m.TLSAddr, true); err != nil {
			bad("media.tls", "%v", err)
		}
	}
	if _, _, err := m.RTPRange(); err != nil {
		bad("media.rtp_ports", "%v", err)
	}
	if m.DrainTimeout <= 0 {
		bad("media.drain_timeout", "want a positive duration, got %s", m.DrainTimeout)
	}
	if m.Trunk.URI == "" && m.Trunk.User != "" {
		bad("media.trunk.user", "a trunk user needs a trunk (--trunk)")
	}
	if m.Trunk.URI == "" && m.Trunk.Password != "" {
		bad("media.trunk.password", "a trunk password needs a trunk (--trunk)")
	}
	if _, _, err := m.WebRTC.UDPRange(); err != nil {
		bad("media.webrtc.udp_ports", "%v", err)
	}
	for _, u := range List(m.WebRTC.ICEServers) {
		if !strings.HasPrefix(u, "stun:") && !strings.HasPrefix(u, "turn:") && !strings.HasPrefix(u, "turns:") {
			bad("media.webrtc.ice_servers", "want stun:, turn: or turns: URLs, got %q", u)
		}
	}
	for _, ip := range List(m.WebRTC.PublicIPs) {
		if net.ParseIP(ip) == nil {
			bad("media.webrtc.public_ips", "want IP addresses, got %q", ip)
		}
	}
}

// RTPRange is media.rtp_ports as numbers; 0, 0 when it is empty.
func (m Media) RTPRange() (start, end int, err error) { return portRange(m.RTPPorts) }

func portRange(s string) (start, end int, err error) {
	if s == "" {
		return 0, 0, nil
	}
	lo, hi, ok := strings.Cut(s, "-")
	start, err1 := strconv.Atoi(strings.TrimSpace(lo))
	end, err2 := strconv.Atoi(strings.TrimSpace(hi))
	if !ok || err1 != nil || err2 != nil || start < 1 || end > 65535 || start > end {
		return 0, 0, fmt.Errorf("want START-END within 1-65535, e.g. 10000-20000, got %q", s)
	}
	return start, end, nil
}

// Require reports a missing setting a command cannot run without.
func (c Config) Require(key, value, why string) error {
	if value != "" {
		return nil
	}
	var flag string
	for _, s := range c.settings() {
		if s.key == key {
			flag = fmt.Sprintf(" (--%s or $%s)", s.flag, s.env)
		}
	}
	return fmt.Errorf("%w: %s is required%s: %s", ErrInvalid, key, flag, why)
}

// checkHostPort checks a host:port; with listen the host may be empty.
func checkHostPort(addr string, listen bool) error {
	host, port, err := net.SplitHostPort(addr)
	if err != nil {
		return fmt.Errorf("want host:port, got %q", addr)
	}
	if host == "" && !listen {
		return fmt.Errorf("want host:port with a host, got %q", addr)
	}
	if p, err := strconv.Atoi(port); err != nil || p < 0 || p > 65535 {
		return fmt.Errorf("bad port in %q", addr)
	}
	return nil
}
