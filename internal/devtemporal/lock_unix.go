//go:build unix

package devtemporal

import (
	"errors"
	"fmt"
	"os"
	"syscall"
)

// ErrDataDirInUse is wrapped by the error Start returns when another server
// (in this or another process) already uses the data dir.
var ErrDataDirInUse = errors.New("temporal data dir is already in use")

// lockDataDir takes an exclusive advisory lock on dir/temporal.lock so that
// two servers never share one database.
func lockDataDir(dir string) (release func(), err error) {
	path := dir + string(os.PathSeparator) + "temporal.lock"
	f, err := os.OpenFile(path, os.O_CREATE|os.O_RDWR, 0o644)
	if err != nil {
		return nil, fmt.Errorf("devtemporal: %w", err)
	}
	if err := syscall.Flock(int(f.Fd()), syscall.LOCK_EX|syscall.LOCK_NB); err != nil {
		_ = f.Close()
		if errors.Is(err, syscall.EWOULDBLOCK) {
			return nil, fmt.Errorf("devtemporal: %s: %w (another voxflow dev running?)", dir, ErrDataDirInUse)
		}
		return nil, fmt.Errorf("devtemporal: lock %s: %w", path, err)
	}
	return func() { _ = f.Close() }, nil // closing releases the lock
}
