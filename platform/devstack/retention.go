package devstack

import (
	"path/filepath"

	"github.com/voxflow/voxflow/platform"
)

// retention is dev's sweeper: the store's call history and, as dev's
// media worker writes them, the recordings under the data directory.
func (d *Dev) retention() *platform.RetentionSweeper {
	dir := d.cfg.Media.RecordDir
	if dir == "" {
		dir = filepath.Join(d.cfg.Dev.DataDir, "recordings")
	}
	return &platform.RetentionSweeper{Store: d.Store, CDRDays: d.cfg.Retention.CDRDays,
		RecordDir: dir, RecordingDays: d.cfg.Retention.RecordingDays, Logger: d.log.With("component", "retention")}
}
