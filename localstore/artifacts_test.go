package localstore

import (
	"bufio"
	"bytes"
	"context"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/mlerr/mlerr"
	fb "github.com/mlerr/mlerr/internal/fakebackend"
	"github.com/mlerr/mlerr/internal/testserver"
	"github.com/mlerr/mlerr/mlflow"
)

// artifactWrites counts the uploads of each artifact a fake backend got.
func artifactWrites(rec fb.RunRecord) map[string]int {
	out := map[string]int{}
	for _, w := range rec.Writes {
		if p, ok := strings.CutPrefix(w, "artifact "); ok {
			out[p]++
		}
	}
	return out
}

// TestArtifactsOfflineThenSync logs artifacts to a store, then syncs them,
// interrupted: each is uploaded exactly once across the replays.
func TestArtifactsOfflineThenSync(t *testing.T) {
	dir := t.TempDir()
	store, err := Open(dir)
	require.NoError(t, err)
	ctx := context.Background()
	run, err := mlerr.NewRun(ctx, store, mlerr.WithRunName("offline"))
	require.NoError(t, err)
	src := t.TempDir()
	want := map[string][]byte{}
	for i := range 8 {
		data := bytes.Repeat([]byte{byte(i)}, 1000*(i+1))
		require.NoError(t, os.WriteFile(filepath.Join(src, fmt.Sprintf("f%d.bin", i)), data, 0o644))
		want[fmt.Sprintf("out/f%d.bin", i)] = data
	}
	require.NoError(t, run.LogArtifacts(src, "out"))
	require.NoError(t, run.LogText("hello", "notes.txt"))
	want["notes.txt"] = []byte("hello")
	require.NoError(t, run.LogMetrics(0, map[string]float64{"loss": 1}))
	_, err = run.Close(ctx)
	require.NoError(t, err)
	require.NoError(t, store.Close())

	sum := Summarize(store.RunDir(run.ID()))
	require.NoError(t, sum.Err)
	assert.Equal(t, 9, sum.Artifacts)
	assert.Equal(t, int64(36005), sum.ArtifactBytes)

	b := fb.New()
	var calls int // the fourth upload fails once...
	b.OnCall(func(op fb.Op, _ int) {
		if op == fb.Artifact {
			calls++
			if calls == 3 {
				b.Inject(fb.Artifact, 1, fb.Refused())
			}
		}
	})
	var bytesSeen int64
	_, err = Replay(ctx, dir, b, WithRetry(mlerr.Policy{MaxAttempts: 1}), WithProgress(func(p Progress) { bytesSeen = max(bytesSeen, p.ArtifactBytes) }))
	require.Error(t, err, "...with no retry: the replay stops")
	rep, err := Replay(ctx, dir, b, WithRetry(mlerr.Policy{MaxAttempts: 1}), WithProgress(func(p Progress) { bytesSeen = p.ArtifactBytes }))
	require.NoError(t, err)
	require.Len(t, rep.Runs, 1)
	assert.Equal(t, 6, rep.Runs[0].Artifacts, "the three uploaded before are not sent again")
	assert.Equal(t, rep.Runs[0].ArtifactBytes, bytesSeen, "progress counts the bytes")
	rec, ok := b.Run(rep.Runs[0].RemoteID)
	require.True(t, ok)
	assert.Equal(t, want, rec.Artifacts)
	for p, n := range artifactWrites(rec) {
		assert.Equal(t, 1, n, "%s uploaded once", p)
	}
	assert.True(t, Summarize(store.RunDir(run.ID())).Synced())
	again, err := Replay(ctx, dir, b)
	require.NoError(t, err)
	assert.True(t, again.Runs[0].AlreadySynced)
}

// TestArtifactCorruptedIsNotUploaded: a stored file changed on disk no
// longer matches its checksum; sync refuses it, naming it.
func TestArtifactCorruptedIsNotUploaded(t *testing.T) {
	dir := t.TempDir()
	store, err := Open(dir)
	require.NoError(t, err)
	ctx := context.Background()
	info, err := store.StartRun(ctx, mlerr.RunSpec{Name: "x"})
	require.NoError(t, err)
	require.NoError(t, store.WriteArtifact(ctx, info.RunID, "a/b.txt", strings.NewReader("abc"), 3))
	require.NoError(t, store.Close())
	p := filepath.Join(store.RunDir(info.RunID), artifactsDir, "a", "b.txt")
	require.NoError(t, os.WriteFile(p, []byte("abd"), 0o600))
	rep, err := Replay(ctx, dir, fb.New())
	require.Error(t, err)
	assert.ErrorIs(t, rep.Runs[0].Err, ErrCorrupted)
	assert.Contains(t, rep.Runs[0].Err.Error(), "b.txt")
}

func TestWriteArtifactRefusesBadPaths(t *testing.T) {
	store, err := Open(t.TempDir())
	require.NoError(t, err)
	defer store.Close()
	ctx := context.Background()
	info, err := store.StartRun(ctx, mlerr.RunSpec{})
	require.NoError(t, err)
	for _, p := range []string{"", "/etc/x", "../x", "a/../../x", "a//b", "a\\b", "./a"} {
		err := store.WriteArtifact(ctx, info.RunID, p, strings.NewReader("x"), 1)
		assert.ErrorIs(t, err, mlerr.ErrInvalidName, "%q", p)
	}
	assert.ErrorIs(t, store.WriteArtifact(ctx, info.RunID, "short", strings.NewReader("x"), 2), mlerr.ErrInvalidValue)
	n, _, err := artifactTotals(store.RunDir(info.RunID))
	require.NoError(t, err)
	assert.Zero(t, n, "nothing indexed")
}

const (
	envArtChild = "MLERR_ARTIFACT_CRASH_CHILD"
	envArtBig   = "MLERR_ARTIFACT_CRASH_BIG"
)

// TestArtifactCrashHelper is the child of TestArtifactCrash: it logs a
// small file, waits for it, then a big one whose copy into the store is
// slow, and prints COPYING once that copy started.
func TestArtifactCrashHelper(t *testing.T) {
	if os.Getenv(envArtChild) != "1" {
		t.Skip("run by TestArtifactCrash")
	}
	if err := artifactCrashChild(); err != nil {
		fmt.Printf("ERR %v\n", err)
		os.Exit(1)
	}
	os.Exit(0)
}

func artifactCrashChild() error {
	copyArtifactBytes = func(dst io.Writer, src io.Reader) (int64, error) {
		fmt.Println("COPYING")
		var n int64
		buf := make([]byte, 64<<10)
		for {
			m, err := src.Read(buf)
			if m > 0 {
				w, werr := dst.Write(buf[:m])
				n += int64(w)
				if werr != nil {
					return n, werr
				}
				time.Sleep(time.Millisecond)
			}
			if err == io.EOF {
				return n, nil
			}
			if err != nil {
				return n, err
			}
		}
	}
	store, err := Open(os.Getenv(envDir))
	if err != nil {
		return err
	}
	ctx := context.Background()
	run, err := mlerr.NewRun(ctx, store, mlerr.WithRunID(crashRunID))
	if err != nil {
		return err
	}
	if err := run.LogText("small", "small.txt"); err != nil {
		return err
	}
	if err := run.Wait(ctx); err != nil {
		return err
	}
	if err := run.LogArtifact(os.Getenv(envArtBig), ""); err != nil {
		return err
	}
	return run.Wait(ctx)
}

// TestArtifactCrash kills a process with SIGKILL in the middle of copying
// an artifact into the store: the store holds the files acknowledged
// before, and no half file that sync would upload. Sync to the real
// server, log the file again, sync again: the server holds both files,
// byte for byte, each uploaded once.
func TestArtifactCrash(t *testing.T) {
	uri := testserver.MLflowURI(t)
	dir := t.TempDir()
	big := filepath.Join(t.TempDir(), "big.bin")
	bigData := bytes.Repeat([]byte("0123456789abcdef"), 1<<18) // 4 MiB: 64 slow chunks
	require.NoError(t, os.WriteFile(big, bigData, 0o644))

	killDuringCopy(t, dir, big)
	runDir := filepath.Join(dir, crashRunID)
	sum := Summarize(runDir)
	require.NoError(t, sum.Err)
	assert.Equal(t, 1, sum.Artifacts, "only the acknowledged file is indexed")
	partial, _ := filepath.Glob(filepath.Join(runDir, partialPrefix+"*"))
	assert.NotEmpty(t, partial, "the kill left the copy under way")

	b, err := mlflow.NewBackend(uri, mlflow.WithExperiment(fmt.Sprintf("artifact-crash-%d", time.Now().UnixNano())))
	require.NoError(t, err)
	defer b.Client().CloseIdleConnections()
	ctx := context.Background()
	rep, err := Replay(ctx, dir, b)
	require.NoError(t, err)
	remote := rep.Runs[0].RemoteID
	assert.Equal(t, 1, rep.Runs[0].Artifacts)
	files, err := b.Client().ListArtifacts(ctx, remote, "")
	require.NoError(t, err)
	assert.Equal(t, []mlflow.ArtifactFile{{Path: "small.txt", Size: 5}}, files, "no half file on the server")

	// Reopen, log the file again, sync: the server has both.
	store, err := Open(dir)
	require.NoError(t, err)
	run, err := mlerr.NewRun(ctx, store, mlerr.WithRunID(crashRunID))
	require.NoError(t, err)
	require.NoError(t, run.LogArtifact(big, ""))
	_, err = run.Close(ctx)
	require.NoError(t, err)
	require.NoError(t, store.Close())
	rep, err = Replay(ctx, dir, b)
	require.NoError(t, err)
	assert.Equal(t, 1, rep.Runs[0].Artifacts, "small.txt is not uploaded again")
	var got bytes.Buffer
	_, err = b.Client().DownloadArtifact(ctx, remote, "big.bin", &got)
	require.NoError(t, err)
	assert.True(t, bytes.Equal(bigData, got.Bytes()), "big.bin as logged")
	got.Reset()
	_, err = b.Client().DownloadArtifact(ctx, remote, "small.txt", &got)
	require.NoError(t, err)
	assert.Equal(t, "small", got.String())
}

// killDuringCopy runs the child and kills it once the big file's copy into
// the store started.
func killDuringCopy(t *testing.T, dir, big string) {
	t.Helper()
	cmd := exec.Command(os.Args[0], "-test.run=^TestArtifactCrashHelper$")
	cmd.Env = append(os.Environ(), envArtChild+"=1", envDir+"="+dir, envArtBig+"="+big)
	out, err := cmd.StdoutPipe()
	require.NoError(t, err)
	require.NoError(t, cmd.Start())
	sc := bufio.NewScanner(out)
	copies := 0
	for sc.Scan() {
		if sc.Text() == "COPYING" {
			copies++
		}
		if copies == 2 { // the small file's copy, then the big one's
			time.Sleep(20 * time.Millisecond)
			break
		}
		require.False(t, strings.HasPrefix(sc.Text(), "ERR"), sc.Text())
	}
	require.Equal(t, 2, copies)
	require.NoError(t, cmd.Process.Signal(syscall.SIGKILL))
	_, _ = io.Copy(io.Discard, out)
	_ = cmd.Wait()
}
