package config

import (
	"fmt"
	"sort"
	"strconv"
	"strings"
	"time"
)

// setting is one configurable value: its key in the YAML file, its flag
// and environment variable, and where it lives in a Config.
type setting struct {
	key   string // YAML path, e.g. "media.sip"
	flag  string // without the dashes
	env   string
	usage string
	val   value
}

// value parses text into one field of a Config.
type value interface {
	set(s string) error
	String() string
	kind() string // flag type shown in help
}

// settings is the table of every setting, pointing into c.
func (c *Config) settings() []setting {
	m := &c.Media
	return append([]setting{
		{"temporal.address", "address", "TEMPORAL_ADDRESS", "Temporal frontend host:port (voxflow dev serves one on " + DefaultTemporalAddress + "; --temporal is the same)", (*strVal)(&c.Temporal.Address)},
		{"temporal.namespace", "namespace", "TEMPORAL_NAMESPACE", "Temporal namespace", (*strVal)(&c.Temporal.Namespace)},
		{"temporal.api_key", "api-key", "TEMPORAL_API_KEY", "API key for Temporal Cloud (turns TLS on; better: $TEMPORAL_API_KEY)", (*strVal)(&c.Temporal.APIKey)},
		{"temporal.tls", "tls", "TEMPORAL_TLS", "connect to Temporal over TLS (on by itself with an API key or a client certificate)", (*boolVal)(&c.Temporal.TLS)},
		{"temporal.tls_cert_path", "tls-cert-path", "TEMPORAL_TLS_CLIENT_CERT_PATH", "client certificate (PEM) for mTLS to Temporal", (*strVal)(&c.Temporal.TLSCertPath)},
		{"temporal.tls_key_path", "tls-key-path", "TEMPORAL_TLS_CLIENT_KEY_PATH", "private key (PEM) of --tls-cert-path", (*strVal)(&c.Temporal.TLSKeyPath)},
		{"temporal.tls_ca_path", "tls-ca-path", "TEMPORAL_TLS_SERVER_CA_CERT_PATH", "CA certificate (PEM) that signed Temporal's server certificate (default: the system's roots)", (*strVal)(&c.Temporal.TLSCAPath)},
		{"temporal.tls_cert_data", "tls-cert-data", "TEMPORAL_TLS_CLIENT_CERT_DATA", "client certificate as PEM text (instead of --tls-cert-path)", (*strVal)(&c.Temporal.TLSCertData)},
		{"temporal.tls_key_data", "tls-key-data", "TEMPORAL_TLS_CLIENT_KEY_DATA", "client private key as PEM text (instead of --tls-key-path)", (*strVal)(&c.Temporal.TLSKeyData)},
		{"temporal.tls_ca_data", "tls-ca-data", "TEMPORAL_TLS_SERVER_CA_CERT_DATA", "server CA certificate as PEM text (instead of --tls-ca-path)", (*strVal)(&c.Temporal.TLSCAData)},
		{"temporal.tls_server_name", "tls-server-name", "TEMPORAL_TLS_SERVER_NAME", "name to check Temporal's certificate against (default: the host of --address)", (*strVal)(&c.Temporal.TLSServerName)},
		{"temporal.tls_disable_host_verification", "tls-disable-host-verification", "TEMPORAL_TLS_DISABLE_HOST_VERIFICATION", "do not check Temporal's certificate (testing only)", (*boolVal)(&c.Temporal.TLSDisableHostVerification)},
		{"store", "store", "VOXFLOW_STORE", "store DSN: postgres://... or sqlite:///path", (*strVal)(&c.Store)},
		{"admin_addr", "admin-addr", "VOXFLOW_ADMIN_ADDR", "serve /healthz and /metrics on this HTTP address, e.g. :9464 (empty: off)", (*strVal)(&c.AdminAddr)},
		{"verbose", "verbose", "VOXFLOW_VERBOSE", "debug logging", (*boolVal)(&c.Verbose)},
		{"log_format", "log-format", "VOXFLOW_LOG_FORMAT", "log lines as text (key=value) or json (one object per line)", (*strVal)(&c.LogFormat)},
		{"telemetry.traces", "traces", "VOXFLOW_TRACES", "export OpenTelemetry traces: off, otlp-grpc, otlp-http or stdout", (*strVal)(&c.Telemetry.Traces)},
		{"telemetry.otlp_endpoint", "otlp-endpoint", "VOXFLOW_OTLP_ENDPOINT", "OTLP collector URL, e.g. http://127.0.0.1:4317 (empty: $OTEL_EXPORTER_OTLP_ENDPOINT, else localhost)", (*strVal)(&c.Telemetry.OTLPEndpoint)},
		{"telemetry.sample_ratio", "trace-sample-ratio", "VOXFLOW_TRACE_SAMPLE_RATIO", "share of new traces kept, 0 to 1", (*floatVal)(&c.Telemetry.SampleRatio)},
		{"engine.compat", "engine-compat", "VOXFLOW_ENGINE_COMPAT", "during a rolling upgrade: the last engine change this worker may record in calls (none, a change name, or empty for all; see docs/upgrades.md)", (*strVal)(&c.EngineCompat)},
		{"dev.data_dir", "data-dir", "VOXFLOW_DATA_DIR", "where the store and Temporal keep their SQLite files", (*strVal)(&c.Dev.DataDir)},
		{"dev.temporal_port", "temporal-port", "VOXFLOW_TEMPORAL_PORT", "embedded Temporal frontend port (on 127.0.0.1)", (*intVal)(&c.Dev.TemporalPort)},
		{"dev.http", "http", "VOXFLOW_HTTP", "HTTP listen address (API, designer, console, health, metrics, demo CRM)", (*strVal)(&c.Dev.HTTPAddr)},
		{"api.http", "http", "VOXFLOW_API_HTTP", "HTTP listen address of the API, designer, console, /healthz and /metrics", (*strVal)(&c.API.HTTPAddr)},
		{"api.secure_cookie", "secure-cookie", "VOXFLOW_SECURE_COOKIE", "mark the session cookie Secure (browsers reach the API over HTTPS)", (*boolVal)(&c.API.SecureCookie)},
		{"media.id", "id", "VOXFLOW_MEDIA_ID", "media worker ID; its task queue is media-<id> (default: the hostname)", (*strVal)(&m.ID)},
		{"media.sip", "sip", "VOXFLOW_SIP", "SIP listen address, UDP and TCP (voxflow dev: off runs no SIP worker)", (*strVal)(&m.SIPAddr)},
		{"media.tls_cert", "sip-tls-cert", "VOXFLOW_TLS_CERT", "PEM certificate (chain) file: serve SIP over TLS too (needs --sip-tls-key; --tls-cert is the same)", (*strVal)(&m.TLSCert)},
		{"media.tls_key", "sip-tls-key", "VOXFLOW_TLS_KEY", "PEM private key file of --sip-tls-cert (--tls-key is the same)", (*strVal)(&m.TLSKey)},
		{"media.tls", "sip-tls", "VOXFLOW_SIP_TLS", "SIP over TLS listen address (default: the --sip port + 1, e.g. :5061)", (*strVal)(&m.TLSAddr)},
		{"media.external_host", "external-host", "VOXFLOW_EXTERNAL_HOST", "host or IP to put in Contact and SDP when behind NAT", (*strVal)(&m.ExternalHost)},
		{"media.rtp_ports", "rtp-ports", "VOXFLOW_RTP_PORTS", "RTP port range START-END (RTCP uses port+1; default: ephemeral)", (*strVal)(&m.RTPPorts)},
		{"media.record_dir", "record-dir", "VOXFLOW_RECORD_DIR", "where recordings are written (default: $TMPDIR/voxflow-recordings; voxflow dev: under --data-dir)", (*strVal)(&m.RecordDir)},
		{"media.prompt_dir", "prompt-dir", "VOXFLOW_PROMPT_DIR", "directory for relative audio prompt paths", (*strVal)(&m.PromptDir)},
		{"media.vars", "var", "VOXFLOW_VARS", "variable given to every call, e.g. --var crm_url=http://crm.local/api (repeatable)", (*mapVal)(&m.Vars)},
		{"media.drain_timeout", "drain-timeout", "VOXFLOW_DRAIN_TIMEOUT", "how long live calls may run on after SIGTERM", (*durVal)(&m.DrainTimeout)},
		{"media.trunk.uri", "trunk", "VOXFLOW_TRUNK", "SIP trunk for outbound calls to bare numbers, e.g. sip:sip.example.net:5060;transport=tcp", (*strVal)(&m.Trunk.URI)},
		{"media.trunk.user", "trunk-user", "VOXFLOW_TRUNK_USER", "digest username for the trunk", (*strVal)(&m.Trunk.User)},
		{"media.trunk.password", "trunk-password", "VOXFLOW_TRUNK_PASSWORD", "digest password for the trunk (better: $VOXFLOW_TRUNK_PASSWORD)", (*strVal)(&m.Trunk.Password)},
		{"media.from", "from", "VOXFLOW_FROM", "caller ID of outbound calls that give none (number or SIP URI)", (*strVal)(&m.From)},
		{"media.registrar", "registrar", "VOXFLOW_REGISTRAR", "answer REGISTER from agents' phones with the accounts of 'voxflow agents' (bindings kept in the store, shared by every worker); false answers 405", (*boolVal)(&m.Registrar)},
		{"media.webrtc.ice_servers", "ice-servers", "VOXFLOW_ICE_SERVERS", "STUN/TURN URLs for browsers' calls, comma-separated, e.g. stun:stun.example.net:3478 (empty: host candidates only, for loopback and LAN)", (*strVal)(&m.WebRTC.ICEServers)},
		{"media.webrtc.ice_username", "ice-username", "VOXFLOW_ICE_USERNAME", "TURN username", (*strVal)(&m.WebRTC.ICEUsername)},
		{"media.webrtc.ice_credential", "ice-credential", "VOXFLOW_ICE_CREDENTIAL", "TURN credential (better: $VOXFLOW_ICE_CREDENTIAL)", (*strVal)(&m.WebRTC.ICECredential)},
		{"media.webrtc.public_ips", "webrtc-public-ips", "VOXFLOW_WEBRTC_PUBLIC_IPS", "public IPs to announce in browsers' ICE candidates when the worker is behind 1:1 NAT, comma-separated", (*strVal)(&m.WebRTC.PublicIPs)},
		{"media.webrtc.udp_ports", "webrtc-ports", "VOXFLOW_WEBRTC_PORTS", "UDP port range START-END for browsers' media (default: ephemeral)", (*strVal)(&m.WebRTC.UDPPorts)},
		{"ai.llm_url", "llm-url", "VOXFLOW_LLM_URL", "OpenAI-compatible endpoint for intent and llm nodes and call summaries, e.g. https://api.openai.com/v1 or http://127.0.0.1:11434/v1 (Ollama); its key comes from $VOXFLOW_LLM_API_KEY or --llm-key-file (empty: everything offline)", (*strVal)(&c.AI.LLMURL)},
		{"ai.llm_api", "llm-api", "VOXFLOW_LLM_API", "API flavour of --llm-url: openai or azure", (*strVal)(&c.AI.API)},
		{"ai.llm_api_version", "llm-api-version", "VOXFLOW_LLM_API_VERSION", "Azure OpenAI API version", (*strVal)(&c.AI.APIVersion)},
		{"ai.llm_model", "llm-model", "VOXFLOW_LLM_MODEL", "default model (a flow's settings.llm_model or a node's model win)", (*strVal)(&c.AI.Model)},
		{"ai.llm_timeout", "llm-timeout", "VOXFLOW_LLM_TIMEOUT", "time limit of one model request", (*durVal)(&c.AI.Timeout)},
		{"ai.llm_json_mode", "llm-json-mode", "VOXFLOW_LLM_JSON_MODE", "how structured answers are asked for: json_schema, tool or json_object", (*strVal)(&c.AI.JSONMode)},
		{"ai.llm_key_file", "llm-key-file", "VOXFLOW_LLM_KEY_FILE", "file holding the endpoint's API key (mode 0600); else $VOXFLOW_LLM_API_KEY", (*strVal)(&c.AI.KeyFile)},
		{"ai.transcribe_model", "transcribe-model", "VOXFLOW_TRANSCRIBE_MODEL", "transcribe callers' free speech with this model of --llm-url (audio/transcriptions, e.g. whisper-1); empty: offline pocketsphinx", (*strVal)(&c.AI.TranscribeModel)},
		{"ai.tts_model", "tts-model", "VOXFLOW_TTS_MODEL", "voice prompts with this model of --llm-url (audio/speech, e.g. tts-1); empty: espeak-ng", (*strVal)(&c.AI.TTSModel)},
		{"ai.tts_voice", "tts-voice", "VOXFLOW_TTS_VOICE", "voice of --tts-model (e.g. alloy)", (*strVal)(&c.AI.TTSVoice)},
		{"media.webrtc.origins", "widget-origins", "VOXFLOW_WIDGET_ORIGINS", "host patterns of web sites that may embed the call/chat widget, comma-separated, e.g. www.example.com,*.example.com (the API's own host is always allowed)", (*strVal)(&m.WebRTC.Origins)},
		{"media.realm", "realm", "VOXFLOW_REALM", "SIP digest realm agents' phones register with; agents must be added with the same --realm (default: voxflow)", (*strVal)(&m.Realm)},
	}, c.securitySettings()...)
}

// flagAliases are older flag names kept working, hidden from help: --temporal
// before the Temporal CLI's --address, and SIP's TLS flags before --tls
// became Temporal's.
var flagAliases = map[string]string{
	"temporal.address": "temporal",
	"media.tls_cert":   "tls-cert",
	"media.tls_key":    "tls-key",
}

// lookup returns the setting with key.
func lookup(table []setting, key string) (*setting, bool) {
	for i := range table {
		if table[i].key == key {
			return &table[i], true
		}
	}
	return nil, false
}

// Keys lists every setting's key, sorted.
func Keys() []string {
	var c Config
	var keys []string
	for _, s := range c.settings() {
		keys = append(keys, s.key)
	}
	sort.Strings(keys)
	return keys
}

type strVal string

func (v *strVal) set(s string) error { *v = strVal(s); return nil }
func (v *strVal) String() string     { return string(*v) }
func (v *strVal) kind() string       { return "string" }

type intVal int

func (v *intVal) set(s string) error {
	n, err := strconv.Atoi(strings.TrimSpace(s))
	if err != nil {
		return fmt.Errorf("want a whole number, got %q", s)
	}
	*v = intVal(n)
	return nil
}
func (v *intVal) String() string { return strconv.Itoa(int(*v)) }
func (v *intVal) kind() string   { return "int" }

type boolVal bool

func (v *boolVal) set(s string) error {
	b, err := strconv.ParseBool(strings.TrimSpace(s))
	if err != nil {
		return fmt.Errorf("want true or false, got %q", s)
	}
	*v = boolVal(b)
	return nil
}
func (v *boolVal) String() string { return strconv.FormatBool(bool(*v)) }
func (v *boolVal) kind() string   { return "bool" }

type durVal time.Duration

func (v *durVal) set(s string) error {
	d, err := time.ParseDuration(strings.TrimSpace(s))
	if err != nil {
		return fmt.Errorf("want a duration such as 90s or 5m, got %q", s)
	}
	*v = durVal(d)
	return nil
}
func (v *durVal) String() string { return time.Duration(*v).String() }
func (v *durVal) kind() string   { return "duration" }

// mapVal takes key=value pairs; several may be given at once, separated by
// commas (a piece with no '=' continues the previous value, so a URL with
// commas survives).
type mapVal map[string]string

func (v *mapVal) set(s string) error {
	if *v == nil {
		*v = map[string]string{}
	}
	last := ""
	for _, piece := range strings.Split(s, ",") {
		k, val, ok := strings.Cut(piece, "=")
		switch {
		case ok && strings.TrimSpace(k) != "":
			last = strings.TrimSpace(k)
			(*v)[last] = val
		case last != "":
			(*v)[last] += "," + piece
		default:
			return fmt.Errorf("want key=value, got %q", s)
		}
	}
	return nil
}

func (v *mapVal) String() string {
	keys := make([]string, 0, len(*v))
	for k := range *v {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	parts := make([]string, len(keys))
	for i, k := range keys {
		parts[i] = k + "=" + (*v)[k]
	}
	return strings.Join(parts, ",")
}
func (v *mapVal) kind() string { return "key=value" }

// TemporalKeys are the keys of every setting of the Temporal connection,
// for commands that talk to Temporal.
func TemporalKeys() []string {
	var c Config
	var keys []string
	for _, s := range c.settings() {
		if strings.HasPrefix(s.key, "temporal.") {
			keys = append(keys, s.key)
		}
	}
	return keys
}
