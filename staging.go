package mlerr

import (
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strconv"
	"sync"
	"sync/atomic"
)

// stagingArea holds the copies a run makes of the files logged as
// artifacts, from the log call until the upload succeeds or fails for good:
// a directory of the run's own (made at the first artifact, removed when
// the run closes), one file per artifact, named by the number its item
// carries in Step. It is safe for concurrent use.
type stagingArea struct {
	base string // where the directory goes ("": the system's temporary directory)

	once sync.Once
	dir  string
	err  error
	next atomic.Int64
}

// add writes a new staged file with write and returns its item (Kind,
// Step, Value: its size), or the error.
func (a *stagingArea) add(write func(io.Writer) (int64, error)) (Item, error) {
	a.once.Do(func() { a.dir, a.err = os.MkdirTemp(a.base, "mlerr-artifacts-") })
	if a.err != nil {
		return Item{}, fmt.Errorf("the staging directory for artifacts: %w", a.err)
	}
	n := a.next.Add(1)
	name := filepath.Join(a.dir, strconv.FormatInt(n, 10))
	f, err := os.OpenFile(name, os.O_CREATE|os.O_EXCL|os.O_WRONLY, 0o600)
	if err != nil {
		return Item{}, err
	}
	size, werr := write(f)
	if cerr := f.Close(); werr == nil {
		werr = cerr
	}
	if werr != nil {
		os.Remove(name)
		return Item{}, werr
	}
	return Item{Kind: ItemArtifact, Step: n, Value: float64(size)}, nil
}

// open opens the staged copy of an artifact item.
func (a *stagingArea) open(it *Item) (*os.File, error) {
	return os.Open(a.path(it))
}

func (a *stagingArea) path(it *Item) string {
	return filepath.Join(a.dir, strconv.FormatInt(it.Step, 10))
}

// remove deletes the staged copy of an artifact item (nothing for another
// item).
func (a *stagingArea) remove(it *Item) {
	if it.Kind == ItemArtifact && a.dir != "" {
		os.Remove(a.path(it))
	}
}

// close removes the staging directory and what is left in it.
func (a *stagingArea) close() error {
	a.once.Do(func() {}) // no directory after this
	if a.dir == "" {
		return nil
	}
	return os.RemoveAll(a.dir)
}
