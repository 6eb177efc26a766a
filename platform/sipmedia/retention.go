package sipmedia

import (
	"log/slog"
	"os"
	"path/filepath"

	"github.com/voxflow/voxflow/platform"
	"github.com/voxflow/voxflow/platform/config"
)

// Retention is a media worker's retention sweeper: the recordings it
// writes under media.record_dir (the sipworker default when empty) older
// than retention.recording_days. Call records are the engine's to sweep.
func Retention(cfg config.Config, log *slog.Logger) *platform.RetentionSweeper {
	dir := cfg.Media.RecordDir
	if dir == "" { // as sipworker.New defaults it
		dir = filepath.Join(os.TempDir(), "voxflow-recordings")
	}
	return &platform.RetentionSweeper{RecordDir: dir, RecordingDays: cfg.Retention.RecordingDays,
		Logger: log.With("component", "retention")}
}
