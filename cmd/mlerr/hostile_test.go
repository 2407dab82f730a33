//go:build unix

package main

import (
	"encoding/binary"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/mlerr/mlerr/localstore"
)

// hostileStore returns a store with one honest run and runs crafted to
// make a reader leave the store, each with the file its error must name;
// and a directory outside holding a run that must never be read.
func hostileStore(t *testing.T) (dir, outside, good string, want map[string]string) {
	t.Helper()
	outside = offlineStore(t, 1, 1, 3)
	outRuns, err := localstore.List(outside)
	require.NoError(t, err)
	outRun := outRuns[0].Dir
	dir = offlineStore(t, 6, 1, 4)
	runs, err := localstore.List(dir)
	require.NoError(t, err)
	good = runs[0].ID
	want = map[string]string{}
	at := func(i int, name string) string { return filepath.Join(runs[i].Dir, name) }

	require.NoError(t, os.Remove(at(1, "log")))
	require.NoError(t, os.Symlink(filepath.Join(outRun, "log"), at(1, "log")))
	want[runs[1].ID] = at(1, "log") + " is a symbolic link"

	require.NoError(t, os.WriteFile(at(2, "manifest.json"), []byte("not json at all"), 0o600))
	want[runs[2].ID] = at(2, "manifest.json") + " at offset 0: manifest does not decode"

	data, err := os.ReadFile(at(3, "log"))
	require.NoError(t, err)
	hdr := make([]byte, 12)
	binary.LittleEndian.PutUint32(hdr, 0x524c4db7)
	binary.LittleEndian.PutUint32(hdr[4:], 0xFFFFFFFF)
	require.NoError(t, os.WriteFile(at(3, "log"), append(append(data[:16:16], hdr...), data[16:]...), 0o600))
	want[runs[3].ID] = at(3, "log") + " at offset 16: record header claims 4294967295 bytes"

	m, err := os.ReadFile(at(4, "manifest.json"))
	require.NoError(t, err)
	m = []byte(strings.Replace(string(m), `"name"`, `"fork_parent": "../../`+filepath.Base(filepath.Dir(outRun))+"/"+filepath.Base(outRun)+`", "name"`, 1))
	require.NoError(t, os.WriteFile(at(4, "manifest.json"), m, 0o600))
	want[runs[4].ID] = at(4, "manifest.json") + " at offset 0: manifest's fork parent"

	require.NoError(t, os.Remove(at(5, "log")))
	require.NoError(t, syscall.Mkfifo(at(5, "log"), 0o600))
	want[runs[5].ID] = at(5, "log") + " is not a regular file"

	link := filepath.Join(dir, "0123456789abcdef0123456789abcdef")
	require.NoError(t, os.Symlink(outRun, link))
	want["0123456789abcdef0123456789abcdef"] = link + " is a symbolic link"
	return dir, outside, good, want
}

// mlerr ls and mlerr sync on a crafted store: each crafted run fails with
// its file named, the honest run is listed and uploaded, nothing outside
// the store is read (the outside run never reaches the server) or written.
func TestHostileStoreLsAndSync(t *testing.T) {
	dir, outside, good, want := hostileStore(t)
	before := listTree(t, outside)

	r := runCLI(t, false, "ls", dir)
	assert.Equal(t, 1, r.code)
	assert.Equal(t, "mlerr: ls: 6 of 7 runs cannot be read (see ERROR above)\n", r.stderr)
	for id, text := range want {
		assert.Contains(t, r.stdout, "ERROR "+id+": DATA_LOSS: "+text, id)
	}
	assert.Regexp(t, good+`\s+offline\s+FINISHED`, r.stdout)

	fs, uri := fakeServer(t)
	r = runCLI(t, false, "sync", dir)
	assert.Equal(t, 1, r.code)
	for id, text := range want {
		assert.Contains(t, r.stdout, id+"  not synced: DATA_LOSS: "+text, id)
	}
	assert.Contains(t, r.stdout, good+"  -> ")
	assert.Contains(t, r.stdout, "uploaded 5 items in 2 batches to "+uri)
	assert.Equal(t, `mlerr: sync: 6 of 7 runs cannot be read and were not synced (see "not synced" above); the others were`, lastLine(r.stderr))
	assert.Equal(t, 1, fs.RunCount(), "only the honest run reached the server")
	assert.Equal(t, before, listTree(t, outside), "nothing outside the store changed")
}

func listTree(t *testing.T, dir string) map[string]int64 {
	t.Helper()
	out := map[string]int64{}
	require.NoError(t, filepath.Walk(dir, func(path string, info os.FileInfo, err error) error {
		require.NoError(t, err)
		out[path] = info.Size() + info.ModTime().UnixNano()
		return nil
	}))
	return out
}
