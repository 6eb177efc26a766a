// Package deploy_test checks the packaging under deploy/ and the
// repository's Dockerfile against the code, strictly, since no container
// engine or Kubernetes cluster runs where they are tested:
//
//   - every Kubernetes manifest decodes into the typed k8s.io/api structs
//     with unknown, misspelt or duplicate fields refused (kubernetes_test.go);
//   - compose.yaml decodes into the subset of the Compose schema it uses,
//     just as strictly (compose_test.go);
//   - the Dockerfile's stages and users are read (dockerfile_test.go);
//   - every voxflow command line in them is parsed by the real command tree
//     (internal/cli), its environment variables are checked against the
//     settings the command has, and its configuration file is loaded by
//     platform/config (unknown keys and bad values fail with line:column).
//
// The *Junk tests mutate a good manifest and expect the checks to object,
// so that the checks themselves are seen to bite.
package deploy_test

import (
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/spf13/cobra"
	"github.com/spf13/pflag"
	kjson "sigs.k8s.io/json"
	"sigs.k8s.io/yaml"

	"github.com/voxflow/voxflow/internal/cli"
	"github.com/voxflow/voxflow/platform"
	"github.com/voxflow/voxflow/platform/config"
)

// strictDecode decodes one YAML document into obj: duplicate keys, unknown
// fields and fields in the wrong case are errors.
func strictDecode(doc []byte, obj any) error {
	j, err := yaml.YAMLToJSONStrict(doc)
	if err != nil {
		return err
	}
	strict, err := kjson.UnmarshalStrict(j, obj, kjson.DisallowUnknownFields)
	if err != nil {
		return err
	}
	if len(strict) > 0 {
		msgs := make([]string, len(strict))
		for i, e := range strict {
			msgs[i] = e.Error()
		}
		return fmt.Errorf("%s", strings.Join(msgs, "; "))
	}
	return nil
}

// splitDocs splits a multi-document YAML file at its "---" lines.
func splitDocs(src []byte) [][]byte {
	var docs [][]byte
	for _, d := range regexp.MustCompile(`(?m)^---[ \t]*$`).Split(string(src), -1) {
		if strings.TrimSpace(stripComments(d)) != "" {
			docs = append(docs, []byte(d))
		}
	}
	return docs
}

func stripComments(s string) string {
	var b strings.Builder
	for _, line := range strings.Split(s, "\n") {
		if !strings.HasPrefix(strings.TrimSpace(line), "#") {
			b.WriteString(line + "\n")
		}
	}
	return b.String()
}

func readFile(t *testing.T, path string) []byte {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// process is one voxflow process as a manifest describes it.
type process struct {
	where string            // for messages: file and container
	args  []string          // after the voxflow entrypoint
	env   map[string]string // as the process would see it
	files map[string]string // path in the container -> content
}

// settingRE matches the end of a setting flag's usage: "(key, $ENV)".
var settingRE = regexp.MustCompile(`\(([a-z0-9_.]+), \$([A-Z0-9_]+)\)$`)

// envRE finds the environment variables a usage names.
var envRE = regexp.MustCompile(`\$([A-Z][A-Z0-9_]+)`)

// settingsOf returns the setting keys a command binds to flags, and every
// environment variable its flags' usages name (VOXFLOW_LLM_API_KEY is
// read directly and named only in prose).
func settingsOf(cmd *cobra.Command) (keys []string, envs map[string]bool) {
	envs = map[string]bool{}
	cmd.Flags().VisitAll(func(f *pflag.Flag) {
		if f.Hidden { // an old name of a setting
			return
		}
		if m := settingRE.FindStringSubmatch(f.Usage); m != nil {
			keys = append(keys, m[1])
		}
		for _, m := range envRE.FindAllStringSubmatch(f.Usage, -1) {
			envs[m[1]] = true
		}
	})
	return keys, envs
}

// allSettingEnvs is every variable any command's settings read.
func allSettingEnvs(root *cobra.Command) map[string]bool {
	all := map[string]bool{}
	var walk func(*cobra.Command)
	walk = func(c *cobra.Command) {
		_, envs := settingsOf(c)
		for e := range envs {
			all[e] = true
		}
		for _, sub := range c.Commands() {
			walk(sub)
		}
	}
	walk(root)
	return all
}

// check parses p's command line with voxflow's own command tree, checks its
// environment against the command's settings and loads its configuration
// as the process would. It returns the command, the configuration and what
// is wrong.
func (p process) check(t *testing.T) (*cobra.Command, config.Config, []string) {
	t.Helper()
	var problems []string
	bad := func(format string, args ...any) {
		problems = append(problems, p.where+": "+fmt.Sprintf(format, args...))
	}
	root := cli.NewRoot()
	cmd, parseProblems := parseCommandLine(root, p.args)
	for _, pp := range parseProblems {
		bad("%s", pp)
	}
	if cmd == nil {
		return nil, config.Config{}, problems
	}
	keys, envs := settingsOf(cmd)
	for name := range p.env {
		if (strings.HasPrefix(name, "VOXFLOW_") || strings.HasPrefix(name, "TEMPORAL_")) && !envs[name] {
			bad("$%s is not a setting of %s", name, cmd.CommandPath())
		}
	}
	cfg, err := p.load(t, keys, allSettingEnvs(root))
	if err != nil {
		bad("%s: %v", cmd.CommandPath(), err)
	}
	return cmd, cfg, problems
}

// parseCommandLine parses args (after "voxflow") with the command tree of
// root: the command must exist and take every flag and value given.
func parseCommandLine(root *cobra.Command, args []string) (*cobra.Command, []string) {
	var problems []string
	cmd, rest, err := root.Find(args)
	if err != nil || cmd == root || !cmd.Runnable() {
		return nil, []string{fmt.Sprintf("voxflow %s: not a command (%v)", strings.Join(args, " "), err)}
	}
	if err := cmd.ParseFlags(rest); err != nil {
		problems = append(problems, fmt.Sprintf("%s: %v", cmd.CommandPath(), err))
	} else if extra := cmd.Flags().Args(); len(extra) > 0 {
		problems = append(problems, fmt.Sprintf("%s takes no arguments, got %q", cmd.CommandPath(), extra))
	}
	cmd.Flags().Visit(func(f *pflag.Flag) {
		if f.Hidden {
			problems = append(problems, fmt.Sprintf("%s: --%s is an old name kept for compatibility; use the name --help shows", cmd.CommandPath(), f.Name))
		}
	})
	return cmd, problems
}

// load runs platform/config over p's flags, environment and files, as
// cmd's Load would (each setting flag of cmd bound by its key).
func (p process) load(t *testing.T, keys []string, clear map[string]bool) (config.Config, error) {
	fs := pflag.NewFlagSet(p.where, pflag.ContinueOnError)
	fs.SetOutput(io.Discard)
	fs.ParseErrorsAllowlist.UnknownFlags = true // flags that are not settings (e.g. --retention)
	flags := config.Bind(fs, keys...)
	args := append([]string(nil), p.args...)
	var renamed []string // local copy, path in the container
	for i := 0; i+1 < len(args); i++ {
		if args[i] != "--config" {
			continue
		}
		content, ok := p.files[args[i+1]]
		if !ok {
			return config.Config{}, fmt.Errorf("--config %s: no such file is mounted", args[i+1])
		}
		local := filepath.Join(t.TempDir(), filepath.Base(args[i+1]))
		if err := os.WriteFile(local, []byte(content), 0o600); err != nil {
			t.Fatal(err)
		}
		renamed = append(renamed, local, args[i+1])
		args[i+1] = local
	}
	if err := fs.Parse(args); err != nil {
		return config.Config{}, err
	}
	for name := range clear {
		t.Setenv(name, "") // restored after the test
		os.Unsetenv(name)
	}
	for name, v := range p.env {
		t.Setenv(name, v)
	}
	cfg, err := flags.Load()
	if err != nil {
		err = errors.New(strings.NewReplacer(renamed...).Replace(err.Error()))
	}
	return cfg, err
}

// apiShutdownTimeout is how long `voxflow api` waits for requests in
// flight on SIGTERM (internal/cli/api.go).
const apiShutdownTimeout = 10 * time.Second

// mediaCloseTime bounds what a media worker does after its drain timeout:
// it hangs up the calls still live and waits up to 15 s for them, then up
// to 15 s for its background work (media/sipworker Worker.Close).
const mediaCloseTime = 30 * time.Second

// stopTime is how long a voxflow command may take to stop after SIGTERM,
// and what sets it: a container must be given longer than that.
func stopTime(command string, cfg config.Config) (time.Duration, string) {
	switch command {
	case "media":
		return cfg.Media.DrainTimeout + mediaCloseTime + platform.WorkerStopTimeout,
			"media.drain_timeout, then hanging up what is left and stopping its workers"
	case "engine":
		return platform.WorkerStopTimeout, "platform.WorkerStopTimeout"
	case "api":
		return apiShutdownTimeout + platform.WorkerStopTimeout, "the API's shutdown plus platform.WorkerStopTimeout"
	}
	return 0, "nothing"
}

// argValue is the value of --name in args ("" if absent).
func argValue(args []string, name string) string {
	for i, a := range args {
		if a == name && i+1 < len(args) {
			return args[i+1]
		}
		if v, ok := strings.CutPrefix(a, name+"="); ok {
			return v
		}
	}
	return ""
}

// portOf is the port of a host:port listen address ("" if none).
func portOf(addr string) string {
	i := strings.LastIndex(addr, ":")
	if i < 0 {
		return ""
	}
	return addr[i+1:]
}

func reportAll(t *testing.T, problems []string) {
	t.Helper()
	for _, p := range problems {
		t.Error(p)
	}
}

// wantProblem fails unless some problem contains want.
func wantProblem(t *testing.T, problems []string, want string) {
	t.Helper()
	for _, p := range problems {
		if strings.Contains(p, want) {
			return
		}
	}
	t.Errorf("no problem mentions %q; got %q", want, problems)
}

// TestProcessCheckRejectsJunk: the command-line, environment and
// configuration checks refuse what voxflow would refuse.
func TestProcessCheckRejectsJunk(t *testing.T) {
	good := process{
		where: "junk", args: []string{"engine", "--config", "/etc/voxflow/voxflow.yaml", "--admin-addr", ":9464"},
		env:   map[string]string{"VOXFLOW_STORE": "postgres://u:p@db/voxflow"},
		files: map[string]string{"/etc/voxflow/voxflow.yaml": "temporal:\n  address: temporal:7233\n"},
	}
	if _, _, problems := good.check(t); len(problems) > 0 {
		t.Fatalf("good process: %q", problems)
	}
	cases := []struct {
		name, want string
		mutate     func(*process)
	}{
		{"unknown command", "not a command", func(p *process) { p.args[0] = "engines" }},
		{"unknown flag", "unknown flag: --admin-adr", func(p *process) { p.args[3] = "--admin-adr" }},
		{"bad flag value", "--admin-addr", func(p *process) { p.args[4] = "nine" }},
		{"stray argument", "takes no arguments", func(p *process) { p.args = append(p.args, "now") }},
		{"misspelt variable", "$VOXFLOW_STOR is not a setting", func(p *process) { p.env = map[string]string{"VOXFLOW_STOR": "x"} }},
		{"unknown key", "drain_timout", func(p *process) {
			p.files = map[string]string{"/etc/voxflow/voxflow.yaml": "media:\n  drain_timout: 5m\n"}
		}},
		{"bad value in file", "media.drain_timeout", func(p *process) {
			p.files = map[string]string{"/etc/voxflow/voxflow.yaml": "media:\n  drain_timeout: soon\n"}
		}},
		{"config not mounted", "no such file is mounted", func(p *process) { p.files = nil }},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			p := good
			p.args = append([]string(nil), good.args...)
			c.mutate(&p)
			_, _, problems := p.check(t)
			wantProblem(t, problems, c.want)
		})
	}
}

// TestReadmeCommandLines parses every voxflow command line in the code
// blocks of deploy/README.md (this guide's part, before the local cluster's
// section) with the real command tree.
func TestReadmeCommandLines(t *testing.T) {
	readme := string(readFile(t, "README.md"))
	guide, _, found := strings.Cut(readme, "<!-- local-cluster -->")
	if !found {
		t.Fatal("README.md: no <!-- local-cluster --> marker")
	}
	n := 0
	for _, line := range readmeCommands(guide) {
		args := shellFields(line)
		for len(args) > 0 && regexp.MustCompile(`^[A-Z_]+=`).MatchString(args[0]) {
			args = args[1:] // VAR=value before the command
		}
		if len(args) == 0 || args[0] != "voxflow" {
			continue
		}
		n++
		if _, problems := parseCommandLine(cli.NewRoot(), args[1:]); len(problems) > 0 {
			t.Errorf("README.md: %s: %q", line, problems)
		}
	}
	t.Logf("%d voxflow command lines checked", n)
	if n < 5 {
		t.Errorf("found %d voxflow command lines in README.md's code blocks; the extraction is broken", n)
	}
}

// readmeCommands returns the lines of a Markdown text's fenced code blocks,
// continuation lines joined and comments dropped.
func readmeCommands(md string) []string {
	var out []string
	inBlock, cur := false, ""
	for _, line := range strings.Split(md, "\n") {
		if strings.HasPrefix(line, "```") {
			inBlock = !inBlock
			continue
		}
		if !inBlock {
			continue
		}
		if i := strings.Index(line, " #"); i >= 0 {
			line = line[:i]
		}
		cur += strings.TrimSpace(line)
		if strings.HasSuffix(cur, `\`) {
			cur = strings.TrimSuffix(cur, `\`) + " "
			continue
		}
		out = append(out, cur)
		cur = ""
	}
	return out
}

// shellFields splits a command line at spaces, keeping "quoted" words.
func shellFields(line string) []string {
	var fields []string
	var cur strings.Builder
	quoted, started := false, false
	for _, r := range line {
		switch {
		case r == '"':
			quoted, started = !quoted, true
		case r == ' ' && !quoted:
			if started {
				fields = append(fields, cur.String())
			}
			cur.Reset()
			started = false
		default:
			cur.WriteRune(r)
			started = true
		}
	}
	if started {
		fields = append(fields, cur.String())
	}
	return fields
}
