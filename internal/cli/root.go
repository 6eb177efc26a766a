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
	"os"

	"github.com/spf13/cobra"
	"go.temporal.io/sdk/client"
	sdklog "go.temporal.io/sdk/log"
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
	err := root.ExecuteContext(ctx)
	var ee ExitError
	switch {
	case errors.As(err, &ee):
		return ee.Code
	case err != nil:
		fmt.Fprintln(stderr, "voxflow:", err)
		return 1
	}
	return 0
}

// temporalFlags are shared by every command that talks to Temporal.
type temporalFlags struct {
	address   string
	namespace string
}

func (f *temporalFlags) register(cmd *cobra.Command) {
	cmd.Flags().StringVar(&f.address, "temporal", "127.0.0.1:7233", "Temporal frontend host:port (voxflow dev serves one on 127.0.0.1:7233)")
	cmd.Flags().StringVar(&f.namespace, "namespace", "default", "Temporal namespace")
}

func (f *temporalFlags) dial() (client.Client, error) {
	c, err := client.Dial(client.Options{
		HostPort: f.address, Namespace: f.namespace,
		Logger: sdklog.NewStructuredLogger(quietLogger()),
	})
	if err != nil {
		return nil, fmt.Errorf("connect to Temporal at %s (is `voxflow dev` running? set --temporal): %w", f.address, err)
	}
	return c, nil
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
	root.AddCommand(newDevCmd(), newEngineCmd(), newMediaCmd(), flowsCmd, newCallsCmd(), newOpenAPICmd())
	root.AddCommand(newAgentsCmd())
	return root
}
