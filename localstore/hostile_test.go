//go:build unix

package localstore

import (
	"context"
	"encoding/binary"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/mlerr/mlerr"
)

// outsideKey is the metric of the run that lives outside the store: an
// upload that holds it read outside the store.
const outsideKey = "outside_secret"

// hostile is a store crafted to make a reader leave it, and what lies
// outside it.
type hostile struct {
	root, outside string
	good          string // the id of the one honest run
	// want maps each crafted run's directory to a text its error must hold.
	want map[string]string
	// outsideRun is a real run outside the store, with the outsideKey metric.
	outsideRun string
}

// newHostile builds the crafted store. Every crafted run has a valid run id
// for a name, so that a reader looks into it.
func newHostile(t *testing.T) *hostile {
	t.Helper()
	base := t.TempDir()
	h := &hostile{root: filepath.Join(base, "store"), outside: filepath.Join(base, "outside"), want: map[string]string{}}
	// Outside: a real run (and a file) that a reader must never read.
	out, err := Open(h.outside, WithClock(fixedClock()))
	require.NoError(t, err)
	oid := startRun(t, out, mlerr.RunSpec{Name: "outside"})
	require.NoError(t, out.WriteBatch(context.Background(), mlerr.Batch{RunID: oid, Seq: 1, Items: points(outsideKey, 0, 3)}))
	require.NoError(t, out.EndRun(context.Background(), oid, mlerr.RunFinished, t0))
	require.NoError(t, out.Close())
	h.outsideRun = filepath.Join(h.outside, oid)
	require.NoError(t, os.WriteFile(filepath.Join(h.outside, "secret"), []byte(outsideKey), 0o600))
	require.NoError(t, os.Mkdir(filepath.Join(h.outside, "sync-target"), 0o700))

	s, err := Open(h.root, WithClock(fixedClock()))
	require.NoError(t, err)
	h.good = startRun(t, s, mlerr.RunSpec{Name: "good"})
	writeBatches(t, s, h.good, 2, 5)
	require.NoError(t, s.EndRun(context.Background(), h.good, mlerr.RunFinished, t0))
	// Honest runs to corrupt one way each.
	runs := map[string]string{}
	for _, name := range []string{"manifestlink", "loglink", "synclink", "cursorlink", "rejlink", "forkdots", "forkabs",
		"idmismatch", "notjson", "huge", "claim4g", "fifo", "hugecursor"} {
		id := startRun(t, s, mlerr.RunSpec{Name: name})
		writeBatches(t, s, id, 1, 3)
		runs[name] = id
	}
	require.NoError(t, s.Close())
	dir := func(name string) string { return filepath.Join(h.root, runs[name]) }
	link := func(target, at string) {
		require.NoError(t, os.RemoveAll(at))
		require.NoError(t, os.Symlink(target, at))
	}

	// A run directory that is a link out of the store.
	linked := filepath.Join(h.root, "0123456789abcdef0123456789abcdef")
	link(h.outsideRun, linked)
	h.want[linked] = linked + " is a symbolic link"
	// A manifest, a log, a sync directory, a cursor that are links out.
	link(filepath.Join(h.outsideRun, manifestFile), filepath.Join(dir("manifestlink"), manifestFile))
	h.want[dir("manifestlink")] = filepath.Join(dir("manifestlink"), manifestFile) + " is a symbolic link"
	link(filepath.Join(h.outsideRun, logFile), filepath.Join(dir("loglink"), logFile))
	h.want[dir("loglink")] = filepath.Join(dir("loglink"), logFile) + " is a symbolic link"
	link(filepath.Join(h.outside, "sync-target"), filepath.Join(dir("synclink"), syncDirName))
	h.want[dir("synclink")] = filepath.Join(dir("synclink"), syncDirName) + " is a symbolic link"
	require.NoError(t, os.Mkdir(filepath.Join(dir("cursorlink"), syncDirName), 0o700))
	link(filepath.Join(h.outside, "secret"), cursorPath(dir("cursorlink"), DefaultTarget))
	h.want[dir("cursorlink")] = cursorPath(dir("cursorlink"), DefaultTarget) + " is a symbolic link"
	require.NoError(t, os.Mkdir(filepath.Join(dir("rejlink"), syncDirName), 0o700))
	link(filepath.Join(h.outside, "secret"), filepath.Join(dir("rejlink"), syncDirName, "x.json"))
	h.want[dir("rejlink")] = filepath.Join(dir("rejlink"), syncDirName, "x.json") + " is a symbolic link"
	// Manifests whose fields try to leave the store, or do not decode.
	editManifest(t, dir("forkdots"), func(m *manifest) { m.ForkParent = "../../outside/" + filepath.Base(h.outsideRun) })
	h.want[dir("forkdots")] = "fork parent"
	editManifest(t, dir("forkabs"), func(m *manifest) { m.ForkParent = h.outsideRun })
	h.want[dir("forkabs")] = "fork parent"
	editManifest(t, dir("idmismatch"), func(m *manifest) { m.ID = filepath.Base(h.outsideRun) })
	h.want[dir("idmismatch")] = "but is in the directory of run"
	require.NoError(t, os.WriteFile(filepath.Join(dir("notjson"), manifestFile), []byte("<html>not json</html>"), 0o600))
	h.want[dir("notjson")] = filepath.Join(dir("notjson"), manifestFile) + " at offset 0: manifest does not decode"
	require.NoError(t, os.Truncate(filepath.Join(dir("huge"), manifestFile), maxManifestBytes+1)) // sparse: cheap
	h.want[dir("huge")] = filepath.Join(dir("huge"), manifestFile) + " is 4194305 bytes, more than"
	// A record header claiming 4 GB, with a good record after it.
	logp := filepath.Join(dir("claim4g"), logFile)
	good, err := os.ReadFile(logp)
	require.NoError(t, err)
	var hdr [recordHeaderSize]byte
	binary.LittleEndian.PutUint32(hdr[0:], recordMagic)
	binary.LittleEndian.PutUint32(hdr[4:], 0xFFFF_FFFF)
	crafted := append(append(append([]byte(nil), good[:fileHeaderSize]...), hdr[:]...), good[fileHeaderSize:]...)
	require.NoError(t, os.WriteFile(logp, crafted, 0o600))
	h.want[dir("claim4g")] = logp + " at offset 16: record header claims 4294967295 bytes"
	// A FIFO for a log: opening it for reading would wait for a writer.
	require.NoError(t, os.Remove(filepath.Join(dir("fifo"), logFile)))
	require.NoError(t, mkfifo(filepath.Join(dir("fifo"), logFile)))
	h.want[dir("fifo")] = filepath.Join(dir("fifo"), logFile) + " is not a regular file"
	// A cursor far larger than a cursor may be.
	require.NoError(t, os.Mkdir(filepath.Join(dir("hugecursor"), syncDirName), 0o700))
	require.NoError(t, os.WriteFile(cursorPath(dir("hugecursor"), "big"), make([]byte, maxCursorBytes+1), 0o600))
	h.want[dir("hugecursor")] = cursorPath(dir("hugecursor"), "big") + " is 65537 bytes"
	return h
}

func editManifest(t *testing.T, runDir string, f func(*manifest)) {
	t.Helper()
	m, err := readManifest(runDir)
	require.NoError(t, err)
	f(&m)
	require.NoError(t, writeManifest(runDir, m, DefaultFileMode))
}

// snapshot lists every entry under dir with its size and time, to tell
// that nothing was written there.
func snapshot(t testing.TB, dir string) map[string]string {
	t.Helper()
	out := map[string]string{}
	require.NoError(t, filepath.WalkDir(dir, func(path string, d fs.DirEntry, err error) error {
		require.NoError(t, err)
		st, err := d.Info()
		require.NoError(t, err)
		out[path] = fmt.Sprint(st.Mode(), st.ModTime(), st.Size())
		return nil
	}))
	return out
}

// TestHostileStore: List, Replay and Items on a crafted store read nothing
// outside it, write nothing outside it, fail each crafted run with an error
// naming the file, upload the honest run, and take bounded memory.
func TestHostileStore(t *testing.T) {
	h := newHostile(t)
	before := snapshot(t, h.outside)

	var ms0, ms1 runtime.MemStats
	runtime.GC()
	runtime.ReadMemStats(&ms0)
	runs, err := List(h.root)
	runtime.ReadMemStats(&ms1)
	require.NoError(t, err)
	assert.Less(t, ms1.TotalAlloc-ms0.TotalAlloc, uint64(8<<20), "List allocated %d bytes", ms1.TotalAlloc-ms0.TotalAlloc)
	seen := map[string]bool{}
	for _, r := range runs {
		if r.ID == h.good {
			require.NoError(t, r.Err)
			assert.Equal(t, 10, r.Metrics)
			continue
		}
		want, ok := h.want[r.Dir]
		require.True(t, ok, "unexpected run %s", r.Dir)
		seen[r.Dir] = true
		if r.Err == nil {
			continue // a sync directory's lock and rejection files are Replay's
		}
		assert.ErrorIs(t, r.Err, ErrCorrupted, r.Dir)
		assert.Contains(t, r.Err.Error(), want, r.Dir)
		assert.NotContains(t, r.Err.Error(), outsideKey)
	}

	fb := newFake()
	rep, err := Replay(context.Background(), h.root, fb)
	require.Error(t, err, "the crafted runs fail")
	failed := map[string]error{}
	for _, rr := range rep.Runs {
		if rr.Err != nil {
			failed[filepath.Join(h.root, rr.LocalID)] = rr.Err
		}
	}
	for dir, want := range h.want {
		rr, ok := failed[dir]
		if !ok {
			t.Errorf("%s: Replay did not fail it (%q); runs: %v", dir, want, failed)
			continue
		}
		assert.ErrorIs(t, rr, ErrCorrupted, dir)
		assert.Contains(t, rr.Error(), want, dir)
	}
	assert.Len(t, seen, len(h.want), "List listed every crafted run")
	// Only the honest run reached the backend.
	require.Len(t, fb.runs, 1)
	for _, r := range fb.runs {
		assert.Len(t, r.items(), 10)
		for _, it := range r.items() {
			assert.NotEqual(t, outsideKey, it.Key)
		}
	}
	assert.Equal(t, before, snapshot(t, h.outside), "nothing outside the store changed")
	_, err = Items(filepath.Join(h.root, "0123456789abcdef0123456789abcdef"))
	assert.NoError(t, err, "a run directory named by the caller is the caller's choice")
}

// A target name that looks like a path stays a file name in sync/.
func TestReplayTargetNameStaysInside(t *testing.T) {
	s := newStore(t)
	id := startRun(t, s, mlerr.RunSpec{Name: "r"})
	writeBatches(t, s, id, 1, 2)
	outside := t.TempDir()
	for _, target := range []string{"../../" + filepath.Base(outside) + "/evil", "/tmp/evil", "..", ".hidden", "a/b"} {
		_, err := Replay(context.Background(), s.RunDir(id), newFake(), WithTarget(target))
		require.NoError(t, err, target)
	}
	entries, err := os.ReadDir(outside)
	require.NoError(t, err)
	assert.Empty(t, entries)
	entries, err = os.ReadDir(filepath.Join(s.RunDir(id), syncDirName))
	require.NoError(t, err)
	for _, e := range entries {
		assert.True(t, targetFilePattern.MatchString(strings.TrimSuffix(strings.TrimSuffix(e.Name(), ".json"), ".lock")), e.Name())
		assert.False(t, strings.HasPrefix(e.Name(), "."), e.Name())
	}
}

// A crafted log record claiming more than a record may hold is corruption
// even at the end of the log, where a torn write would be cut.
func TestRecordClaimingTooMuchIsCorruption(t *testing.T) {
	for _, claim := range []uint32{maxPayload + 1, 1 << 31, 0xFFFF_FFFF} {
		s := newStore(t)
		id := startRun(t, s, mlerr.RunSpec{Name: "r"})
		writeBatches(t, s, id, 2, 3)
		require.NoError(t, s.Close())
		var hdr [recordHeaderSize]byte
		binary.LittleEndian.PutUint32(hdr[0:], recordMagic)
		binary.LittleEndian.PutUint32(hdr[4:], claim)
		f, err := os.OpenFile(logPath(s, id), os.O_WRONLY|os.O_APPEND, 0)
		require.NoError(t, err)
		_, err = f.Write(append(hdr[:], "short"...))
		require.NoError(t, err)
		require.NoError(t, f.Close())
		r := Summarize(s.RunDir(id))
		require.Error(t, r.Err, "claim %d", claim)
		assert.ErrorIs(t, r.Err, ErrCorrupted)
		assert.Contains(t, r.Err.Error(), logPath(s, id))
		assert.Equal(t, 2, r.Batches, "the records before are read")
		assert.False(t, r.TornTail)
	}
}

// A record decoding to more than maxRecordItems items is refused by the
// writer and by the reader.
func TestRecordItemBound(t *testing.T) {
	s := newStore(t)
	id := startRun(t, s, mlerr.RunSpec{Name: "r"})
	items := make([]mlerr.Item, maxRecordItems+1)
	for i := range items {
		items[i] = mlerr.Item{Kind: mlerr.ItemMetric, Key: "k", Step: int64(i)}
	}
	err := s.WriteBatch(context.Background(), mlerr.Batch{RunID: id, Seq: 1, Items: items})
	require.Error(t, err)
	assert.True(t, errors.Is(err, mlerr.ErrValueTooLarge), "%.200v", err)
	var p []byte
	p = binary.AppendUvarint(p, 1)
	p = binary.AppendUvarint(p, maxRecordItems+1)
	p = append(p, make([]byte, 3*(maxRecordItems+1))...)
	_, _, err = decodeBatch(p)
	assert.True(t, errors.Is(err, errDecode))
	_, _, err = countBatch(p)
	assert.True(t, errors.Is(err, errDecode))
}
