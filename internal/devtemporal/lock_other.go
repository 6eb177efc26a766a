//go:build !unix

package devtemporal

import "errors"

// ErrDataDirInUse is wrapped by the error Start returns when another server
// already uses the data dir (only detected on Unix).
var ErrDataDirInUse = errors.New("temporal data dir is already in use")

func lockDataDir(string) (func(), error) { return func() {}, nil }
