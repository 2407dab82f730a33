package localstore

import (
	"bufio"
	"context"
	"fmt"
	"io"
	"log/slog"
	"math"
	"math/rand/v2"
	"os"
	"os/exec"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/mlerr/mlerr"
)

// The crash test runs a training loop in a child process (this test binary,
// re-executed) that logs through an mlerr.Run backed by a Store, and kills it
// with SIGKILL at random moments, several times in a row. After each kill it
// checks that every point the child saw acknowledged (Run.Wait returned) is
// in the log exactly once, that the torn tail is cut when the run is resumed,
// and that Replay, interrupted at random too, has delivered every point of
// the log to a fake server exactly once.
//
//	MLERR_CRASH_KILLS=20 go test ./localstore -run TestCrashRecovery -v -count=1
//
// MLERR_CRASH_SEED fixes the random choices; MLERR_CRASH_REPORT=path writes
// the figures as a markdown table.

const (
	envChild     = "MLERR_CRASH_CHILD"
	envDir       = "MLERR_CRASH_DIR"
	envFrom      = "MLERR_CRASH_FROM"
	envTear      = "MLERR_CRASH_TEAR"
	crashRunID   = "crashrun"
	stepsPerWait = 500 // two points a step: 1000 points between acknowledgements
)

// crashValue is the value logged for key at step: exact bits are checked,
// NaN and infinities included.
func crashValue(key string, step int64) float64 {
	switch {
	case step%97 == 0:
		return math.NaN()
	case step%89 == 0:
		return math.Inf(-1)
	case key == "acc":
		return 1 - 1/float64(step+2)
	}
	return float64(step) * 0.5
}

// TestHelperProcess is the child: it is a test only when run by
// TestCrashRecovery.
func TestHelperProcess(t *testing.T) {
	if os.Getenv(envChild) != "1" {
		t.Skip("run by TestCrashRecovery")
	}
	if err := crashChild(); err != nil {
		fmt.Printf("ERR %v\n", err)
		os.Exit(1)
	}
	os.Exit(0)
}

func crashChild() error {
	if os.Getenv(envTear) == "1" {
		// Write every record in two halves with a pause between them, so
		// that a kill often lands in the middle of a record.
		writeAt = func(f *os.File, p []byte, off int64) (int, error) {
			half := len(p) / 2
			n, err := f.WriteAt(p[:half], off)
			if err != nil {
				return n, err
			}
			time.Sleep(time.Millisecond)
			m, err := f.WriteAt(p[half:], off+int64(half))
			return n + m, err
		}
	}
	from, err := strconv.ParseInt(os.Getenv(envFrom), 10, 64)
	if err != nil {
		return err
	}
	store, err := Open(os.Getenv(envDir))
	if err != nil {
		return err
	}
	ctx := context.Background()
	run, err := mlerr.NewRun(ctx, store, mlerr.WithRunID(crashRunID),
		mlerr.WithLimits(mlerr.Limits{BatchItems: 1000, BatchBytes: 1 << 20, BatchInterval: 50 * time.Millisecond}), mlerr.WithFullPolicy(mlerr.Block(0)),
		mlerr.WithLogger(slog.New(slog.NewTextHandler(io.Discard, nil))))
	if err != nil {
		return err
	}
	out := bufio.NewWriter(os.Stdout)
	for step := from; ; step++ {
		if err := run.LogMetrics(step, map[string]float64{"loss": crashValue("loss", step), "acc": crashValue("acc", step)}); err != nil {
			return err
		}
		if (step+1)%stepsPerWait == 0 {
			if err := run.Wait(ctx); err != nil {
				return err
			}
			fmt.Fprintf(out, "ACK %d\n", step)
			if err := out.Flush(); err != nil {
				return err
			}
		}
	}
}

// crashRound is what one kill showed.
type crashRound struct {
	tear              bool
	acked             int64 // highest step acknowledged before the kill (-1: none)
	ackedPoints       int   // points acknowledged over the whole run so far
	recoveredPoints   int   // points in the log after the kill
	batches           int
	tornBytes         int64
	recover           time.Duration // Open + resume (cutting the tail)
	replayInterrupted bool
}

func TestCrashRecovery(t *testing.T) {
	if testing.Short() {
		t.Skip("crash test: starts and kills child processes")
	}
	kills := 8
	if v := os.Getenv("MLERR_CRASH_KILLS"); v != "" {
		n, err := strconv.Atoi(v)
		require.NoError(t, err)
		kills = n
	}
	seed := uint64(time.Now().UnixNano())
	if v := os.Getenv("MLERR_CRASH_SEED"); v != "" {
		n, err := strconv.ParseUint(v, 10, 64)
		require.NoError(t, err)
		seed = n
	}
	t.Logf("seed %d (MLERR_CRASH_SEED=%d reproduces the kill points)", seed, seed)
	rng := rand.New(rand.NewPCG(seed, 0))
	dir := t.TempDir()
	runDir := filepath.Join(dir, crashRunID)
	fb := newFake()
	var rounds []crashRound
	next := int64(0)   // first step the next child logs
	acked := int64(-1) // highest step acknowledged so far
	for i := range kills {
		r := crashRound{tear: i%2 == 1}
		r.acked = killChild(t, dir, next, r.tear, 1+rng.IntN(3), time.Duration(rng.IntN(40))*time.Millisecond)
		acked = max(acked, r.acked)
		r.ackedPoints = int(2 * (acked + 1))

		// The log after the kill: read-only, tail not cut yet.
		sum := Summarize(runDir)
		require.NoError(t, sum.Err, "round %d", i)
		r.batches = sum.Batches
		r.tornBytes = fileSize(t, filepath.Join(runDir, logFile)) - max(sum.Bytes, fileHeaderSize)
		require.Equal(t, r.tornBytes > 0, sum.TornTail)
		maxStep := checkLog(t, runDir, acked)
		r.recoveredPoints = int(2 * (maxStep + 1))
		require.GreaterOrEqual(t, r.recoveredPoints, r.ackedPoints, "round %d: an acknowledged point is missing", i)

		// Upload what the log holds, interrupted at random, then resumed.
		// Requests of up to 50 points join 25 stored batches; an
		// interrupted request whose answer was lost (applyThenFail) is
		// pending in the cursor when the log grows in the next round.
		limits := WithBatchLimits(BatchLimits{Metrics: 50})
		if rng.IntN(2) == 0 {
			fail := &fb.failCall
			if rng.IntN(2) == 0 {
				fail = &fb.applyThenFailCall
			}
			*fail = fb.calls + 1 + rng.IntN(3)
			if _, err := Replay(context.Background(), dir, fb, WithRetry(noRetry), limits); err != nil {
				require.ErrorIs(t, err, errInjected)
				r.replayInterrupted = true
			}
			fb.failCall, fb.applyThenFailCall = 0, 0
		}
		_, err := Replay(context.Background(), dir, fb, WithRetry(noRetry), limits)
		require.NoError(t, err)
		checkRemote(t, fb, maxStep)

		// Resume the run as the next child will, timing the recovery.
		start := time.Now()
		s, err := Open(dir)
		require.NoError(t, err)
		info, err := s.StartRun(context.Background(), mlerr.RunSpec{RunID: crashRunID})
		require.NoError(t, err)
		r.recover = time.Since(start)
		require.True(t, info.Resumed)
		require.NoError(t, s.Close())
		require.False(t, Summarize(runDir).TornTail, "the tail is cut on resume")

		next = maxStep + 1
		rounds = append(rounds, r)
	}
	reportCrash(t, rounds)
}

// killChild runs the child logging from step from, waits for acks
// acknowledgements and a pause, kills it with SIGKILL, and returns the
// highest step acknowledged.
func killChild(t *testing.T, dir string, from int64, tear bool, acks int, pause time.Duration) int64 {
	t.Helper()
	cmd := exec.Command(os.Args[0], "-test.run=^TestHelperProcess$", "-test.count=1")
	cmd.Env = append(os.Environ(), envChild+"=1", envDir+"="+dir, envFrom+"="+strconv.FormatInt(from, 10))
	if tear {
		cmd.Env = append(cmd.Env, envTear+"=1")
	}
	stdout, err := cmd.StdoutPipe()
	require.NoError(t, err)
	cmd.Stderr = os.Stderr
	require.NoError(t, cmd.Start())
	acked := int64(-1)
	sc := bufio.NewScanner(stdout)
	seen := 0
	for seen < acks && sc.Scan() {
		line := sc.Text()
		if strings.HasPrefix(line, "ERR ") {
			cmd.Process.Kill()
			cmd.Wait()
			t.Fatalf("child: %s", line)
		}
		if s, ok := strings.CutPrefix(line, "ACK "); ok {
			acked, err = strconv.ParseInt(s, 10, 64)
			require.NoError(t, err)
			seen++
		}
	}
	require.Equal(t, acks, seen, "the child stopped early")
	// Acknowledgements that arrive during the pause count too: read them
	// until the kill.
	done := make(chan int64)
	go func() {
		last := acked
		for sc.Scan() {
			if s, ok := strings.CutPrefix(sc.Text(), "ACK "); ok {
				if n, err := strconv.ParseInt(s, 10, 64); err == nil {
					last = n
				}
			}
		}
		done <- last
	}()
	time.Sleep(pause)
	require.NoError(t, cmd.Process.Signal(syscall.SIGKILL))
	_ = cmd.Wait()
	io.Copy(io.Discard, stdout)
	return <-done
}

// checkLog checks that the log holds, for both keys, every step up to its
// highest exactly once with the exact value, and that every acknowledged
// step is there. It returns the highest step.
func checkLog(t *testing.T, runDir string, acked int64) int64 {
	t.Helper()
	items := allItems(t, runDir)
	seen := map[string]int{}
	maxStep := int64(-1)
	for _, it := range items {
		seen[pointKey(it)]++
		want := crashValue(it.Key, it.Step)
		require.Equal(t, math.Float64bits(want), math.Float64bits(it.Value), "%s step %d", it.Key, it.Step)
		maxStep = max(maxStep, it.Step)
	}
	for step := int64(0); step <= maxStep; step++ {
		for _, key := range []string{"loss", "acc"} {
			n := seen[fmt.Sprintf("m/%s/%d", key, step)]
			if n != 1 {
				t.Fatalf("%s step %d is in the log %d times (acknowledged up to %d, log up to %d)", key, step, n, acked, maxStep)
			}
		}
	}
	require.GreaterOrEqual(t, maxStep, acked)
	require.Len(t, items, int(2*(maxStep+1)))
	return maxStep
}

// checkRemote checks that the fake server holds steps 0..maxStep of both
// keys exactly once.
func checkRemote(t *testing.T, fb *fakeBackend, maxStep int64) {
	t.Helper()
	require.Len(t, fb.runs, 1, "one remote run across every replay")
	r := fb.run("remote-1")
	require.Empty(t, r.duplicates())
	require.Len(t, r.count, int(2*(maxStep+1)))
}

func reportCrash(t *testing.T, rounds []crashRound) {
	var b strings.Builder
	fmt.Fprintln(&b, "| kill | torn writes | acked points | recovered points | batches | torn tail cut (bytes) | recovery | replay interrupted |")
	fmt.Fprintln(&b, "|---:|:---:|---:|---:|---:|---:|---:|:---:|")
	var recov []time.Duration
	torn := 0
	for i, r := range rounds {
		if r.tornBytes > 0 {
			torn++
		}
		recov = append(recov, r.recover)
		fmt.Fprintf(&b, "| %d | %v | %d | %d | %d | %d | %s | %v |\n", i+1, r.tear, r.ackedPoints, r.recoveredPoints,
			r.batches, r.tornBytes, r.recover.Round(10*time.Microsecond), r.replayInterrupted)
	}
	sort.Slice(recov, func(i, j int) bool { return recov[i] < recov[j] })
	last := rounds[len(rounds)-1]
	fmt.Fprintf(&b, "\n%d kills, %d torn tails cut; every acknowledged point recovered (%d acked, %d in the log); "+
		"replayed exactly once (%d points on the fake server); recovery median %s, max %s.\n",
		len(rounds), torn, last.ackedPoints, last.recoveredPoints, last.recoveredPoints,
		recov[len(recov)/2].Round(10*time.Microsecond), recov[len(recov)-1].Round(10*time.Microsecond))
	t.Log("\n" + b.String())
	if path := os.Getenv("MLERR_CRASH_REPORT"); path != "" {
		require.NoError(t, os.WriteFile(path, []byte(b.String()), 0o644))
	}
}
