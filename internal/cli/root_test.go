package cli

import (
	"strconv"
	"strings"
	"testing"

	"github.com/spf13/cobra"
)

// command is one command of the tree and the arguments that reach it.
type command struct {
	path []string
	cmd  *cobra.Command
}

// commandTree lists every command Main runs, groups and leaves apart, so
// that a new command is covered by the tests below without an edit.
func commandTree(t *testing.T) (groups, leaves []command) {
	t.Helper()
	root := NewRoot()
	rejectUnexpectedArgs(root)
	var visit func(c command)
	visit = func(c command) {
		if !c.cmd.HasSubCommands() {
			leaves = append(leaves, c)
			return
		}
		groups = append(groups, c)
		for _, sub := range c.cmd.Commands() {
			if sub.IsAvailableCommand() {
				visit(command{append(append([]string(nil), c.path...), sub.Name()), sub})
			}
		}
	}
	visit(command{nil, root})
	if len(groups) < 5 || len(leaves) < 15 {
		t.Fatalf("command tree too small: %d groups, %d leaves", len(groups), len(leaves))
	}
	return groups, leaves
}

func TestEveryGroupRejectsAMistypedSubcommand(t *testing.T) {
	groups, _ := commandTree(t)
	for _, group := range groups {
		sub := group.cmd.Commands()[0].Name()
		typo := sub[:len(sub)-1] // a prefix, which cobra always suggests
		args := append(append([]string(nil), group.path...), typo)
		t.Run(strings.Join(args, " "), func(t *testing.T) {
			out, errs, code := runCLI(t, args...)
			if code == 0 || out != "" || !strings.Contains(errs, "did you mean "+strconv.Quote(sub)) ||
				!strings.Contains(errs, group.cmd.CommandPath()+": unknown command "+strconv.Quote(typo)) {
				t.Fatalf("exit %d, stdout %q, stderr:\n%s", code, out, errs)
			}
		})
	}
}

func TestEveryCommandHelpSucceeds(t *testing.T) {
	groups, leaves := commandTree(t)
	for _, c := range append(groups, leaves...) {
		path := c.path
		t.Run(strings.Join(append(path, "--help"), " "), func(t *testing.T) {
			out, errs, code := runCLI(t, append(path, "--help")...)
			if code != 0 || errs != "" || !strings.Contains(out, "Usage:") {
				t.Fatalf("exit %d, stderr %q, stdout:\n%s", code, errs, out)
			}
		})
	}
}

func TestUnexpectedArguments(t *testing.T) {
	const unreachable = "127.0.0.1:1"
	for _, tc := range []struct {
		args   []string
		code   int
		stderr string // wanted in stderr; "" wants it empty
		stdout string // wanted in stdout
	}{
		// The examples: a typo is an error that names it.
		{args: []string{"flows", "tset"}, code: 1, stderr: `voxflow flows: unknown command "tset"; the commands of voxflow flows are graph, pull, push, schema, simulate, validate`},
		{args: []string{"agents", "login"}, code: 1, stderr: `voxflow agents: unknown command "login"; the commands of voxflow agents are add, list, remove, set, state, wrap-up`},
		{args: []string{"agents", "stat"}, code: 1, stderr: `voxflow agents: unknown command "stat"; did you mean "set" or "state"?`},
		{args: []string{"queues", "lis"}, code: 1, stderr: `voxflow queues: unknown command "lis"; did you mean "list"?`},
		{args: []string{"callbacks", "show"}, code: 1, stderr: `voxflow callbacks: unknown command "show"; the commands of voxflow callbacks are list`},
		{args: []string{"agents", "state", "alice"}, code: 1, stderr: "voxflow agents state: accepts 2 arg(s), received 1"},
		{args: []string{"queues", "list", "extra"}, code: 1, stderr: `voxflow queues list: takes no arguments; got "extra"`},
		{args: []string{"calls", "lst"}, code: 1, stderr: `voxflow calls: unknown command "lst"; did you mean "list"?` + "\nRun 'voxflow calls --help' for usage.\n"},
		{args: []string{"flows", "simualte", "bank-ivr.yaml"}, code: 1, stderr: `did you mean "simulate"?`},
		{args: []string{"flow", "validate"}, code: 1, stderr: `voxflow: unknown command "flow"; did you mean "flows"?`},
		{args: []string{"completion", "bsh"}, code: 1, stderr: `voxflow completion: unknown command "bsh"; did you mean "bash", "fish" or "zsh"?`},
		{args: []string{"help", "calls", "shwo"}, code: 1, stderr: `voxflow calls: unknown command "shwo"; did you mean "show"?`},
		// Extra positional arguments. The flags make the command fail at
		// once should it run after all.
		{args: []string{"flows", "schema", "extra"}, code: 1, stderr: `voxflow flows schema: takes no arguments; got "extra"`},
		{args: []string{"openapi", "extra"}, code: 1, stderr: `voxflow openapi: takes no arguments; got "extra"`},
		{args: []string{"calls", "list", "running", "--temporal", unreachable}, code: 1, stderr: `voxflow calls list: takes no arguments; got "running"`},
		{args: []string{"agents", "list", "alice"}, code: 1, stderr: `voxflow agents list: takes no arguments; got "alice"`},
		{args: []string{"dev", "now", "--data-dir", "/dev/null/x"}, code: 1, stderr: `voxflow dev: takes no arguments; got "now"`},
		{args: []string{"engine", "extra", "--temporal", unreachable}, code: 1, stderr: `voxflow engine: takes no arguments; got "extra"`},
		{args: []string{"media", "extra"}, code: 1, stderr: `voxflow media: takes no arguments; got "extra"`},
		{args: []string{"flows", "graph", "a.yaml", "b.yaml"}, code: 1, stderr: "voxflow flows graph: accepts 1 arg(s), received 2\nRun 'voxflow flows graph --help' for usage.\n"},
		{args: []string{"calls", "show"}, code: 1, stderr: "voxflow calls show: accepts 1 arg(s), received 0"},
		{args: []string{"agents", "add", "alice", "bob"}, code: 1, stderr: "voxflow agents add: accepts 1 arg(s), received 2"},
		// Unknown flags still fail.
		{args: []string{"calls", "list", "--bogus"}, code: 1, stderr: "voxflow calls list: unknown flag: --bogus"},
		{args: []string{"flows", "--bogus"}, code: 1, stderr: "voxflow flows: unknown flag: --bogus"},
		{args: []string{"--bogus"}, code: 1, stderr: "voxflow: unknown flag: --bogus"},
		// A bare group prints its help and succeeds, like bare voxflow.
		{args: nil, code: 0, stdout: "Available Commands:"},
		{args: []string{"flows"}, code: 0, stdout: "voxflow flows [command]"},
		{args: []string{"agents"}, code: 0, stdout: "voxflow agents [command]"},
		{args: []string{"help", "calls"}, code: 0, stdout: "voxflow calls [command]"},
		{args: []string{"help", "flows", "graph"}, code: 0, stdout: "voxflow flows graph FILE [flags]"},
		{args: []string{"flows", "schema"}, code: 0, stdout: `"$schema"`},
	} {
		t.Run(strings.Join(tc.args, " "), func(t *testing.T) {
			out, errs, code := runCLI(t, tc.args...)
			if code != tc.code || !strings.Contains(out, tc.stdout) ||
				(tc.stderr == "") != (errs == "") || !strings.Contains(errs, tc.stderr) {
				t.Fatalf("exit %d (want %d)\nstdout:\n%s\nstderr:\n%s", code, tc.code, out, errs)
			}
			if tc.code != 0 && out != "" {
				t.Fatalf("a rejected command line printed to stdout:\n%s", out)
			}
		})
	}
}
