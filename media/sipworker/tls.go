package sipworker

import (
	"crypto/tls"
	"crypto/x509"
	"errors"
	"fmt"
	"net"
	"os"
	"strconv"
	"time"

	"github.com/emiago/diago"
)

// ErrBadTLS marks a startup error in the TLS configuration (a missing or
// unreadable certificate or key, a pair that does not match, an expired
// certificate).
var ErrBadTLS = errors.New("bad TLS configuration")

// loadTLS reads the TLS certificate and key when configured and fills in
// the TLS listen address. Errors name the file and the flag that set it
// (voxflow dev and voxflow media both call them --sip-tls-cert and --sip-tls-key).
func (c *Config) loadTLS() error {
	if c.TLSCert == "" && c.TLSKey == "" {
		if c.TLSAddr != "" {
			return fmt.Errorf("sipworker: %w: a TLS address needs a certificate and key (--sip-tls-cert and --sip-tls-key)", ErrBadTLS)
		}
		return nil
	}
	if c.TLSCert == "" || c.TLSKey == "" {
		return fmt.Errorf("sipworker: %w: TLS needs both a certificate (--sip-tls-cert) and its key (--sip-tls-key)", ErrBadTLS)
	}
	certPEM, err := os.ReadFile(c.TLSCert)
	if err != nil {
		return fmt.Errorf("sipworker: %w: TLS certificate file (--sip-tls-cert) %s: %w", ErrBadTLS, c.TLSCert, err)
	}
	keyPEM, err := os.ReadFile(c.TLSKey)
	if err != nil {
		return fmt.Errorf("sipworker: %w: TLS key file (--sip-tls-key) %s: %w", ErrBadTLS, c.TLSKey, err)
	}
	pair, err := tls.X509KeyPair(certPEM, keyPEM)
	if err != nil {
		return fmt.Errorf("sipworker: %w: TLS certificate %s (--sip-tls-cert) with key %s (--sip-tls-key): %w", ErrBadTLS, c.TLSCert, c.TLSKey, err)
	}
	leaf, err := x509.ParseCertificate(pair.Certificate[0])
	if err != nil {
		return fmt.Errorf("sipworker: %w: TLS certificate %s (--sip-tls-cert): %w", ErrBadTLS, c.TLSCert, err)
	}
	if now := time.Now(); now.After(leaf.NotAfter) || now.Before(leaf.NotBefore) {
		return fmt.Errorf("sipworker: %w: TLS certificate %s (--sip-tls-cert) is valid only from %s to %s",
			ErrBadTLS, c.TLSCert, leaf.NotBefore.UTC().Format(time.RFC3339), leaf.NotAfter.UTC().Format(time.RFC3339))
	}
	if c.TLSAddr == "" {
		host, port, err := net.SplitHostPort(c.SIPAddr)
		if err != nil {
			return fmt.Errorf("sipworker: SIP address %q: %w", c.SIPAddr, err)
		}
		p, err := strconv.Atoi(port)
		if err != nil {
			return fmt.Errorf("sipworker: SIP address %q: bad port", c.SIPAddr)
		}
		if p != 0 {
			p++
		}
		c.TLSAddr = net.JoinHostPort(host, strconv.Itoa(p))
	}
	if _, _, err := splitHostPort(c.TLSAddr); err != nil {
		return fmt.Errorf("sipworker: %w: TLS address (--sip-tls): %w", ErrBadTLS, err)
	}
	c.tls = &tls.Config{Certificates: []tls.Certificate{pair}, MinVersion: tls.VersionTLS12}
	return nil
}

// tlsTransport is the SIP-over-TLS listener. In-dialog requests (BYE,
// REFER, re-INVITE) go back over the connection the INVITE came on: TLS
// phones seldom accept connections of their own (RFC 5923 practice), and
// their Contact is often not reachable.
func (c *Config) tlsTransport() (diago.Transport, bool) {
	if c.tls == nil {
		return diago.Transport{}, false
	}
	host, port, _ := splitHostPort(c.TLSAddr)
	return diago.Transport{
		ID: "tls", Transport: "tls", BindHost: host, BindPort: port, ExternalHost: c.ExternalHost,
		TLSConf: c.tls, RewriteContact: true,
	}, true
}

// TLSAddr is where SIP over TLS is served ("" without a certificate).
func (w *Worker) TLSAddr() string { return w.cfg.TLSAddr }
