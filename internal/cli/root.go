// Package cli is the voxflow command line: the all-in-one dev platform,
// production workers, flow tooling and the operator CLI. It lives outside
// package main so tests can run commands in-process.
package cli

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"

	"github.com/spf13/cobra"
	"github.com/voxflow/voxflow/platform/codec"
	"github.com/voxflow/voxflow/platform/config"
	"go.temporal.io/sdk/client"
	"go.temporal.io/sdk/converter"
)

// ExitError carries a process exit status without printing usage.
type ExitError struct{ Code int }

func (e ExitError) Error() string { return fmt.Sprintf("exit status %d", e.Code) }

// Main runs the CLI with args and returns the process exit status.
func Main(ctx context.Context, args []string, stdin io.Reader, stdout, stderr io.Writer) int {
	root := NewRoot()
	root.SetArgs(args)
	root.SetIn(stdin)
	root.SetOut(stdout)
	root.SetErr(stderr)
	rejectUnexpectedArgs(root)
	err := root.ExecuteContext(ctx)
	var (
		ee ExitError
		ue usageError
	)
	switch {
	case errors.As(err, &ee):
		return ee.Code
	case errors.As(err, &ue):
		fmt.Fprintf(stderr, "%v\nRun '%s --help' for usage.\n", ue, ue.cmd.CommandPath())
		return 1
	case err != nil:
		fmt.Fprintln(stderr, "voxflow:", err)
		return 1
	}
	return 0
}

// temporalFlags are shared by every command that talks to Temporal: the
// settings temporal.address and temporal.namespace (flags --temporal and
// --namespace, $TEMPORAL_ADDRESS, $TEMPORAL_NAMESPACE, or --config).
type temporalFlags struct {
	flags     *config.Flags
	namespace string       // set by dial
	keys      config.Codec // set by dial: the payload keys its client uses
}

func (f *temporalFlags) register(cmd *cobra.Command) {
	f.flags = config.Bind(cmd.Flags(), slices.Concat(config.TemporalKeys(), config.CodecKeys())...)
}

func (f *temporalFlags) dial() (client.Client, error) {
	cfg, err := f.flags.Load()
	if err != nil {
		return nil, err
	}
	f.namespace = cfg.Temporal.Namespace
	f.keys = cliCodec(cfg)
	return dialTemporal(cfg.Temporal, f.keys)
}

// converter is the data converter of dial's client, for replays.
func (f *temporalFlags) converter() (converter.DataConverter, error) {
	return codec.Converter(f.keys)
}

// cliCodec is the payload keys an operator command uses: those configured,
// else, against a Temporal on this machine, the key file `voxflow dev`
// keeps in its data dir (--data-dir's default or $VOXFLOW_DATA_DIR), so
// `voxflow calls show` after `voxflow dev` reads its calls. A remote
// cluster never gets dev's key: its payloads would not decrypt there.
func cliCodec(cfg config.Config) config.Codec {
	if cfg.Codec.On() || !loopbackAddress(cfg.Temporal.Address) {
		return cfg.Codec
	}
	path := filepath.Join(cfg.Dev.DataDir, codec.DevKeyFileName)
	if _, err := os.Stat(path); err != nil {
		return cfg.Codec
	}
	return config.Codec{KeyFile: path}
}

// loopbackAddress says whether host:port names this machine.
func loopbackAddress(addr string) bool {
	host, _, err := net.SplitHostPort(addr)
	if err != nil {
		return false
	}
	if host == "localhost" {
		return true
	}
	ip := net.ParseIP(host)
	return ip != nil && ip.IsLoopback()
}

func quietLogger() *slog.Logger {
	return slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: slog.LevelWarn}))
}

// NewRoot returns the voxflow root command.
func NewRoot() *cobra.Command {
	root := &cobra.Command{
		Use:           "voxflow",
		Short:         "Contact flows as durable Temporal workflows",
		SilenceUsage:  true,
		SilenceErrors: true,
	}
	flowsCmd := newFlowsCmd()
	flowsCmd.AddCommand(newPushCmd(), newPullCmd())
	root.AddCommand(newDevCmd(), newEngineCmd(), newMediaCmd(), newAPICmd(), newTemporalCmd(), flowsCmd, newCallsCmd(), newOpenAPICmd())
	root.AddCommand(newAgentsCmd(), newQueuesCmd(), newCallbacksCmd(), newDialerCmd(), newCampaignsCmd(), newDNCCmd())
	root.AddCommand(newPrivacyCmd())
	root.AddCommand(newAuditCmd())
	return root
}

// usageError is a command line that cmd does not accept. Main prints it
// with a pointer to cmd's help. It exits 1 like any other error: 2 already
// means "not deterministic" to scripts of `voxflow calls replay`.
type usageError struct {
	cmd *cobra.Command
	err error
}

func (e usageError) Error() string { return e.cmd.CommandPath() + ": " + e.err.Error() }
func (e usageError) Unwrap() error { return e.err }

// rejectUnexpectedArgs makes every command of the tree refuse what it does
// not understand, so that new commands get it for free. Out of the box
// cobra checks subcommand names only at the root, and a group without Run
// prints its help and succeeds, so `voxflow flows tset` looked to a script
// as if it had worked. Here:
//   - a group fails on any argument, naming it and suggesting the nearest
//     subcommand; a bare group prints its help and exits 0, as bare
//     `voxflow` and --help do;
//   - a leaf that declares no Args takes no arguments;
//   - argument and flag errors name the command and point at its help.
//
// Main calls it after setting the output: cobra's completion command,
// added here so that it is covered too, keeps the writer it sees.
func rejectUnexpectedArgs(root *cobra.Command) {
	root.SetHelpCommand(newHelpCmd())
	root.InitDefaultCompletionCmd()
	root.SetFlagErrorFunc(func(cmd *cobra.Command, err error) error { return usageError{cmd, err} })
	var visit func(*cobra.Command)
	visit = func(cmd *cobra.Command) {
		switch {
		case cmd.HasSubCommands() && !cmd.Runnable():
			// cobra checks Args only of a runnable command.
			cmd.RunE = func(cmd *cobra.Command, _ []string) error { return cmd.Help() }
			cmd.DisableFlagsInUseLine = true // "voxflow flows", not "voxflow flows [flags]"
			cmd.Args = unknownSubcommand
		case cmd.Args == nil && cmd.HasSubCommands():
			cmd.Args = unknownSubcommand
		case cmd.Args == nil:
			cmd.Args = noArgs
		}
		if cmd.SuggestionsMinimumDistance <= 0 {
			cmd.SuggestionsMinimumDistance = 2 // cobra's default, which SuggestionsFor does not apply
		}
		cmd.Args = namingCommand(cmd.Args)
		for _, sub := range cmd.Commands() {
			visit(sub)
		}
	}
	visit(root)
}

// noArgs is the Args of a command that takes no positional arguments.
func noArgs(cmd *cobra.Command, args []string) error {
	if len(args) > 0 {
		return fmt.Errorf("takes no arguments; got %q", args[0])
	}
	return nil
}

// unknownSubcommand is the Args of a group: any argument is a subcommand
// it does not have.
func unknownSubcommand(cmd *cobra.Command, args []string) error {
	if len(args) == 0 {
		return nil
	}
	return fmt.Errorf("unknown command %q%s", args[0], suggestSubcommand(cmd, args[0]))
}

// suggestSubcommand names the subcommands of cmd within cobra's edit
// distance of typed, or, when none is that close, all of them.
func suggestSubcommand(cmd *cobra.Command, typed string) string {
	if near := cmd.SuggestionsFor(typed); len(near) > 0 {
		for i, n := range near {
			near[i] = strconv.Quote(n)
		}
		last := len(near) - 1
		if last == 0 {
			return "; did you mean " + near[0] + "?"
		}
		return "; did you mean " + strings.Join(near[:last], ", ") + " or " + near[last] + "?"
	}
	var all []string
	for _, sub := range cmd.Commands() {
		if sub.IsAvailableCommand() {
			all = append(all, sub.Name())
		}
	}
	if len(all) == 0 {
		return ""
	}
	return "; the commands of " + cmd.CommandPath() + " are " + strings.Join(all, ", ")
}

// namingCommand makes the errors of an Args validator name the command.
func namingCommand(validate cobra.PositionalArgs) cobra.PositionalArgs {
	return func(cmd *cobra.Command, args []string) error {
		if err := validate(cmd, args); err != nil {
			return usageError{cmd, err}
		}
		return nil
	}
}

// newHelpCmd replaces cobra's help command, which prints usage and exits
// 0 for a topic it does not know.
func newHelpCmd() *cobra.Command {
	return &cobra.Command{
		Use:   "help [command]",
		Short: "Help about any command",
		Args:  cobra.ArbitraryArgs,
		ValidArgsFunction: func(cmd *cobra.Command, args []string, toComplete string) ([]cobra.Completion, cobra.ShellCompDirective) {
			var names []cobra.Completion
			if target, _, err := cmd.Root().Find(args); err == nil {
				for _, sub := range target.Commands() {
					if sub.IsAvailableCommand() && strings.HasPrefix(sub.Name(), toComplete) {
						names = append(names, cobra.CompletionWithDesc(sub.Name(), sub.Short))
					}
				}
			}
			return names, cobra.ShellCompDirectiveNoFileComp
		},
		RunE: func(cmd *cobra.Command, args []string) error {
			target, rest, err := cmd.Root().Find(args)
			if err != nil {
				return err
			}
			if err := unknownSubcommand(target, rest); err != nil {
				return usageError{target, err}
			}
			target.InitDefaultHelpFlag() // so that the help shows --help
			return target.Help()
		},
	}
}
