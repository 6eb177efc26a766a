// Command voxflow is the single voxflow binary: the all-in-one dev
// platform, production workers, flow tooling and the operator CLI.
package main

import (
	"context"
	"os"
	"os/signal"
	"syscall"

	"github.com/voxflow/voxflow/internal/cli"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	code := cli.Main(ctx, os.Args[1:], os.Stdin, os.Stdout, os.Stderr)
	stop()
	os.Exit(code)
}
