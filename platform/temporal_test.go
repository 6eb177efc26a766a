package platform

import (
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"errors"
	"math/big"
	"net"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/spf13/pflag"
	"go.temporal.io/api/namespace/v1"
	"go.temporal.io/api/serviceerror"
	"go.temporal.io/api/workflowservice/v1"
	"go.uber.org/goleak"
	"google.golang.org/grpc"
	"google.golang.org/grpc/credentials"
	"google.golang.org/grpc/metadata"

	"github.com/voxflow/voxflow/platform/codec"
	"github.com/voxflow/voxflow/platform/config"
)

// temporalDialTestTimeout bounds each dial of these tests: a failing TLS
// handshake must fail well before it.
const temporalDialTestTimeout = 3 * time.Second

// testPKI is a CA with a server certificate for 127.0.0.1 and localhost and
// a client certificate, plus an unrelated CA; the PEM files lie in dir.
type testPKI struct {
	dir                  string
	server               tls.Certificate
	caPool               *x509.CertPool
	caPEM, otherCAPEM    []byte
	clientPEM, clientKey []byte
}

func newTestPKI(t *testing.T) *testPKI {
	t.Helper()
	ca, caKey, caPEM := newCert(t, "voxflow test CA", nil, nil, nil)
	_, _, otherCAPEM := newCert(t, "unrelated CA", nil, nil, nil)
	serverTmpl := &x509.Certificate{
		DNSNames: []string{"localhost"}, IPAddresses: []net.IP{net.IPv4(127, 0, 0, 1)},
		ExtKeyUsage: []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth},
	}
	_, serverKey, serverPEM := newCert(t, "temporal frontend", serverTmpl, ca, caKey)
	clientTmpl := &x509.Certificate{ExtKeyUsage: []x509.ExtKeyUsage{x509.ExtKeyUsageClientAuth}}
	_, clientKey, clientPEM := newCert(t, "voxflow worker", clientTmpl, ca, caKey)
	p := &testPKI{dir: t.TempDir(), caPool: x509.NewCertPool(), caPEM: caPEM, otherCAPEM: otherCAPEM,
		clientPEM: clientPEM, clientKey: keyPEM(t, clientKey)}
	p.caPool.AddCert(ca)
	server, err := tls.X509KeyPair(serverPEM, keyPEM(t, serverKey))
	if err != nil {
		t.Fatal(err)
	}
	p.server = server
	for name, b := range map[string][]byte{"ca.pem": caPEM, "other-ca.pem": otherCAPEM, "client.pem": clientPEM, "client-key.pem": p.clientKey} {
		if err := os.WriteFile(filepath.Join(p.dir, name), b, 0o600); err != nil {
			t.Fatal(err)
		}
	}
	return p
}

// newCert makes a certificate from tmpl (a CA when tmpl is nil), signed by
// parent (self-signed when parent is nil).
func newCert(t *testing.T, cn string, tmpl, parent *x509.Certificate, parentKey *ecdsa.PrivateKey) (*x509.Certificate, *ecdsa.PrivateKey, []byte) {
	t.Helper()
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	if tmpl == nil {
		tmpl = &x509.Certificate{IsCA: true, BasicConstraintsValid: true, KeyUsage: x509.KeyUsageCertSign}
	}
	serial, err := rand.Int(rand.Reader, big.NewInt(1<<62))
	if err != nil {
		t.Fatal(err)
	}
	tmpl.SerialNumber, tmpl.Subject = serial, pkix.Name{CommonName: cn}
	tmpl.NotBefore, tmpl.NotAfter = time.Now().Add(-time.Hour), time.Now().Add(time.Hour)
	if parent == nil {
		parent, parentKey = tmpl, key
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, parent, &key.PublicKey, parentKey)
	if err != nil {
		t.Fatal(err)
	}
	cert, err := x509.ParseCertificate(der)
	if err != nil {
		t.Fatal(err)
	}
	return cert, key, pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der})
}

func keyPEM(t *testing.T, key *ecdsa.PrivateKey) []byte {
	t.Helper()
	der, err := x509.MarshalECPrivateKey(key)
	if err != nil {
		t.Fatal(err)
	}
	return pem.EncodeToMemory(&pem.Block{Type: "EC PRIVATE KEY", Bytes: der})
}

// fakeFrontend is the part of Temporal's frontend a dial touches: system
// info and namespace lookups. It records the authorization it was sent.
type fakeFrontend struct {
	workflowservice.UnimplementedWorkflowServiceServer
	mu   sync.Mutex
	auth []string
}

func (f *fakeFrontend) GetSystemInfo(ctx context.Context, _ *workflowservice.GetSystemInfoRequest) (*workflowservice.GetSystemInfoResponse, error) {
	f.record(ctx)
	return &workflowservice.GetSystemInfoResponse{ServerVersion: "fake"}, nil
}

func (f *fakeFrontend) DescribeNamespace(ctx context.Context, req *workflowservice.DescribeNamespaceRequest) (*workflowservice.DescribeNamespaceResponse, error) {
	f.record(ctx)
	if req.GetNamespace() != config.DefaultNamespace {
		return nil, serviceerror.ToStatus(serviceerror.NewNamespaceNotFound(req.GetNamespace())).Err()
	}
	return &workflowservice.DescribeNamespaceResponse{NamespaceInfo: &namespace.NamespaceInfo{Name: req.GetNamespace()}}, nil
}

func (f *fakeFrontend) record(ctx context.Context) {
	md, _ := metadata.FromIncomingContext(ctx)
	f.mu.Lock()
	defer f.mu.Unlock()
	f.auth = append(f.auth, md.Get("authorization")...)
}

// authorizations returns and forgets what was recorded.
func (f *fakeFrontend) authorizations() []string {
	f.mu.Lock()
	defer f.mu.Unlock()
	a := f.auth
	f.auth = nil
	return a
}

// startFrontend serves a fakeFrontend on 127.0.0.1 with creds (nil:
// plaintext) until the test ends.
func startFrontend(t *testing.T, creds *tls.Config) (*fakeFrontend, string) {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	var opts []grpc.ServerOption
	if creds != nil {
		opts = append(opts, grpc.Creds(credentials.NewTLS(creds)))
	}
	srv := grpc.NewServer(opts...)
	f := &fakeFrontend{}
	workflowservice.RegisterWorkflowServiceServer(srv, f)
	done := make(chan struct{})
	go func() { defer close(done); _ = srv.Serve(ln) }()
	t.Cleanup(func() { srv.Stop(); <-done })
	return f, ln.Addr().String()
}

// noLeaks fails the test if goroutines it started outlive its cleanups
// (frontends and clients); call it first so it runs last.
// The package's one real Temporal server (workflowmetrics_test.go, named
// to run after this file) leaves its internal gRPC clients reconnecting
// after it stops; those new goroutines would count here.
func noLeaks(t *testing.T) {
	ignore := goleak.IgnoreCurrent()
	t.Cleanup(func() {
		// A closed gRPC connection's goroutines leave a moment later; on a
		// loaded CI machine that outlasts goleak's own ~2 s of retries, so
		// give them up to 15 s before calling what is left a leak.
		for deadline := time.Now().Add(15 * time.Second); goleak.Find(ignore) != nil && time.Now().Before(deadline); {
			time.Sleep(50 * time.Millisecond)
		}
		goleak.VerifyNone(t, ignore)
	})
}

// loadTemporal loads the Temporal settings as a command does: flags over
// the environment, then Validate. Only env's TEMPORAL_* variables are set.
func loadTemporal(t *testing.T, args []string, env map[string]string) (config.Temporal, error) {
	t.Helper()
	for _, kv := range os.Environ() {
		if k, _, _ := strings.Cut(kv, "="); strings.HasPrefix(k, "TEMPORAL_") {
			t.Setenv(k, "")
			os.Unsetenv(k) // t.Setenv restores it after the test
		}
	}
	for k, v := range env {
		t.Setenv(k, v)
	}
	fs := pflag.NewFlagSet("test", pflag.ContinueOnError)
	f := config.Bind(fs, config.TemporalKeys()...)
	if err := fs.Parse(args); err != nil {
		return config.Temporal{}, err
	}
	c, err := f.Load()
	return c.Temporal, err
}

// dialTemporal dials with settings, closing the client when the test ends.
func dialTemporal(t *testing.T, args []string, env map[string]string) error {
	t.Helper()
	tc, err := loadTemporal(t, args, env)
	if err != nil {
		t.Fatalf("load settings %v %v: %v", args, env, err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), temporalDialTestTimeout)
	defer cancel()
	c, err := DialTemporal(ctx, tc, config.Codec{}, nil)
	if c != nil {
		t.Cleanup(c.Close)
	}
	return err
}

// A plain frontend is reached with the default settings (plus its address).
func TestDialTemporalPlain(t *testing.T) {
	noLeaks(t)
	f, addr := startFrontend(t, nil)
	if err := dialTemporal(t, []string{"--address", addr}, nil); err != nil {
		t.Fatalf("plain dial: %v", err)
	}
	if a := f.authorizations(); len(a) != 0 {
		t.Errorf("authorization sent without an API key: %q", a)
	}
}

// An unknown namespace is ErrNamespaceNotFound, with the command that
// registers it.
func TestDialTemporalUnknownNamespace(t *testing.T) {
	noLeaks(t)
	_, addr := startFrontend(t, nil)
	err := dialTemporal(t, []string{"--address", addr, "--namespace", "nope"}, nil)
	if !errors.Is(err, ErrNamespaceNotFound) {
		t.Fatalf("err = %v, want ErrNamespaceNotFound", err)
	}
	for _, want := range []string{addr, `"nope"`, "voxflow temporal setup --namespace nope"} {
		if !strings.Contains(err.Error(), want) {
			t.Errorf("err = %v, want it to name %q", err, want)
		}
	}
}

// Each TLS setting over the wire, against a TLS frontend and one that
// requires a client certificate signed by the test CA. In args and env,
// {addr} is the frontend's address and {dir} the folder of the PEM files.
func TestDialTemporalTLS(t *testing.T) {
	noLeaks(t)
	pki := newTestPKI(t)
	tlsFront, tlsAddr := startFrontend(t, &tls.Config{Certificates: []tls.Certificate{pki.server}})
	mtlsFront, mtlsAddr := startFrontend(t, &tls.Config{Certificates: []tls.Certificate{pki.server},
		ClientAuth: tls.RequireAndVerifyClientCert, ClientCAs: pki.caPool})
	caData := map[string]string{"TEMPORAL_TLS_SERVER_CA_CERT_DATA": string(pki.caPEM)}
	cases := []struct {
		name    string
		mtls    bool
		args    []string
		env     map[string]string
		wantErr []string // substrings of the error; none: the dial succeeds
		auth    string   // the authorization the frontend must see
	}{
		{name: "plain to a TLS frontend", args: []string{}, wantErr: []string{"{addr}", "--tls for a TLS cluster"}},
		{name: "CA path", args: []string{"--tls", "--tls-ca-path", "{dir}/ca.pem"}},
		{name: "CA as data", env: caData},
		{name: "no CA", args: []string{"--tls"}, wantErr: []string{"{addr} over TLS", "unknown authority", "--tls-ca-path"}},
		{name: "wrong CA", args: []string{"--tls-ca-path", "{dir}/other-ca.pem"}, wantErr: []string{"{addr} over TLS", "unknown authority"}},
		{name: "server name matches", args: []string{"--tls-ca-path", "{dir}/ca.pem", "--tls-server-name", "localhost"}},
		{name: "server name mismatch", args: []string{"--tls-ca-path", "{dir}/ca.pem", "--tls-server-name", "other.example"},
			wantErr: []string{"{addr} over TLS", "other.example", "--tls-server-name"}},
		{name: "host verification off", args: []string{"--tls-server-name", "other.example", "--tls-disable-host-verification"}},
		{name: "mTLS cert paths", mtls: true, args: []string{"--tls-ca-path", "{dir}/ca.pem", "--tls-cert-path", "{dir}/client.pem", "--tls-key-path", "{dir}/client-key.pem"}},
		{name: "mTLS cert data", mtls: true, env: map[string]string{"TEMPORAL_TLS_SERVER_CA_CERT_DATA": string(pki.caPEM),
			"TEMPORAL_TLS_CLIENT_CERT_DATA": string(pki.clientPEM), "TEMPORAL_TLS_CLIENT_KEY_DATA": string(pki.clientKey)}},
		{name: "mTLS without client cert", mtls: true, args: []string{"--tls-ca-path", "{dir}/ca.pem"},
			wantErr: []string{"{addr} over TLS", "client certificate"}},
		{name: "mTLS cert file missing", mtls: true, args: []string{"--tls-ca-path", "{dir}/ca.pem", "--tls-cert-path", "{dir}/missing.pem", "--tls-key-path", "{dir}/client-key.pem"},
			wantErr: []string{"--tls-cert-path", "{dir}/missing.pem"}},
		{name: "API key", env: map[string]string{"TEMPORAL_API_KEY": "KEY", "TEMPORAL_TLS_SERVER_CA_CERT_DATA": string(pki.caPEM)}, auth: "Bearer KEY"},
		// The handshake's unknown authority shows TLS came on by itself.
		{name: "API key alone turns TLS on", args: []string{"--api-key", "KEY"}, wantErr: []string{"{addr} over TLS", "unknown authority"}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			front, addr := tlsFront, tlsAddr
			if tc.mtls {
				front, addr = mtlsFront, mtlsAddr
			}
			fill := strings.NewReplacer("{addr}", addr, "{dir}", pki.dir).Replace
			args := []string{"--address", addr}
			for _, a := range tc.args {
				args = append(args, fill(a))
			}
			front.authorizations()
			err := dialTemporal(t, args, tc.env)
			checkDialErr(t, err, tc.wantErr, fill)
			if got := front.authorizations(); tc.auth != "" && (len(got) == 0 || got[len(got)-1] != tc.auth) {
				t.Errorf("frontend saw authorization %q, want %q", got, tc.auth)
			}
		})
	}
}

// checkDialErr fails unless err contains each of want (after fill), or is
// nil when want is empty.
func checkDialErr(t *testing.T, err error, want []string, fill func(string) string) {
	t.Helper()
	if len(want) == 0 {
		if err != nil {
			t.Fatalf("dial: %v", err)
		}
		return
	}
	if err == nil {
		t.Fatalf("dial succeeded, want an error naming %q", want)
	}
	for _, w := range want {
		if !strings.Contains(err.Error(), fill(w)) {
			t.Errorf("err = %v\nwant it to contain %q", err, fill(w))
		}
	}
}

// An API key alone turns TLS on, checked against the host of the address.
func TestTemporalOptionsAPIKeyTLS(t *testing.T) {
	tc, err := loadTemporal(t, []string{"--address", "ns.tmprl.cloud:7233"}, map[string]string{"TEMPORAL_API_KEY": "KEY"})
	if err != nil {
		t.Fatal(err)
	}
	o, err := TemporalOptions(tc, nil)
	if err != nil {
		t.Fatal(err)
	}
	if o.Credentials == nil || o.ConnectionOptions.TLS == nil || o.ConnectionOptions.TLS.ServerName != "ns.tmprl.cloud" {
		t.Errorf("credentials %v, TLS %+v: want an API key over TLS to ns.tmprl.cloud", o.Credentials, o.ConnectionOptions.TLS)
	}
}

// Payload keys are read before the dial: a key file others may read is
// refused, as ssh refuses such a private key.
func TestDialTemporalRefusesOpenKeyFile(t *testing.T) {
	path := filepath.Join(t.TempDir(), "codec.keys")
	if _, err := codec.EnsureKeyFile(path, time.Now()); err != nil {
		t.Fatal(err)
	}
	if err := os.Chmod(path, 0o640); err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), temporalDialTestTimeout)
	defer cancel()
	c, err := DialTemporal(ctx, config.Defaults().Temporal, config.Codec{KeyFile: path}, nil)
	if c != nil {
		c.Close()
	}
	if !errors.Is(err, codec.ErrKeyFileOpen) || !strings.Contains(err.Error(), "chmod 600") {
		t.Fatalf("err = %v, want codec.ErrKeyFileOpen with the fix", err)
	}
}
