//go:build !unix

package localstore

import "os"

// lockFile is a no-op where flock is not available: the caller must make
// sure one process writes a run at a time.
func lockFile(f *os.File) error { return nil }
