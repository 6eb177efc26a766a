package platform

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"os"
	"time"

	"go.temporal.io/api/serviceerror"
	"go.temporal.io/api/workflowservice/v1"
	"go.temporal.io/sdk/client"
	sdklog "go.temporal.io/sdk/log"

	"github.com/voxflow/voxflow/platform/codec"
	"github.com/voxflow/voxflow/platform/config"
	"github.com/voxflow/voxflow/platform/telemetry"
)

// ErrNamespaceNotFound is returned by DialTemporal when the namespace is
// not registered on the cluster.
var ErrNamespaceNotFound = errors.New("namespace not found")

// TemporalOptions are the client options of the Temporal settings: the
// address and namespace, TLS (server CA, name, or no verification), a
// client certificate for mTLS, and an API key (Temporal Cloud).
func TemporalOptions(t config.Temporal, log *slog.Logger) (client.Options, error) {
	o := client.Options{HostPort: t.Address, Namespace: t.Namespace}
	if log != nil {
		o.Logger = sdklog.NewStructuredLogger(log)
	}
	if err := telemetry.Instrument(&o); err != nil {
		return o, err
	}
	if t.APIKey != "" {
		o.Credentials = client.NewAPIKeyStaticCredentials(t.APIKey)
	}
	if !t.UseTLS() {
		return o, nil
	}
	tc, err := temporalTLS(t)
	if err != nil {
		return o, err
	}
	o.ConnectionOptions.TLS = tc
	return o, nil
}

// temporalTLS reads the certificates the TLS settings name.
func temporalTLS(t config.Temporal) (*tls.Config, error) {
	tc := &tls.Config{MinVersion: tls.VersionTLS12, ServerName: t.TLSServerName, InsecureSkipVerify: t.TLSDisableHostVerification}
	if tc.ServerName == "" {
		tc.ServerName, _, _ = net.SplitHostPort(t.Address)
	}
	certPEM, err := pemOf(t.TLSCertPath, t.TLSCertData, "--tls-cert-path")
	if err != nil {
		return nil, err
	}
	keyPEM, err := pemOf(t.TLSKeyPath, t.TLSKeyData, "--tls-key-path")
	if err != nil {
		return nil, err
	}
	if certPEM != nil {
		pair, err := tls.X509KeyPair(certPEM, keyPEM)
		if err != nil {
			return nil, fmt.Errorf("temporal client certificate (--tls-cert-path, --tls-key-path): %w", err)
		}
		tc.Certificates = []tls.Certificate{pair}
	}
	caPEM, err := pemOf(t.TLSCAPath, t.TLSCAData, "--tls-ca-path")
	if err != nil {
		return nil, err
	}
	if caPEM != nil {
		tc.RootCAs = x509.NewCertPool()
		if !tc.RootCAs.AppendCertsFromPEM(caPEM) {
			return nil, fmt.Errorf("temporal server CA (--tls-ca-path): no PEM certificate in it")
		}
	}
	return tc, nil
}

// pemOf is the PEM text of a setting given as a path or as data.
func pemOf(path, data, flag string) ([]byte, error) {
	switch {
	case data != "":
		return []byte(data), nil
	case path != "":
		b, err := os.ReadFile(path)
		if err != nil {
			return nil, fmt.Errorf("temporal TLS (%s): %w", flag, err)
		}
		return b, nil
	}
	return nil, nil
}

// temporalDialTimeout bounds a dial with no deadline of its own: a wrong
// address or TLS setting fails in seconds with a clear error, not a hang.
const temporalDialTimeout = 15 * time.Second

// DialTemporal connects to the configured Temporal and checks that the
// namespace exists, so a wrong address, TLS setting, key or namespace is
// one clear error at start. With payload keys configured the client
// encrypts and decrypts payloads (platform/codec).
func DialTemporal(ctx context.Context, t config.Temporal, keys config.Codec, log *slog.Logger) (client.Client, error) {
	o, err := TemporalOptions(t, log)
	if err != nil {
		return nil, err
	}
	if err := codec.Apply(&o, keys); err != nil {
		return nil, err
	}
	if _, ok := ctx.Deadline(); !ok {
		var cancel context.CancelFunc
		ctx, cancel = context.WithTimeout(ctx, temporalDialTimeout)
		defer cancel()
	}
	c, err := client.DialContext(ctx, o)
	if err != nil {
		return nil, fmt.Errorf("connect to Temporal at %s%s: %w%s", t.Address, tlsNote(t), err, dialHint(t))
	}
	_, err = c.WorkflowService().DescribeNamespace(ctx, &workflowservice.DescribeNamespaceRequest{Namespace: t.Namespace})
	var nf *serviceerror.NamespaceNotFound
	switch {
	case errors.As(err, &nf):
		c.Close()
		return nil, fmt.Errorf("temporal at %s: %w: %q (register it: voxflow temporal setup --namespace %s)", t.Address, ErrNamespaceNotFound, t.Namespace, t.Namespace)
	case err != nil:
		c.Close()
		return nil, fmt.Errorf("temporal at %s: describe namespace %q: %w", t.Address, t.Namespace, err)
	}
	return c, nil
}

func tlsNote(t config.Temporal) string {
	if t.UseTLS() {
		return " over TLS"
	}
	return ""
}

// dialHint suggests the setting most likely wrong.
func dialHint(t config.Temporal) string {
	if t.UseTLS() {
		return " (check --address, --tls-ca-path, --tls-server-name and the client certificate or API key)"
	}
	return " (is Temporal running there? is `voxflow dev` running? set --address, or --tls for a TLS cluster)"
}
