package cli

import (
	"path/filepath"
	"testing"
	"time"

	"github.com/voxflow/voxflow/platform/codec"
	"github.com/voxflow/voxflow/platform/config"
)

// Operator commands use dev's key file against a Temporal on this machine
// when no key is configured, and never against a remote one.
func TestCLICodecFallsBackToDevKey(t *testing.T) {
	dir := t.TempDir()
	devKey := filepath.Join(dir, codec.DevKeyFileName)
	cfg := config.Defaults()
	cfg.Dev.DataDir = dir
	cfg.Temporal.Address = "127.0.0.1:7233"
	if got := cliCodec(cfg); got.On() {
		t.Fatalf("no key file yet: %+v, want none", got)
	}
	if _, err := codec.EnsureKeyFile(devKey, time.Now()); err != nil {
		t.Fatal(err)
	}
	for addr, want := range map[string]string{"127.0.0.1:7233": devKey, "localhost:7233": devKey, "[::1]:7233": devKey, "temporal.example.com:7233": ""} {
		cfg.Temporal.Address = addr
		if got := cliCodec(cfg).KeyFile; got != want {
			t.Errorf("%s: key file %q, want %q", addr, got, want)
		}
	}
	cfg.Temporal.Address = "127.0.0.1:7233"
	cfg.Codec = config.Codec{KeyFile: "/etc/voxflow/codec.keys"}
	if got := cliCodec(cfg).KeyFile; got != cfg.Codec.KeyFile {
		t.Errorf("configured keys: %q, want %q", got, cfg.Codec.KeyFile)
	}
}
