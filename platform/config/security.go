package config

import (
	"encoding/base64"
	"fmt"
	"net/netip"
	"strings"
	"time"
)

// Defaults of the security settings.
const (
	DefaultSIPAuthFailures = 5                // digest failures from one source...
	DefaultSIPAuthWindow   = time.Minute      // ...within this long...
	DefaultSIPBanTime      = 10 * time.Minute // ...ban it this long
	DefaultMaxCalls        = 400              // live calls one media worker admits
	DefaultMaxCallRate     = 40.0             // new calls per second one media worker admits
	DefaultSigninFailures  = 5                // wrong passwords for one account before a lockout
	DefaultSigninLockout   = time.Minute      // first lockout; it doubles up to an hour
)

// Codec configures the encryption of Temporal payloads (call variables,
// transcripts, inputs) with AES-256-GCM. Keys are "id:base64key" pieces,
// comma- or newline-separated; the first is the one that encrypts, the
// others still decrypt (rotation). Every process of one deployment needs the
// same keys. Empty: payloads are stored as they are.
type Codec struct {
	// KeyFile holds the keys (mode 0600), one "id:base64key" per line.
	KeyFile string
	// Keys holds the keys inline; better given as $VOXFLOW_CODEC_KEYS.
	Keys string
}

// On says whether any key source is configured.
func (c Codec) On() bool { return c.KeyFile != "" || c.Keys != "" }

// SIPGuard protects a media worker's SIP side from scanners and floods.
type SIPGuard struct {
	// AuthFailures digest failures from one source address within
	// AuthWindow ban the source for BanTime (0 failures: no bans).
	AuthFailures int
	AuthWindow   time.Duration
	BanTime      time.Duration
	// MaxCalls and MaxCallRate bound live calls and new calls per second;
	// INVITEs above either get 503 with Retry-After (0: no limit).
	MaxCalls    int
	MaxCallRate float64
	// TrustedProxies are the SIP proxies in front of the worker (Kamailio),
	// comma-separated IPs or CIDRs: a request whose packet comes from one is
	// attributed to the client named in its Via headers, and a trusted
	// proxy itself is never banned.
	TrustedProxies string
}

// Retention says how long call records and recordings are kept (0: for
// ever).
type Retention struct {
	CDRDays       int
	RecordingDays int
}

// securitySettings are the rows of the security settings (see settings).
func (c *Config) securitySettings() []setting {
	g := &c.Media.Guard
	return []setting{
		{"codec.key_file", "codec-key-file", "VOXFLOW_CODEC_KEY_FILE", "file of keys (one id:base64key per line, 32-byte keys, the first encrypts) that encrypt Temporal payloads with AES-256-GCM; every process needs the same", (*strVal)(&c.Codec.KeyFile)},
		{"codec.keys", "codec-keys", "VOXFLOW_CODEC_KEYS", "payload keys inline, id:base64key,... (better: $VOXFLOW_CODEC_KEYS)", (*strVal)(&c.Codec.Keys)},
		{"media.guard.auth_failures", "sip-auth-failures", "VOXFLOW_SIP_AUTH_FAILURES", "digest failures from one address within --sip-auth-window that ban it (0: never ban)", (*intVal)(&g.AuthFailures)},
		{"media.guard.auth_window", "sip-auth-window", "VOXFLOW_SIP_AUTH_WINDOW", "window in which --sip-auth-failures are counted", (*durVal)(&g.AuthWindow)},
		{"media.guard.ban_time", "sip-ban-time", "VOXFLOW_SIP_BAN_TIME", "how long a banned address is ignored", (*durVal)(&g.BanTime)},
		{"media.guard.max_calls", "max-calls", "VOXFLOW_MAX_CALLS", "live calls this media worker admits; more INVITEs get 503 with Retry-After (0: no limit)", (*intVal)(&g.MaxCalls)},
		{"media.guard.max_call_rate", "max-call-rate", "VOXFLOW_MAX_CALL_RATE", "new calls per second this media worker admits; more get 503 with Retry-After (0: no limit)", (*floatVal)(&g.MaxCallRate)},
		{"media.guard.trusted_proxies", "sip-trusted-proxies", "VOXFLOW_SIP_TRUSTED_PROXIES", "SIP proxies in front of this worker (IPs or CIDRs, comma-separated): their requests are banned by the client address in the Via, and they are never banned", (*strVal)(&g.TrustedProxies)},
		{"api.tls_cert", "http-tls-cert", "VOXFLOW_HTTP_TLS_CERT", "PEM certificate (chain): serve the API, designer and console over HTTPS (needs --http-tls-key)", (*strVal)(&c.API.TLSCert)},
		{"api.tls_key", "http-tls-key", "VOXFLOW_HTTP_TLS_KEY", "PEM private key of --http-tls-cert", (*strVal)(&c.API.TLSKey)},
		{"api.signin_failures", "signin-failures", "VOXFLOW_SIGNIN_FAILURES", "wrong passwords in a row that lock an account (and its source address) out for --signin-lockout, doubling each time up to an hour", (*intVal)(&c.API.SigninFailures)},
		{"api.signin_lockout", "signin-lockout", "VOXFLOW_SIGNIN_LOCKOUT", "first sign-in lockout", (*durVal)(&c.API.SigninLockout)},
		{"api.origins", "origins", "VOXFLOW_ORIGINS", "other origins (scheme://host[:port], comma-separated) whose pages may make cookie-authenticated changes; the API's own origin is always allowed", (*strVal)(&c.API.Origins)},
		{"retention.cdr_days", "retain-cdr-days", "VOXFLOW_RETAIN_CDR_DAYS", "delete call records (and their events) older than this many days (0: keep)", (*intVal)(&c.Retention.CDRDays)},
		{"retention.recording_days", "retain-recording-days", "VOXFLOW_RETAIN_RECORDING_DAYS", "delete recordings older than this many days (0: keep)", (*intVal)(&c.Retention.RecordingDays)},
	}
}

// CodecKeys are the payload-encryption settings, for every command that
// talks to Temporal.
func CodecKeys() []string { return []string{"codec.key_file", "codec.keys"} }

// SIPGuardKeys are a media worker's scanner and flood settings.
func SIPGuardKeys() []string {
	return []string{"media.guard.auth_failures", "media.guard.auth_window", "media.guard.ban_time",
		"media.guard.max_calls", "media.guard.max_call_rate", "media.guard.trusted_proxies"}
}

// APISecurityKeys are the API's TLS, sign-in and origin settings.
func APISecurityKeys() []string {
	return []string{"api.tls_cert", "api.tls_key", "api.signin_failures", "api.signin_lockout", "api.origins"}
}

// RetentionKeys are the retention settings.
func RetentionKeys() []string { return []string{"retention.cdr_days", "retention.recording_days"} }

func (c Config) validateSecurity(bad func(key, format string, args ...any)) {
	if c.Codec.KeyFile != "" && c.Codec.Keys != "" {
		bad("codec.keys", "give the payload keys in a file (--codec-key-file) or inline, not both")
	}
	if c.Codec.Keys != "" {
		if _, err := ParseCodecKeys(c.Codec.Keys); err != nil {
			bad("codec.keys", "%v", err)
		}
	}
	g := c.Media.Guard
	if g.AuthFailures < 0 || g.MaxCalls < 0 || g.MaxCallRate < 0 {
		bad("media.guard", "limits must not be negative")
	}
	if g.AuthFailures > 0 && (g.AuthWindow <= 0 || g.BanTime <= 0) {
		bad("media.guard.auth_window", "bans need a positive --sip-auth-window and --sip-ban-time")
	}
	if _, err := ParseTrustedProxies(g.TrustedProxies); err != nil {
		bad("media.guard.trusted_proxies", "%v", err)
	}
	if (c.API.TLSCert == "") != (c.API.TLSKey == "") {
		bad("api.tls_cert", "HTTPS needs both --http-tls-cert and --http-tls-key")
	}
	if c.API.SigninFailures < 0 || c.API.SigninLockout < 0 {
		bad("api.signin_failures", "must not be negative")
	}
	for _, o := range List(c.API.Origins) {
		if !strings.HasPrefix(o, "http://") && !strings.HasPrefix(o, "https://") || strings.Count(o, "/") != 2 {
			bad("api.origins", "want origins such as https://admin.example.com, got %q", o)
		}
	}
	if c.Retention.CDRDays < 0 || c.Retention.RecordingDays < 0 {
		bad("retention", "days must not be negative")
	}
}

// ParseTrustedProxies reads comma-separated IPs and CIDRs (an IP is a
// one-address prefix).
func ParseTrustedProxies(text string) ([]netip.Prefix, error) {
	var out []netip.Prefix
	for _, f := range List(text) {
		if strings.Contains(f, "/") {
			p, err := netip.ParsePrefix(f)
			if err != nil {
				return nil, fmt.Errorf("want an IP or a CIDR such as 10.0.0.0/24, got %q", f)
			}
			out = append(out, p.Masked())
			continue
		}
		a, err := netip.ParseAddr(f)
		if err != nil {
			return nil, fmt.Errorf("want an IP or a CIDR such as 10.0.0.0/24, got %q", f)
		}
		a = a.Unmap()
		out = append(out, netip.PrefixFrom(a, a.BitLen()))
	}
	return out, nil
}

// CodecKey is one payload key.
type CodecKey struct {
	ID  string
	Key []byte // 32 bytes (AES-256)
}

// ParseCodecKeys reads "id:base64key" pieces separated by commas or
// newlines (blank lines and # comments skipped); the first encrypts.
func ParseCodecKeys(text string) ([]CodecKey, error) {
	var keys []CodecKey
	seen := map[string]bool{}
	lines := strings.FieldsFunc(text, func(r rune) bool { return r == ',' || r == '\n' })
	for i, line := range lines {
		line = strings.TrimSpace(line)
		if line == "" || strings.HasPrefix(line, "#") {
			continue
		}
		id, b64, ok := strings.Cut(line, ":")
		id = strings.TrimSpace(id)
		if !ok || id == "" || strings.ContainsAny(id, " \t") {
			return nil, fmt.Errorf("key %d: want id:base64key", i+1)
		}
		key, err := base64.StdEncoding.DecodeString(strings.TrimSpace(b64))
		if err != nil || len(key) != 32 {
			return nil, fmt.Errorf("key %q: want 32 bytes in standard base64 (e.g. openssl rand -base64 32)", id)
		}
		if seen[id] {
			return nil, fmt.Errorf("key %q: given twice", id)
		}
		seen[id] = true
		keys = append(keys, CodecKey{ID: id, Key: key})
	}
	if len(keys) == 0 {
		return nil, fmt.Errorf("no keys")
	}
	return keys, nil
}
