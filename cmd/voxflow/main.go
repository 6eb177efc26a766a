// Command voxflow is the single voxflow binary: the all-in-one dev
// platform, production workers, flow tooling and the operator CLI.
package main

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"os/signal"
	"syscall"

	"github.com/spf13/cobra"
	"go.temporal.io/sdk/client"
	sdklog "go.temporal.io/sdk/log"
)

// exitError carries a process exit status without printing usage.
type exitError struct{ code int }

func (e exitError) Error() string { return fmt.Sprintf("exit status %d", e.code) }

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	err := newRoot().ExecuteContext(ctx)
	var ee exitError
	switch {
	case errors.As(err, &ee):
		os.Exit(ee.code)
	case err != nil:
		fmt.Fprintln(os.Stderr, "voxflow:", err)
		os.Exit(1)
	}
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

func newRoot() *cobra.Command {
	root := &cobra.Command{
		Use:           "voxflow",
		Short:         "Contact flows as durable Temporal workflows",
		SilenceUsage:  true,
		SilenceErrors: true,
	}
	root.AddCommand(newDevCmd(), newEngineCmd(), newFlowsCmd(), newCallsCmd())
	return root
}
