//go:build ignore

// healthcheck is the container health probe of the voxflow images: the
// distroless image has no shell, curl or wget, so compose's healthchecks
// run this instead. It exits 0 when GET URL answers 200 within 2 s.
//
// It is built by the Dockerfile (go build ./deploy/compose/healthcheck/healthcheck.go);
// the build tag keeps it out of the module's packages.
//
//	voxflow-healthcheck http://127.0.0.1:9464/healthz
package main

import (
	"fmt"
	"io"
	"net/http"
	"os"
	"time"
)

func main() {
	if len(os.Args) != 2 {
		fmt.Fprintln(os.Stderr, "usage: voxflow-healthcheck URL")
		os.Exit(2)
	}
	client := http.Client{Timeout: 2 * time.Second}
	resp, err := client.Get(os.Args[1])
	if err != nil {
		fmt.Fprintln(os.Stderr, "unhealthy:", err)
		os.Exit(1)
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(io.LimitReader(resp.Body, 512))
	if resp.StatusCode != http.StatusOK {
		fmt.Fprintf(os.Stderr, "unhealthy: %s: %s\n", resp.Status, body)
		os.Exit(1)
	}
}
