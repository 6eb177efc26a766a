package deploy_test

import (
	"fmt"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"testing"
	"time"
)

const composeDir = "compose"

// composeFile is the subset of the Compose specification compose.yaml
// uses; anything else in the file is an error, so a misspelt key fails.
type composeFile struct {
	Name     string                    `json:"name"`
	Services map[string]composeService `json:"services"`
	Volumes  map[string]*struct{}      `json:"volumes"`
}

type composeService struct {
	Image           string                       `json:"image"`
	Build           *composeBuild                `json:"build"`
	Profiles        []string                     `json:"profiles"`
	Restart         string                       `json:"restart"`
	Deploy          *composeDeploy               `json:"deploy"`
	DependsOn       map[string]composeDependency `json:"depends_on"`
	NetworkMode     string                       `json:"network_mode"`
	Entrypoint      []string                     `json:"entrypoint"`
	Command         []string                     `json:"command"`
	Environment     map[string]string            `json:"environment"`
	Ports           []string                     `json:"ports"`
	Volumes         []string                     `json:"volumes"`
	ExtraHosts      []string                     `json:"extra_hosts"`
	StopGracePeriod string                       `json:"stop_grace_period"`
	Healthcheck     *composeHealthcheck          `json:"healthcheck"`
}

type composeDeploy struct {
	Replicas int `json:"replicas"`
}

type composeBuild struct {
	Context string `json:"context"`
	Target  string `json:"target"`
}

type composeDependency struct {
	Condition string `json:"condition"`
}

type composeHealthcheck struct {
	Test        []string `json:"test"`
	Interval    string   `json:"interval"`
	Timeout     string   `json:"timeout"`
	StartPeriod string   `json:"start_period"`
	Retries     int      `json:"retries"`
}

// interpolation matches Compose's ${NAME}, ${NAME:-default}, ${NAME:?error}.
var interpolation = regexp.MustCompile(`\$\{([A-Z_][A-Z0-9_]*)(?:(:?[-?])([^}]*))?\}`)

// interpolate replaces the variables of src with the values in env
// (.env.example); a variable without a default must be in it.
func interpolate(src string, env map[string]string) (string, []string) {
	var problems []string
	out := interpolation.ReplaceAllStringFunc(src, func(m string) string {
		g := interpolation.FindStringSubmatch(m)
		v, ok := env[g[1]]
		switch {
		case ok && (v != "" || !strings.HasPrefix(g[2], ":")):
			return v
		case strings.HasSuffix(g[2], "-"):
			return g[3]
		case !ok:
			problems = append(problems, fmt.Sprintf("compose.yaml: ${%s} is not in .env.example", g[1]))
		}
		return v
	})
	return strings.ReplaceAll(out, "$$", "$"), problems
}

// dotenv reads KEY=VALUE lines.
func dotenv(src string) map[string]string {
	env := map[string]string{}
	for _, line := range strings.Split(src, "\n") {
		if k, v, ok := strings.Cut(strings.TrimSpace(line), "="); ok && !strings.HasPrefix(k, "#") {
			env[k] = v
		}
	}
	return env
}

// loadCompose reads compose.yaml with .env.example's values.
func loadCompose(t *testing.T) (composeFile, []string) {
	t.Helper()
	src, problems := interpolate(string(readFile(t, filepath.Join(composeDir, "compose.yaml"))),
		dotenv(string(readFile(t, filepath.Join(composeDir, ".env.example")))))
	var f composeFile
	if err := strictDecode([]byte(src), &f); err != nil {
		t.Fatalf("compose.yaml: %v", err)
	}
	return f, problems
}

// TestCompose decodes and checks deploy/compose.
func TestCompose(t *testing.T) {
	f, problems := loadCompose(t)
	reportAll(t, problems)
	reportAll(t, checkCompose(t, f))
}

// voxflowServices are the services that run voxflow, and the Dockerfile
// target each must be built from.
var voxflowServices = map[string]string{
	"temporal-setup": "static", "engine": "static", "api": "static", "media": "media",
}

// checkCompose checks the services as a whole; it returns what is wrong.
func checkCompose(t *testing.T, f composeFile) []string {
	var problems []string
	bad := func(format string, args ...any) {
		problems = append(problems, "compose.yaml: "+fmt.Sprintf(format, args...))
	}
	for _, want := range []string{"postgres", "temporal-schema", "temporal", "temporal-ui", "temporal-setup",
		"engine", "media", "api", "kamailio", "prometheus"} {
		if _, ok := f.Services[want]; !ok {
			bad("no service %s", want)
		}
	}
	stages := dockerStages(t)
	for name, s := range f.Services {
		if _, tag, _ := strings.Cut(s.Image, ":"); tag == "" || tag == "latest" {
			bad("%s: image %q is not pinned to a tag", name, s.Image)
		}
		problems = append(problems, checkDependencies(name, s, f)...)
		if s.Healthcheck != nil {
			for _, d := range []string{s.Healthcheck.Interval, s.Healthcheck.Timeout, s.Healthcheck.StartPeriod} {
				if _, err := time.ParseDuration(d); d != "" && err != nil {
					bad("%s: healthcheck: %v", name, err)
				}
			}
		}
		target, isVoxflow := voxflowServices[name]
		switch {
		case isVoxflow:
			problems = append(problems, checkComposeVoxflow(t, name, s, target, stages)...)
		case s.Build != nil:
			bad("%s: only voxflow's services are built here", name)
		}
	}
	for _, name := range []string{"postgres", "temporal", "prometheus"} {
		if f.Services[name].Healthcheck == nil {
			bad("%s: no healthcheck (others wait for it)", name)
		}
	}
	if d := f.Services["engine"].Deploy; d == nil || d.Replicas != 2 {
		bad("engine: want deploy.replicas: 2")
	}
	problems = append(problems, checkScrapes(t, f)...)
	problems = append(problems, checkKamailioCompose(t, f)...)
	return problems
}

// checkDependencies: depends_on names services, with a condition they can
// meet.
func checkDependencies(name string, s composeService, f composeFile) []string {
	var problems []string
	for dep, d := range s.DependsOn {
		target, ok := f.Services[dep]
		switch {
		case !ok:
			problems = append(problems, fmt.Sprintf("compose.yaml: %s depends on %s, which is no service", name, dep))
		case d.Condition == "service_healthy" && target.Healthcheck == nil:
			problems = append(problems, fmt.Sprintf("compose.yaml: %s waits for %s to be healthy, which has no healthcheck", name, dep))
		case !slices.Contains([]string{"service_started", "service_healthy", "service_completed_successfully"}, d.Condition):
			problems = append(problems, fmt.Sprintf("compose.yaml: %s: depends_on %s: condition %q", name, dep, d.Condition))
		}
	}
	return problems
}

// composeProcess is a voxflow service's process: its command line, its
// environment and the files it mounts from deploy/compose.
func composeProcess(t *testing.T, name string, s composeService) process {
	files := map[string]string{}
	for _, v := range s.Volumes {
		parts := strings.Split(v, ":")
		if len(parts) >= 2 && strings.HasPrefix(parts[0], ".") {
			files[parts[1]] = string(readFile(t, filepath.Join(composeDir, parts[0])))
		}
	}
	return process{where: "compose.yaml: " + name, args: s.Command, env: s.Environment, files: files}
}

// checkComposeVoxflow: image and target, command line and settings,
// healthcheck on /healthz at the right port, and time to stop.
func checkComposeVoxflow(t *testing.T, name string, s composeService, target string, stages map[string]dockerStage) []string {
	var problems []string
	bad := func(format string, args ...any) {
		problems = append(problems, "compose.yaml: "+name+": "+fmt.Sprintf(format, args...))
	}
	if s.Build == nil || s.Build.Target != target || filepath.Clean(filepath.Join(composeDir, s.Build.Context)) != ".." {
		bad("build the Dockerfile's %s target from the repository root (context ../..)", target)
	}
	if len(s.Entrypoint) > 0 {
		bad("leave the entrypoint (voxflow) to the image")
	}
	cmd, cfg, procProblems := composeProcess(t, name, s).check(t)
	problems = append(problems, procProblems...)
	if cmd == nil || len(procProblems) > 0 || cmd.Name() == "setup" {
		return problems
	}
	port := portOf(cfg.AdminAddr)
	if cmd.Name() == "api" {
		port = portOf(cfg.API.HTTPAddr)
	}
	want := []string{"CMD", "/usr/local/bin/voxflow-healthcheck", "http://127.0.0.1:" + port + "/healthz"}
	if s.Healthcheck == nil || !slices.Equal(s.Healthcheck.Test, want) {
		bad("want healthcheck test %q", want)
	}
	if st, ok := stages[target]; !ok || !slices.ContainsFunc(st.copies, func(c string) bool {
		return strings.Contains(c, "voxflow-healthcheck") && strings.HasSuffix(c, " /usr/local/bin/")
	}) {
		bad("the Dockerfile's %s stage does not put voxflow-healthcheck in /usr/local/bin", target)
	}
	need, why := stopTime(cmd.Name(), cfg)
	if g, err := time.ParseDuration(s.StopGracePeriod); err != nil || g <= need {
		bad("stop_grace_period %q is not longer than %s (%s)", s.StopGracePeriod, why, need)
	}
	return problems
}

// promConfig is the part of prometheus.yml compose.yaml mounts.
type promConfig struct {
	Global struct {
		ScrapeInterval string `json:"scrape_interval"`
	} `json:"global"`
	ScrapeConfigs []struct {
		JobName       string `json:"job_name"`
		StaticConfigs []struct {
			Targets []string `json:"targets"`
		} `json:"static_configs"`
		DNSSDConfigs []struct {
			Names []string `json:"names"`
			Type  string   `json:"type"`
			Port  int      `json:"port"`
		} `json:"dns_sd_configs"`
	} `json:"scrape_configs"`
}

// checkScrapes: Prometheus scrapes every voxflow process and Temporal
// where they serve /metrics.
func checkScrapes(t *testing.T, f composeFile) []string {
	var pc promConfig
	if err := strictDecode(readFile(t, filepath.Join(composeDir, "prometheus.yml")), &pc); err != nil {
		return []string{"prometheus.yml: " + err.Error()}
	}
	targets := map[string]bool{}
	for _, sc := range pc.ScrapeConfigs {
		for _, s := range sc.StaticConfigs {
			for _, tg := range s.Targets {
				targets[tg] = true
			}
		}
		for _, d := range sc.DNSSDConfigs {
			for _, n := range d.Names {
				targets[fmt.Sprintf("%s:%d", n, d.Port)] = true
			}
		}
	}
	want := map[string]string{"temporal": "temporal:" + portOf(f.Services["temporal"].Environment["PROMETHEUS_ENDPOINT"])}
	for _, name := range []string{"engine", "api", "media"} {
		s := f.Services[name]
		_, cfg, _ := composeProcess(t, name, s).check(t)
		addr := cfg.AdminAddr
		if name == "api" {
			addr = cfg.API.HTTPAddr
		}
		host := name
		if s.NetworkMode == "host" {
			host = "host.docker.internal"
		}
		want[name] = host + ":" + portOf(addr)
	}
	var problems []string
	for name, tg := range want {
		if !targets[tg] {
			problems = append(problems, fmt.Sprintf("prometheus.yml: no job scrapes %s at %s", name, tg))
		}
	}
	return problems
}

// checkKamailioCompose: Kamailio runs the repository's configuration with a
// dispatcher list naming the media worker's SIP address.
func checkKamailioCompose(t *testing.T, f composeFile) []string {
	k, media := f.Services["kamailio"], f.Services["media"]
	var problems []string
	mounts := map[string]string{}
	for _, v := range k.Volumes {
		parts := strings.Split(v, ":")
		mounts[parts[1]] = parts[0]
	}
	cfgPath := argValue(k.Command, "-f")
	if filepath.Clean(filepath.Join(composeDir, mounts[cfgPath])) != filepath.Join("kamailio", "kamailio.cfg") {
		problems = append(problems, "compose.yaml: kamailio: -f must name deploy/kamailio/kamailio.cfg, mounted")
		return problems
	}
	listPath := dispatcherPath(string(readFile(t, filepath.Join("kamailio", "kamailio.cfg"))))
	local, ok := mounts[listPath]
	if !ok {
		return append(problems, "compose.yaml: kamailio: nothing is mounted at "+listPath)
	}
	if k.NetworkMode != media.NetworkMode {
		problems = append(problems, "compose.yaml: kamailio and media must share a network mode (the list names loopback)")
	}
	_, cfg, _ := composeProcess(t, "media", media).check(t)
	list := string(readFile(t, filepath.Join(composeDir, local)))
	return append(problems, checkDispatcher("compose "+local, list, "127.0.0.1", portOf(cfg.Media.SIPAddr))...)
}

// TestComposeChecksRejectJunk: a broken compose file is refused.
func TestComposeChecksRejectJunk(t *testing.T) {
	src := string(readFile(t, filepath.Join(composeDir, "compose.yaml")))
	if err := strictDecode([]byte(strings.Replace(src, "stop_grace_period:", "stop_grace_periods:", 1)), &composeFile{}); err == nil {
		t.Error("a misspelt key decoded without error")
	}
	if _, problems := interpolate("${NOT_IN_ENV_EXAMPLE:?x}", map[string]string{}); len(problems) == 0 {
		t.Error("a variable missing from .env.example went unnoticed")
	}
	cases := []struct {
		name, want string
		mutate     func(f *composeFile)
	}{
		{"untagged image", "not pinned", func(f *composeFile) { f.Services["postgres"] = withImage(f.Services["postgres"], "postgres") }},
		{"latest image", "not pinned", func(f *composeFile) {
			f.Services["prometheus"] = withImage(f.Services["prometheus"], "prom/prometheus:latest")
		}},
		{"media grace", "media.drain_timeout", func(f *composeFile) {
			s := f.Services["media"]
			s.StopGracePeriod = "10s"
			f.Services["media"] = s
		}},
		{"unknown flag", "unknown flag", func(f *composeFile) {
			s := f.Services["engine"]
			s.Command = append(slices.Clone(s.Command), "--replicas", "2")
			f.Services["engine"] = s
		}},
		{"wrong healthcheck port", "want healthcheck", func(f *composeFile) {
			s := f.Services["api"]
			s.Command = []string{"api", "--config", "/etc/voxflow/voxflow.yaml", "--http", ":8081"}
			f.Services["api"] = s
		}},
		{"wrong target", "target", func(f *composeFile) {
			s := f.Services["media"]
			s.Build = &composeBuild{Context: "../..", Target: "static"}
			f.Services["media"] = s
		}},
		{"dependency without healthcheck", "has no healthcheck", func(f *composeFile) {
			s := f.Services["temporal"]
			s.Healthcheck = nil
			f.Services["temporal"] = s
		}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			f, _ := loadCompose(t)
			c.mutate(&f)
			wantProblem(t, checkCompose(t, f), c.want)
		})
	}
}

func withImage(s composeService, image string) composeService {
	s.Image = image
	return s
}
