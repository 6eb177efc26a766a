// Package devtemporal runs an embedded, file-backed Temporal server for
// `voxflow dev`: the go.temporal.io/server library with SQLite persistence in
// one file, one history shard, static membership on the loopback interface, and
// dynamic config tuned for low dispatch latency on a single node
// (TunedDynamicConfig). Calls survive a restart of the process.
//
// It is configured the way the Temporal CLI's `temporal server start-dev
// --db-filename` configures the same library.
package devtemporal

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"time"

	enumspb "go.temporal.io/api/enums/v1"
	"go.temporal.io/api/workflowservice/v1"
	"go.temporal.io/sdk/client"
	sdklog "go.temporal.io/sdk/log"
	"go.temporal.io/server/common/authorization"
	"go.temporal.io/server/common/cluster"
	"go.temporal.io/server/common/config"
	"go.temporal.io/server/common/membership/static"
	sqliteplugin "go.temporal.io/server/common/persistence/sql/sqlplugin/sqlite"
	"go.temporal.io/server/common/primitives"
	sqliteschema "go.temporal.io/server/schema/sqlite"
	"go.temporal.io/server/temporal"
)

// DBFileName is the SQLite file Start keeps in Config.DataDir.
const DBFileName = "temporal.db"

// ErrPortInUse is wrapped by the error Start returns when the frontend port is
// taken (typically another `voxflow dev` or `temporal server start-dev`).
var ErrPortInUse = errors.New("temporal port is already in use")

// Config configures Start. Zero values take the documented defaults.
type Config struct {
	// DataDir holds temporal.db; created if missing. Required. One server at
	// a time per data dir (Start returns ErrDataDirInUse otherwise).
	DataDir string
	// IP the services bind to; default 127.0.0.1.
	IP string
	// Port of the frontend gRPC service; default 7233. History, matching,
	// worker and the frontend HTTP API take free ports.
	Port int
	// Namespace registered at start; default "default".
	Namespace string
	// Logger receives the server's logs at warn level and above; nil discards them.
	Logger *slog.Logger
	// DynamicConfig adds to or overrides TunedDynamicConfig.
	DynamicConfig map[string]any
}

// Server is a running embedded Temporal server.
type Server struct {
	srv      temporal.Server
	hostPort string
	httpPort int
	dbPath   string
	logLevel *slog.LevelVar
	unlock   func()

	stopOnce sync.Once
	stopErr  error
}

const (
	clusterName = "active"
	// startTimeout bounds the readiness wait when ctx has no deadline.
	startTimeout = 30 * time.Second
)

// Start starts the server and returns once the frontend answers and the
// namespace is served. Cancelling ctx during startup aborts it; ctx is not
// used after Start returns (call Stop).
func Start(ctx context.Context, cfg Config) (*Server, error) {
	if cfg.DataDir == "" {
		return nil, errors.New("devtemporal: Config.DataDir is required")
	}
	cfg = cfg.withDefaults()
	logger, logLevel := newServerLogger(cfg.Logger)

	if unknown := unknownDynamicConfigKeys(cfg.DynamicConfig); len(unknown) > 0 {
		return nil, fmt.Errorf("devtemporal: unknown dynamic config keys %q", unknown)
	}

	hostPort := net.JoinHostPort(cfg.IP, strconv.Itoa(cfg.Port))
	if err := checkPortFree(hostPort); err != nil {
		return nil, portInUseError(cfg, err)
	}

	dbPath, unlock, err := openDataDir(cfg.DataDir)
	if err != nil {
		return nil, err
	}
	started := false
	defer func() {
		if !started {
			unlock()
		}
	}()

	sqlCfg, err := prepareDatabase(dbPath, cfg.Namespace)
	if err != nil {
		return nil, err
	}
	ports, srv, err := createServer(cfg, sqlCfg, logger)
	if err != nil {
		return nil, err
	}
	if err := srv.Start(); err != nil {
		_ = srv.Stop()
		if isAddrInUse(err) && strings.Contains(err.Error(), ":"+strconv.Itoa(cfg.Port)) {
			return nil, portInUseError(cfg, err)
		}
		return nil, fmt.Errorf("devtemporal: start server: %w", err)
	}

	s := &Server{srv: srv, hostPort: hostPort, httpPort: ports["frontend-http"], dbPath: dbPath, logLevel: logLevel, unlock: unlock}
	started = true
	if err := waitReady(ctx, hostPort, cfg.Namespace); err != nil {
		_ = s.Stop()
		return nil, err
	}
	return s, nil
}

// withDefaults fills in the documented defaults of cfg's zero fields.
func (cfg Config) withDefaults() Config {
	if cfg.IP == "" {
		cfg.IP = "127.0.0.1"
	}
	if cfg.IP == "localhost" {
		// The server wants an IP, not a name.
		cfg.IP = "127.0.0.1"
	}
	if cfg.Port == 0 {
		cfg.Port = 7233
	}
	if cfg.Namespace == "" {
		cfg.Namespace = "default"
	}
	return cfg
}

// openDataDir creates the data dir if missing and locks it for this
// server; it returns the database's path in it and the unlock function.
func openDataDir(dir string) (dbPath string, unlock func(), err error) {
	dataDir, err := filepath.Abs(dir)
	if err != nil {
		return "", nil, fmt.Errorf("devtemporal: data dir: %w", err)
	}
	if err := os.MkdirAll(dataDir, 0o755); err != nil {
		return "", nil, fmt.Errorf("devtemporal: create data dir: %w", err)
	}
	unlock, err = lockDataDir(dataDir)
	if err != nil {
		return "", nil, err
	}
	return filepath.Join(dataDir, DBFileName), unlock, nil
}

// servicePorts is the port of each service: the frontend's given one, and
// free ports on ip for the others.
func servicePorts(ip string, frontend int) (map[string]int, error) {
	ports := map[string]int{"frontend": frontend}
	for _, svc := range []string{"history", "matching", "worker", "frontend-http"} {
		p, err := freePort(ip)
		if err != nil {
			return nil, fmt.Errorf("devtemporal: free port for %s: %w", svc, err)
		}
		ports[svc] = p
	}
	return ports, nil
}

// newServer builds the Temporal server of all default services on conf,
// each found at its port on cfg.IP (static membership).
func newServer(cfg Config, conf *config.Config, ports map[string]int, logger serverLogger) (srv temporal.Server, err error) {
	authorizer, err := authorization.GetAuthorizerFromConfig(&conf.Global.Authorization)
	if err != nil {
		return nil, fmt.Errorf("devtemporal: authorizer: %w", err)
	}
	claimMapper, err := authorization.GetClaimMapperFromConfig(&conf.Global.Authorization, logger)
	if err != nil {
		return nil, fmt.Errorf("devtemporal: claim mapper: %w", err)
	}

	hosts := make(map[primitives.ServiceName]static.Hosts, 4)
	for _, svc := range []primitives.ServiceName{
		primitives.FrontendService, primitives.HistoryService,
		primitives.MatchingService, primitives.WorkerService,
	} {
		hosts[svc] = static.SingleLocalHost(net.JoinHostPort(cfg.IP, strconv.Itoa(ports[string(svc)])))
	}

	// The server library panics (a nil listener) instead of failing when a
	// service port it was given is taken between our pick and its listen.
	defer func() {
		if r := recover(); r != nil {
			srv, err = nil, fmt.Errorf("%w: %v", ErrStartRace, r)
		}
	}()
	srv, err = temporal.NewServer(
		temporal.WithConfig(conf),
		temporal.ForServices(temporal.DefaultServices),
		temporal.WithStaticHosts(hosts),
		temporal.WithLogger(logger),
		temporal.WithAuthorizer(authorizer),
		temporal.WithClaimMapper(func(*config.Config) authorization.ClaimMapper { return claimMapper }),
		temporal.WithDynamicConfigClient(staticDynamicConfig(cfg.DynamicConfig)),
	)
	if err != nil {
		return nil, fmt.Errorf("devtemporal: create server: %w", err)
	}
	return srv, nil
}

// createServer creates the server on free service ports, picking new ones
// when another process took one meanwhile (ErrStartRace).
func createServer(cfg Config, sqlCfg *config.SQL, logger serverLogger) (map[string]int, temporal.Server, error) {
	var err error
	for range 3 {
		var ports map[string]int
		if ports, err = servicePorts(cfg.IP, cfg.Port); err != nil {
			return nil, nil, err
		}
		var srv temporal.Server
		if srv, err = newServer(cfg, serverConfig(cfg, sqlCfg, ports), ports, logger); err == nil {
			return ports, srv, nil
		}
		if !errors.Is(err, ErrStartRace) {
			break
		}
	}
	return nil, nil, err
}

// ErrStartRace: a port picked for the server was taken by another process
// before the server listened on it; starting again picks new ports.
var ErrStartRace = errors.New("devtemporal: a port was taken while the server started")

// FrontendHostPort is the frontend gRPC address, for client.Options.HostPort.
func (s *Server) FrontendHostPort() string { return s.hostPort }

// FrontendHTTPHostPort is the frontend's HTTP API address (a free port).
func (s *Server) FrontendHTTPHostPort() string {
	host, _, _ := net.SplitHostPort(s.hostPort)
	return net.JoinHostPort(host, strconv.Itoa(s.httpPort))
}

// DBPath is the SQLite file holding the server's state.
func (s *Server) DBPath() string { return s.dbPath }

// Stop shuts the server down. It is safe to call more than once. From here on
// only errors are logged: services losing their peers during shutdown warn a lot.
func (s *Server) Stop() error {
	s.stopOnce.Do(func() {
		s.logLevel.Set(slog.LevelError)
		if err := s.srv.Stop(); err != nil {
			s.stopErr = fmt.Errorf("devtemporal: stop server: %w", err)
		}
		s.unlock()
	})
	return s.stopErr
}

// prepareDatabase creates the schema when the file is new and registers the
// namespace (with voxflow's search attributes) when it is missing.
func prepareDatabase(dbPath, namespace string) (*config.SQL, error) {
	sqlCfg := &config.SQL{
		PluginName:   sqliteplugin.PluginName,
		DatabaseName: dbPath,
		ConnectAttributes: map[string]string{
			"mode": "rwc",
			// Write-ahead log with normal sync: commits survive a crash of the
			// process (what `voxflow dev` needs) without an fsync per dispatch hop.
			"journal_mode": "wal",
			"synchronous":  "normal",
		},
	}
	if _, err := os.Stat(dbPath); errors.Is(err, os.ErrNotExist) {
		if err := sqliteschema.SetupSchema(sqlCfg); err != nil {
			// Leave no half-initialised file behind: the next start would skip setup.
			for _, suffix := range []string{"", "-wal", "-shm"} {
				_ = os.Remove(dbPath + suffix)
			}
			return nil, fmt.Errorf("devtemporal: set up schema in %s: %w", dbPath, err)
		}
	} else if err != nil {
		return nil, fmt.Errorf("devtemporal: %w", err)
	}
	nsCfg, err := sqliteschema.NewNamespaceConfig(clusterName, namespace, false, SearchAttributes())
	if err != nil {
		return nil, fmt.Errorf("devtemporal: namespace %q: %w", namespace, err)
	}
	if err := sqliteschema.CreateNamespaces(sqlCfg, nsCfg); err != nil {
		return nil, fmt.Errorf("devtemporal: register namespace %q: %w", namespace, err)
	}
	return sqlCfg, nil
}

func serverConfig(cfg Config, sqlCfg *config.SQL, ports map[string]int) *config.Config {
	addr := func(port int) string { return net.JoinHostPort(cfg.IP, strconv.Itoa(port)) }
	service := func(grpcPort int) config.Service {
		return config.Service{RPC: config.RPC{GRPCPort: grpcPort, BindOnIP: cfg.IP}}
	}
	frontend := service(ports["frontend"])
	frontend.RPC.HTTPPort = ports["frontend-http"]

	const store = "sqlite-default"
	var conf config.Config
	conf.Global.Membership.MaxJoinDuration = 30 * time.Second
	conf.Global.Membership.BroadcastAddress = cfg.IP
	conf.Persistence.DefaultStore = store
	conf.Persistence.VisibilityStore = store
	conf.Persistence.NumHistoryShards = 1
	conf.Persistence.DataStores = map[string]config.DataStore{store: {SQL: sqlCfg}}
	conf.ClusterMetadata = &cluster.Config{
		EnableGlobalNamespace:    false,
		FailoverVersionIncrement: 10,
		MasterClusterName:        clusterName,
		CurrentClusterName:       clusterName,
		ClusterInformation: map[string]cluster.ClusterInformation{
			clusterName: {
				Enabled:                true,
				InitialFailoverVersion: 1,
				RPCAddress:             addr(ports["frontend"]),
				HTTPAddress:            addr(ports["frontend-http"]),
			},
		},
	}
	conf.DCRedirectionPolicy.Policy = "noop"
	conf.Services = map[string]config.Service{
		string(primitives.FrontendService): frontend,
		string(primitives.HistoryService):  service(ports["history"]),
		string(primitives.MatchingService): service(ports["matching"]),
		string(primitives.WorkerService):   service(ports["worker"]),
	}
	conf.Archival.History.State = "disabled"
	conf.Archival.Visibility.State = "disabled"
	conf.NamespaceDefaults.Archival.History.State = "disabled"
	conf.NamespaceDefaults.Archival.Visibility.State = "disabled"
	// The worker service (system workflows) connects back through this.
	conf.PublicClient.HostPort = addr(ports["frontend"])
	return &conf
}

// waitReady waits until the frontend answers and serves the namespace.
func waitReady(ctx context.Context, hostPort, namespace string) error {
	if _, ok := ctx.Deadline(); !ok {
		var cancel context.CancelFunc
		ctx, cancel = context.WithTimeout(ctx, startTimeout)
		defer cancel()
	}
	var lastErr error
	for {
		lastErr = probe(ctx, hostPort, namespace)
		if lastErr == nil {
			return nil
		}
		select {
		case <-ctx.Done():
			return fmt.Errorf("devtemporal: server at %s not ready: %w (last error: %v)", hostPort, ctx.Err(), lastErr)
		case <-time.After(50 * time.Millisecond):
		}
	}
}

func probe(ctx context.Context, hostPort, namespace string) error {
	c, err := client.DialContext(ctx, client.Options{
		HostPort:  hostPort,
		Namespace: namespace,
		Logger:    sdklog.NewStructuredLogger(slog.New(slog.DiscardHandler)),
	})
	if err != nil {
		return err
	}
	defer c.Close()
	resp, err := c.WorkflowService().DescribeNamespace(ctx, &workflowservice.DescribeNamespaceRequest{Namespace: namespace})
	if err != nil {
		return err
	}
	if st := resp.GetNamespaceInfo().GetState(); st != enumspb.NAMESPACE_STATE_REGISTERED {
		return fmt.Errorf("namespace %q is %v", namespace, st)
	}
	return nil
}

func portInUseError(cfg Config, cause error) error {
	return fmt.Errorf("devtemporal: cannot listen on %s port %d: %w (%v); choose another with --temporal-port",
		cfg.IP, cfg.Port, ErrPortInUse, cause)
}

func isAddrInUse(err error) bool {
	return errors.Is(err, syscall.EADDRINUSE)
}

func checkPortFree(hostPort string) error {
	l, err := net.Listen("tcp", hostPort)
	if err != nil {
		return err
	}
	return l.Close()
}

// freePort asks the kernel for a free port on ip. The port is put in
// TIME_WAIT by a connection closed from the listening side, which keeps the
// kernel from handing the same port to another bind(":0") for a while, while
// the server can still bind it explicitly (Go sets SO_REUSEADDR).
func freePort(ip string) (int, error) {
	l, err := net.Listen("tcp", net.JoinHostPort(ip, "0"))
	if err != nil {
		return 0, err
	}
	defer l.Close()
	addr := l.Addr().(*net.TCPAddr)
	conn, err := net.DialTCP("tcp", nil, addr)
	if err != nil {
		return addr.Port, nil
	}
	defer conn.Close()
	if server, err := l.Accept(); err == nil {
		_ = server.Close()
	}
	return addr.Port, nil
}
