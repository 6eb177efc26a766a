package deploy_test

import (
	"bytes"
	"fmt"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"testing"

	"github.com/voxflow/voxflow/media/asr"
	"github.com/voxflow/voxflow/media/tts"
)

// dockerStage is what the checks need of one stage of the Dockerfile.
type dockerStage struct {
	name, base string
	index      int
	user       string   // the last USER, "" if none (root)
	copies     []string // COPY arguments
	runs       []string // RUN commands
	entrypoint string
}

// parseDockerfile reads the stages of a Dockerfile: instructions joined
// across continuation lines, comments dropped.
func parseDockerfile(src string) ([]dockerStage, error) {
	var stages []dockerStage
	src = regexp.MustCompile(`\\\n(\s*#[^\n]*\n)*`).ReplaceAllString(src, " ")
	from := regexp.MustCompile(`^(?i)FROM\s+(?:--platform=\S+\s+)?(\S+)(?:\s+AS\s+(\S+))?$`)
	for n, line := range strings.Split(src, "\n") {
		line = strings.TrimSpace(line)
		if line == "" || strings.HasPrefix(line, "#") {
			continue
		}
		instr, rest, _ := strings.Cut(line, " ")
		rest = strings.TrimSpace(rest)
		if strings.EqualFold(instr, "FROM") {
			m := from.FindStringSubmatch(line)
			if m == nil {
				return nil, fmt.Errorf("Dockerfile:%d: cannot read %q", n+1, line)
			}
			stages = append(stages, dockerStage{name: m[2], base: m[1], index: len(stages)})
			continue
		}
		if len(stages) == 0 {
			if strings.EqualFold(instr, "ARG") {
				continue
			}
			return nil, fmt.Errorf("Dockerfile:%d: %s before FROM", n+1, instr)
		}
		st := &stages[len(stages)-1]
		switch strings.ToUpper(instr) {
		case "USER":
			st.user = rest
		case "COPY":
			st.copies = append(st.copies, rest)
		case "RUN":
			st.runs = append(st.runs, rest)
		case "ENTRYPOINT":
			st.entrypoint = rest
		}
	}
	return stages, nil
}

func dockerStages(t *testing.T) map[string]dockerStage {
	t.Helper()
	stages, err := parseDockerfile(string(readFile(t, "../Dockerfile")))
	if err != nil {
		t.Fatal(err)
	}
	byName := map[string]dockerStage{}
	for _, s := range stages {
		byName[s.name] = s
	}
	return byName
}

// TestDockerfile checks the Dockerfile's stages.
func TestDockerfile(t *testing.T) {
	stages, err := parseDockerfile(string(readFile(t, "../Dockerfile")))
	if err != nil {
		t.Fatal(err)
	}
	reportAll(t, checkDockerfile(stages))
}

// checkDockerfile: a static build stage, and two runtime stages (media, and
// static as the default) that run voxflow as a non-root user.
func checkDockerfile(stages []dockerStage) []string {
	var problems []string
	bad := func(format string, args ...any) {
		problems = append(problems, "Dockerfile: "+fmt.Sprintf(format, args...))
	}
	byName := map[string]dockerStage{}
	for _, s := range stages {
		byName[s.name] = s
	}
	build, ok := byName["build"]
	if !ok || !strings.HasPrefix(build.base, "golang:1.26") {
		bad("want a build stage FROM golang:1.26")
	}
	runs := strings.Join(build.runs, "\n")
	for _, want := range []string{"CGO_ENABLED=0", "-trimpath", "./cmd/voxflow", "./deploy/compose/healthcheck/healthcheck.go"} {
		if !strings.Contains(runs, want) {
			bad("the build stage's go build lacks %s", want)
		}
	}
	if len(stages) == 0 || stages[len(stages)-1].name != "static" {
		bad("the last stage (the default target) must be static")
	}
	if s := byName["static"]; !strings.HasPrefix(s.base, "gcr.io/distroless/static") || !strings.HasSuffix(s.base, ":nonroot") {
		bad("static: want FROM gcr.io/distroless/static-...:nonroot, got %q", s.base)
	}
	if s := byName["media"]; !regexp.MustCompile(`^debian:[a-z]+-slim$`).MatchString(s.base) {
		bad("media: want FROM debian:<release>-slim, got %q", s.base)
	}
	for _, name := range []string{"static", "media"} {
		problems = append(problems, checkRuntimeStage(byName[name])...)
	}
	// What the media worker runs besides itself (media/tts, media/asr).
	installs := strings.Join(byName["media"].runs, "\n")
	for program, pkg := range map[string]string{tts.EspeakCommand: "espeak-ng", asr.PocketsphinxCommand: "pocketsphinx", asr.DefaultModelDir: "pocketsphinx-en-us"} {
		if !regexp.MustCompile(`apt-get install[^\n]*\s` + regexp.QuoteMeta(pkg) + `(\s|$)`).MatchString(installs) {
			bad("media: %s needs the Debian package %s", program, pkg)
		}
	}
	return problems
}

// checkRuntimeStage: voxflow and its health probe from the build stage,
// voxflow as the entrypoint, a numeric non-root user.
func checkRuntimeStage(s dockerStage) []string {
	var problems []string
	bad := func(format string, args ...any) {
		problems = append(problems, "Dockerfile: "+s.name+": "+fmt.Sprintf(format, args...))
	}
	if s.name == "" {
		return []string{"Dockerfile: a runtime stage is missing"}
	}
	if !slices.ContainsFunc(s.copies, func(c string) bool {
		return strings.HasPrefix(c, "--from=build ") && strings.Contains(c, "/out/voxflow ") && strings.HasSuffix(c, " /usr/local/bin/")
	}) {
		bad("does not copy /out/voxflow from the build stage to /usr/local/bin/")
	}
	if s.entrypoint != `["/usr/local/bin/voxflow"]` {
		bad("ENTRYPOINT %s, want [\"/usr/local/bin/voxflow\"]", s.entrypoint)
	}
	uid, _, _ := strings.Cut(s.user, ":")
	if n, err := strconv.Atoi(uid); err != nil || n == 0 {
		bad("USER %q: want a numeric non-root user (Kubernetes' runAsNonRoot can only check a number)", s.user)
	}
	return problems
}

// TestDockerfileChecksRejectJunk: a root or shell-less image is refused.
func TestDockerfileChecksRejectJunk(t *testing.T) {
	src := string(readFile(t, "../Dockerfile"))
	cases := []struct{ name, junk, want string }{
		{"root user", strings.Replace(src, "USER 65532:65532\n# voxflow api", "USER root\n# voxflow api", 1), "static: USER \"root\""},
		{"no user", strings.Replace(src, "USER 65532:65532\n# SIP", "# SIP", 1), "media: USER \"\""},
		{"cgo on", strings.ReplaceAll(src, "CGO_ENABLED=0", "CGO_ENABLED=1"), "lacks CGO_ENABLED=0"},
		{"media last", src + "\nFROM debian:bookworm-slim AS media2\n", "the last stage"},
		{"no espeak", strings.Replace(src, "tzdata espeak-ng pocketsphinx", "tzdata pocketsphinx", 1), "package espeak-ng"},
		{"wrong entrypoint", strings.Replace(src, `ENTRYPOINT ["/usr/local/bin/voxflow"]`, `ENTRYPOINT ["/bin/sh"]`, 1), "ENTRYPOINT"},
		{"no trimpath", strings.ReplaceAll(src, "-trimpath", ""), "lacks -trimpath"},
		{"latest distroless", strings.Replace(src, "static-debian12:nonroot", "static-debian12:latest", 1), "static: want FROM"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			stages, err := parseDockerfile(c.junk)
			if err != nil {
				t.Fatal(err)
			}
			wantProblem(t, checkDockerfile(stages), c.want)
		})
	}
}

// TestHealthcheckProbe builds the images' health probe as the Dockerfile
// does and runs it against a ready, an unready and a closed server.
func TestHealthcheckProbe(t *testing.T) {
	bin := filepath.Join(t.TempDir(), "voxflow-healthcheck")
	build := exec.Command("go", "build", "-trimpath", "-o", bin, "./compose/healthcheck/healthcheck.go")
	build.Env = append(os.Environ(), "CGO_ENABLED=0")
	if out, err := build.CombinedOutput(); err != nil {
		t.Fatalf("go build: %v\n%s", err, out)
	}
	ready := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) { fmt.Fprint(w, "ok") }))
	defer ready.Close()
	unready := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
		http.Error(w, "temporal: unavailable", http.StatusServiceUnavailable)
	}))
	defer unready.Close()
	closed := httptest.NewServer(http.NotFoundHandler())
	closed.Close()
	for _, c := range []struct {
		name, url, stderr string
		code              int
	}{
		{"ready", ready.URL + "/healthz", "", 0},
		{"unready", unready.URL + "/healthz", "503 Service Unavailable: temporal: unavailable", 1},
		{"closed", closed.URL + "/healthz", "connection refused", 1},
	} {
		var stderr bytes.Buffer
		cmd := exec.Command(bin, c.url)
		cmd.Stderr = &stderr
		err := cmd.Run()
		code := 0
		if ee, ok := err.(*exec.ExitError); ok {
			code = ee.ExitCode()
		} else if err != nil {
			t.Fatal(err)
		}
		if code != c.code || !strings.Contains(stderr.String(), c.stderr) {
			t.Errorf("%s: exit %d, stderr %q; want exit %d and %q", c.name, code, stderr.String(), c.code, c.stderr)
		}
	}
}
