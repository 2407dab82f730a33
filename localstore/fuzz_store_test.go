package localstore

import (
	"context"
	"encoding/binary"
	"errors"
	"maps"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/mlerr/mlerr"
)

// A store archive is the fuzzer's picture of a whole store directory: a
// sequence of entries, each
//
//	[op byte][depth byte][depth path-part bytes][op's data]
//
// op%4 is a file (data: uvarint length, at most maxArchiveFile, then the
// bytes), a directory, a symbolic link (data: one byte choosing its target,
// see linkTargets) or a FIFO. The path parts come from archiveParts, so
// that the fuzzer writes the names a store holds.
const maxArchiveFile = 64 << 10

const (
	archiveRunA = "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa"
	archiveRunB = "bbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbb"
)

var archiveParts = []string{markerFile, archiveRunA, archiveRunB, manifestFile, logFile, syncDirName,
	DefaultTarget + ".json", DefaultTarget + ".lock", DefaultTarget + ".rejected.jsonl", "other", "0"}

// fuzzOutside is what lies outside the fuzzed stores: a real run whose
// metric is outsideKey, and a secret file.
type fuzzOutside struct {
	dir, run, secret string
	before           map[string]string
}

// linkTargets are where the archive's symbolic links point: out of the
// store (a run, its log, a file, a device that never ends), or inside it.
func (o *fuzzOutside) linkTargets(root string) []string {
	return []string{o.run, filepath.Join(o.run, logFile), filepath.Join(o.run, manifestFile), o.secret, "/dev/zero",
		"..", "../..", filepath.Join(root, archiveRunA), archiveRunB, filepath.Join(root, archiveRunA, logFile)}
}

// buildArchive writes the archive's entries under root; entries that
// cannot be made (a file under a file) are skipped.
func buildArchive(root string, data []byte, o *fuzzOutside) {
	targets := o.linkTargets(root)
	for len(data) >= 2 {
		op, depth := data[0]%4, int(data[1]%4)+1
		data = data[2:]
		if len(data) < depth {
			return
		}
		parts := make([]string, depth)
		for i := range parts {
			parts[i] = archiveParts[int(data[i])%len(archiveParts)]
		}
		data = data[depth:]
		path := filepath.Join(append([]string{root}, parts...)...)
		ok := mkdirsNoLinks(root, parts[:depth-1])
		switch op {
		case 0:
			n, k := binary.Uvarint(data)
			if k <= 0 {
				return
			}
			data = data[k:]
			n = min(n, uint64(len(data)), maxArchiveFile)
			if ok {
				writeNew(path, data[:n])
			}
			data = data[n:]
		case 1:
			if ok {
				_ = os.Mkdir(path, 0o700)
			}
		case 2:
			if len(data) == 0 {
				return
			}
			if ok {
				_ = os.Symlink(targets[int(data[0])%len(targets)], path)
			}
			data = data[1:]
		case 3:
			if ok {
				_ = mkfifo(path)
			}
		}
	}
}

// mkdirsNoLinks makes the directories of parts under root, and reports
// false when one of them is a link or a file: the builder itself must not
// write outside the store through the links it made.
func mkdirsNoLinks(root string, parts []string) bool {
	dir := root
	for _, p := range parts {
		dir = filepath.Join(dir, p)
		st, err := os.Lstat(dir)
		switch {
		case errors.Is(err, os.ErrNotExist):
			if os.Mkdir(dir, 0o700) != nil {
				return false
			}
		case err != nil || !st.IsDir():
			return false
		}
	}
	return true
}

// writeNew creates a file that does not exist, never through a link.
func writeNew(path string, data []byte) {
	f, err := os.OpenFile(path, os.O_WRONLY|os.O_CREATE|os.O_EXCL|openNoFollow, 0o600)
	if err != nil {
		return
	}
	_, _ = f.Write(data)
	_ = f.Close()
}

// archiveOf returns the archive of the regular files and directories under
// root, the fuzzer's seeds.
func archiveOf(t testing.TB, root string) []byte {
	var out []byte
	index := map[string]byte{}
	for i, p := range archiveParts {
		index[p] = byte(i)
	}
	require.NoError(t, filepath.WalkDir(root, func(path string, d os.DirEntry, err error) error {
		require.NoError(t, err)
		rel, _ := filepath.Rel(root, path)
		if rel == "." {
			return nil
		}
		parts := strings.Split(rel, string(filepath.Separator))
		idx := make([]byte, 0, len(parts))
		for _, p := range parts {
			i, ok := index[p]
			if !ok || len(parts) > 4 {
				return nil // a name the archive cannot say: skipped
			}
			idx = append(idx, i)
		}
		if d.IsDir() {
			out = append(append(out, 1, byte(len(idx)-1)), idx...)
			return nil
		}
		content, err := os.ReadFile(path)
		require.NoError(t, err)
		content = content[:min(len(content), maxArchiveFile)]
		out = append(append(out, 0, byte(len(idx)-1)), idx...)
		out = binary.AppendUvarint(out, uint64(len(content)))
		out = append(out, content...)
		return nil
	}))
	return out
}

// seedStore writes a store with the archive's two run ids: A ended and
// partly synced, B running and forked from A.
func seedStore(t testing.TB, root string) {
	ids := []string{archiveRunA, archiveRunB}
	s, err := Open(root, WithClock(fixedClock()), WithRunIDs(func() string { id := ids[0]; ids = ids[1:]; return id }))
	require.NoError(t, err)
	ctx := context.Background()
	a, err := s.StartRun(ctx, mlerr.RunSpec{Name: "a", Tags: map[string]string{"t": "v"}})
	require.NoError(t, err)
	for i := range 3 {
		require.NoError(t, s.WriteBatch(ctx, mlerr.Batch{RunID: a.RunID, Seq: uint64(i + 1), Items: append(points("loss", int64(i*4), 4),
			mlerr.Item{Kind: mlerr.ItemParam, Key: "p" + string(rune('a'+i)), Text: "x"})}))
	}
	require.NoError(t, s.EndRun(ctx, a.RunID, mlerr.RunFinished, t0))
	b, err := s.StartRun(ctx, mlerr.RunSpec{Name: "b", ForkParent: a.RunID, ForkStep: 3})
	require.NoError(t, err)
	require.NoError(t, s.WriteBatch(ctx, mlerr.Batch{RunID: b.RunID, Seq: 1, Items: points("acc", 0, 2)}))
	require.NoError(t, s.Close())
	fb := newFake()
	fb.failCall = 2
	_, _ = Replay(ctx, filepath.Join(root, archiveRunA), fb, WithRetry(noRetry))
}

// FuzzStoreDirectory builds whole store directories (runs, manifests, logs,
// sync directories, cursors, links, FIFOs) and reads them as `mlerr ls`
// and `mlerr sync` do: List, Summarize, Items, Replay. Whatever the
// directory holds, nothing panics or hangs, nothing outside the store is
// read (no outside item reaches the backend) or changed, and every
// ErrCorrupted error names a file of the store.
func FuzzStoreDirectory(f *testing.F) {
	o := newFuzzOutside(f)
	seed := filepath.Join(f.TempDir(), "seed")
	seedStore(f, seed)
	good := archiveOf(f, seed)
	f.Add(good)
	f.Add([]byte{})
	f.Add(append(append([]byte(nil), good...), 2, 0, 1, 0))    // run B is a link to the outside run
	f.Add(append(append([]byte(nil), good...), 2, 1, 1, 4, 4)) // A's log is /dev/zero
	f.Add(append(append([]byte(nil), good...), 2, 1, 1, 5, 3)) // A's sync dir is a link out
	f.Add(append(append([]byte(nil), good...), 3, 1, 2, 4))    // B's log is a FIFO
	f.Add(append(append([]byte(nil), good...), 0, 1, 1, 3, 5, '{', '"', 'v', '"', '}'))

	// What the fuzzer reads and writes is in memory when it can be
	// (/dev/shm): Replay fsyncs its cursors, and on a disk 20,000 inputs take
	// a minute instead of seconds.
	scratch := fuzzScratch(f)
	f.Fuzz(func(t *testing.T, data []byte) {
		root, err := os.MkdirTemp(scratch, "store")
		require.NoError(t, err)
		defer os.RemoveAll(root)
		buildArchive(root, data, o)
		runs, err := List(root)
		if err != nil && !errors.Is(err, ErrNotStore) {
			t.Fatalf("List: %v", err)
		}
		for _, r := range runs {
			checkStoreErr(t, root, "List", r.Err)
			if r.Err == nil {
				_, err := Items(r.Dir)
				checkStoreErr(t, root, "Items", err)
			}
		}
		fb := newFake()
		_, err = Replay(context.Background(), root, fb, WithRetry(noRetry))
		checkStoreErr(t, root, "Replay", err)
		for _, run := range fb.runs {
			for _, it := range run.items() {
				if it.Key == outsideKey {
					t.Fatalf("an item from outside the store was uploaded")
				}
			}
		}
		if after := snapshot(t, o.dir); !maps.Equal(after, o.before) {
			t.Fatalf("the outside changed: %v", after)
		}
	})
}

// newFuzzOutside makes what lies outside the fuzzed stores.
func newFuzzOutside(f *testing.F) *fuzzOutside {
	o := &fuzzOutside{dir: f.TempDir()}
	out, err := Open(o.dir, WithClock(fixedClock()))
	require.NoError(f, err)
	info, err := out.StartRun(context.Background(), mlerr.RunSpec{Name: "outside"})
	require.NoError(f, err)
	require.NoError(f, out.WriteBatch(context.Background(), mlerr.Batch{RunID: info.RunID, Seq: 1, Items: points(outsideKey, 0, 3)}))
	require.NoError(f, out.Close())
	o.run = out.RunDir(info.RunID)
	o.secret = filepath.Join(o.dir, "secret")
	require.NoError(f, os.WriteFile(o.secret, []byte(outsideKey), 0o600))
	o.before = snapshot(f, o.dir)
	return o
}

// checkStoreErr fails when err holds an ErrCorrupted error whose path is
// not a file of the store at root.
func checkStoreErr(t *testing.T, root, where string, err error) {
	switch e := err.(type) {
	case nil:
		return
	case *mlerr.Error:
		var path string
		if e.Kind() == ErrCorrupted && (!e.Detail("path", &path) || !strings.HasPrefix(path, root)) {
			t.Fatalf("%s: corruption error names %q, not a file of the store: %v", where, path, err)
		}
	case interface{ Unwrap() []error }:
		for _, inner := range e.Unwrap() {
			checkStoreErr(t, root, where, inner)
		}
		return
	}
	checkStoreErr(t, root, where, errors.Unwrap(err))
}

// fuzzScratch returns a directory for the fuzzer's stores: one in /dev/shm
// when there is one, else a temporary directory.
func fuzzScratch(f *testing.F) string {
	if dir, err := os.MkdirTemp("/dev/shm", "mlerr-fuzz"); err == nil {
		f.Cleanup(func() { os.RemoveAll(dir) })
		return dir
	}
	return f.TempDir()
}
