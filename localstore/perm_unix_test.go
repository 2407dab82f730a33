//go:build unix

package localstore

import (
	"context"
	"io/fs"
	"os"
	"path/filepath"
	"syscall"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/mlerr/mlerr"
)

// withUmask runs f with the process's umask set to mask. The umask is the
// process's: no test of the package runs in parallel.
func withUmask(mask int, f func()) {
	old := syscall.Umask(mask)
	defer syscall.Umask(old)
	f()
}

// Every file and directory a store, a replay and a spool create has the
// chosen mode less the umask: owner-only by default.
func TestCreatedFilesModes(t *testing.T) {
	tests := []struct {
		name      string
		mode      fs.FileMode // 0: the default
		umask     int
		file, dir fs.FileMode
	}{
		{name: "default, umask 022", umask: 0o022, file: 0o600, dir: 0o700},
		{name: "default, umask 000", umask: 0o000, file: 0o600, dir: 0o700},
		{name: "default, umask 077", umask: 0o077, file: 0o600, dir: 0o700},
		{name: "0644, umask 022", mode: 0o644, umask: 0o022, file: 0o644, dir: 0o755},
		{name: "0664, umask 027: the umask applies", mode: 0o664, umask: 0o027, file: 0o640, dir: 0o750},
		{name: "0666, umask 000", mode: 0o666, umask: 0, file: 0o666, dir: 0o777},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			base := t.TempDir()
			root := filepath.Join(base, "store", "nested")
			spoolDir := filepath.Join(base, "spool")
			var runDir string
			withUmask(tt.umask, func() {
				var opts []Option
				var sopts []SpoolOption
				if tt.mode != 0 {
					opts = append(opts, WithFileMode(tt.mode))
					sopts = append(sopts, WithSpoolFileMode(tt.mode))
				}
				s, err := Open(root, opts...)
				require.NoError(t, err)
				id := startRun(t, s, mlerr.RunSpec{Name: "r"})
				runDir = s.RunDir(id)
				writeBatches(t, s, id, 2, 3)
				require.NoError(t, s.EndRun(context.Background(), id, mlerr.RunFinished, t0))
				require.NoError(t, s.Close())
				fb := newFake()
				fb.reject = func(it mlerr.Item) string {
					if it.Step == 1 {
						return "no"
					}
					return ""
				}
				_, err = Replay(context.Background(), root, fb)
				require.NoError(t, err)
				sp, err := OpenSpool(spoolDir, append(sopts, WithSegmentSize(64))...)
				require.NoError(t, err)
				require.NoError(t, sp.Push(points("x", 0, 20)))
				_, err = sp.Peek(5)
				require.NoError(t, err)
				require.NoError(t, sp.Ack(5))
				require.NoError(t, sp.Close())
			})
			want := map[string]fs.FileMode{
				root: tt.dir, filepath.Dir(root): tt.dir, filepath.Join(root, markerFile): tt.file,
				runDir: tt.dir, filepath.Join(runDir, logFile): tt.file, filepath.Join(runDir, manifestFile): tt.file,
				filepath.Join(runDir, syncDirName): tt.dir, cursorPath(runDir, DefaultTarget): tt.file,
				filepath.Join(runDir, syncDirName, DefaultTarget+".lock"):           tt.file,
				filepath.Join(runDir, syncDirName, DefaultTarget+".rejected.jsonl"): tt.file,
				spoolDir: tt.dir,
			}
			require.NoError(t, filepath.WalkDir(spoolDir, func(path string, d fs.DirEntry, err error) error {
				require.NoError(t, err)
				if !d.IsDir() {
					want[path] = tt.file
				}
				return nil
			}))
			assert.Greater(t, len(want), 13, "the spool has its cursor, lock and segments")
			for path, mode := range want {
				st, err := os.Stat(path)
				require.NoError(t, err, path)
				assert.Equal(t, mode, st.Mode().Perm(), "%s", path)
			}
			// No temporary file is left behind.
			require.NoError(t, filepath.WalkDir(base, func(path string, d fs.DirEntry, err error) error {
				require.NoError(t, err)
				assert.NotContains(t, d.Name(), ".tmp", path)
				return nil
			}))
		})
	}
}
