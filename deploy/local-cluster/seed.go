//go:build ignore

// Command seed loads what `voxflow dev` loads at start into a store: the
// example flows (published), their queues and demo numbers. The local
// cluster (deploy/local-cluster/cluster) builds and runs it once, before
// the workers start, so the cluster answers the same numbers voxflow dev
// does. Ignored by `go build ./...`; build it by file name:
//
//	go build -o voxflow-seed ./deploy/local-cluster/seed.go
//	voxflow-seed postgres://...
package main

import (
	"context"
	"fmt"
	"os"
	"time"

	"github.com/voxflow/voxflow/platform/devstack"
	"github.com/voxflow/voxflow/store"
)

func main() {
	if len(os.Args) != 2 {
		fmt.Fprintln(os.Stderr, "usage: voxflow-seed STORE-DSN")
		os.Exit(2)
	}
	if err := seed(os.Args[1]); err != nil {
		fmt.Fprintln(os.Stderr, "voxflow-seed:", err)
		os.Exit(1)
	}
}

func seed(dsn string) error {
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	s, err := store.Open(ctx, dsn)
	if err != nil {
		return fmt.Errorf("open store: %w", err)
	}
	defer s.Close()
	if err := devstack.PublishExamples(ctx, s); err != nil {
		return fmt.Errorf("publish examples: %w", err)
	}
	return nil
}
