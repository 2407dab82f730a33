package mlflow_test

import (
	"bufio"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"os"
	"os/exec"
	"strconv"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/mlerr/mlerr"
	"github.com/mlerr/mlerr/internal/fault"
	"github.com/mlerr/mlerr/mlflow"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// The many-rank test: rank processes (this test binary run again, see
// rankMain), one run each, log to the real server through one fault
// proxy, which fails in the middle as a shared server does when it is
// overwhelmed.
const (
	ranks     = 8
	rankKeys  = 10
	rankSteps = 100
	// The variables that make the test binary a rank (see TestMain).
	envRank    = "MLERR_TEST_RANK"
	envRankURI = "MLERR_TEST_RANK_URI"
	envRankExp = "MLERR_TEST_RANK_EXPERIMENT"
)

// rankResult is what a rank prints when it is done.
type rankResult struct {
	RunID     string `json:"run_id"`
	Network   int    `json:"network"`
	Recovered int    `json:"recovered"`
	Errors    int    `json:"errors"`
	Sent      int64  `json:"sent"`
	Lost      int64  `json:"lost"`
	Status    string `json:"status"`
	Err       string `json:"err,omitempty"`
	LastError string `json:"last_error,omitempty"` // Health's, for the failure message
	FirstLoss string `json:"first_loss,omitempty"` // the first OnError, for the failure message
}

func TestIntegrationManyRanks(t *testing.T) {
	for _, tc := range []struct {
		name string
		// outage fails the proxy for the middle of the run and heals it.
		outage func(t *testing.T, p *fault.Proxy)
	}{
		{"connections refused", func(t *testing.T, p *fault.Proxy) {
			require.NoError(t, p.Down())
			time.Sleep(1500 * time.Millisecond)
			require.NoError(t, p.Up())
		}},
		// What a server with too many clients answers: connections refused
		// at accept, 503 from the workers, and MLflow's 400 when its
		// database pool runs dry (SQLAlchemy's pool timeout).
		{"too many ranks: refused at accept, 503, pool exhausted", func(t *testing.T, p *fault.Proxy) {
			require.NoError(t, p.Down())
			time.Sleep(500 * time.Millisecond)
			p.Add(fault.Rule{Path: "runs/log-batch", Fault: fault.Status(http.StatusServiceUnavailable)})
			require.NoError(t, p.Up())
			time.Sleep(500 * time.Millisecond)
			p.Clear()
			p.Add(fault.Rule{Path: "runs/log-batch", Fault: fault.JSONError(http.StatusBadRequest, "BAD_REQUEST",
				"QueuePool limit of size 5 overflow 10 reached, connection timed out, timeout 30.00")})
			time.Sleep(500 * time.Millisecond)
			p.Clear()
		}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			e := newRealEnv(t)
			exp := unique("ranks")
			results := runRanks(t, e.proxy.URL(), exp, func() { tc.outage(t, e.proxy) })
			st := e.proxy.Stats()
			t.Logf("proxy: %d connections, %d requests, %d forwarded, injected %v", st.Connections, st.Requests, st.Forwarded, st.Injected)
			for i, r := range results {
				assert.Empty(t, r.Err, "rank %d (last backend error: %s)", i, r.LastError)
				assert.Equal(t, 1, r.Network, "rank %d: one OnNetworkError for the outage", i)
				assert.Equal(t, 1, r.Recovered, "rank %d: one recovery", i)
				assert.Zero(t, r.Errors, "rank %d: %s", i, r.FirstLoss)
				assert.Equal(t, int64(rankKeys*rankSteps), r.Sent, "rank %d", i)
				assert.Zero(t, r.Lost, "rank %d", i)
				assert.Equal(t, mlerr.RunFinished.String(), r.Status, "rank %d", i)
				if r.RunID == "" {
					continue
				}
				for k := range rankKeys {
					requireHistory(t, e.direct, r.RunID, rankKey(k), rankPoints(i, k))
				}
			}
		})
	}
}

// runRanks starts the ranks, waits until each has logged half its steps,
// runs outage while they log the rest and close, and returns what each
// reported.
func runRanks(t *testing.T, uri, exp string, outage func()) []rankResult {
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
	defer cancel()
	type proc struct {
		cmd   *exec.Cmd
		in    io.WriteCloser
		lines *bufio.Scanner
	}
	procs := make([]proc, ranks)
	for i := range procs {
		cmd := exec.CommandContext(ctx, os.Args[0], "-test.run=^$")
		cmd.Env = append(os.Environ(), envRank+"="+strconv.Itoa(i), envRankURI+"="+uri, envRankExp+"="+exp)
		cmd.Stderr = os.Stderr
		in, err := cmd.StdinPipe()
		require.NoError(t, err)
		out, err := cmd.StdoutPipe()
		require.NoError(t, err)
		require.NoError(t, cmd.Start())
		procs[i] = proc{cmd, in, bufio.NewScanner(out)}
	}
	for i, p := range procs {
		require.True(t, p.lines.Scan(), "rank %d ended before half its steps", i)
		require.Equal(t, "half", p.lines.Text(), "rank %d", i)
	}
	for _, p := range procs {
		_, err := io.WriteString(p.in, "go\n")
		require.NoError(t, err)
	}
	outage()
	results := make([]rankResult, ranks)
	for i, p := range procs {
		require.True(t, p.lines.Scan(), "rank %d printed no result", i)
		require.NoError(t, json.Unmarshal(p.lines.Bytes(), &results[i]), "rank %d: %s", i, p.lines.Text())
		p.in.Close()
		require.NoError(t, p.cmd.Wait(), "rank %d", i)
	}
	return results
}

func rankKey(k int) string { return fmt.Sprintf("rank/k%02d", k) }

// rankTime is the time stamp of a rank's points at step s: fixed, so that
// a retry writes the same point.
func rankTime(rank, s int) time.Time {
	return t0.Add(time.Duration(rank)*time.Hour + time.Duration(s)*time.Millisecond)
}

// rankPoints are the points of key k a rank logs.
func rankPoints(rank, k int) []mlerr.Item {
	out := make([]mlerr.Item, rankSteps)
	for s := range out {
		out[s] = mlerr.Item{Kind: mlerr.ItemMetric, Key: rankKey(k), Value: float64(rank*1000 + k*100 + s), Step: int64(s), Time: rankTime(rank, s)}
	}
	return out
}

// rankMain is a rank: it logs its steps (half, then on "go" from stdin the
// rest), closes its run and prints a rankResult; the exit code is 0 unless
// it could not report.
func rankMain() int {
	rank, _ := strconv.Atoi(os.Getenv(envRank))
	res := runRank(rank)
	if err := json.NewEncoder(os.Stdout).Encode(res); err != nil {
		return 1
	}
	return 0
}

func runRank(rank int) (res rankResult) {
	b, err := mlflow.NewBackend(os.Getenv(envRankURI))
	if err != nil {
		return rankResult{Err: err.Error()}
	}
	var network, recovered, errs atomic.Int32
	var firstLoss atomic.Pointer[string]
	cbs := mlerr.Callbacks{
		OnNetworkError: func(error, time.Time) { network.Add(1) },
		OnWarning: func(err error, _ time.Time) {
			if errors.Is(err, mlerr.ErrRecovered) {
				recovered.Add(1)
			}
		},
		OnError: func(err error, _ time.Time) {
			errs.Add(1)
			msg := err.Error()
			firstLoss.CompareAndSwap(nil, &msg)
		},
	}
	// A slow answer is not the outage under test: a one-worker SQLite
	// server takes seconds per write with 8 ranks writing (its writes wait
	// for the database lock, up to 20 s), so attempts may take a minute.
	policy := mlerr.Policy{MaxAttempts: 3, InitialDelay: 20 * time.Millisecond, MaxDelay: 200 * time.Millisecond,
		AttemptTimeout: time.Minute, MaxElapsed: mlerr.Off, MaxRetryAfter: time.Second}
	ctx := context.Background()
	run, err := mlerr.NewRun(ctx, b, mlerr.WithExperiment(os.Getenv(envRankExp)), mlerr.WithRunName(fmt.Sprintf("rank-%d", rank)),
		mlerr.WithCallbacks(cbs), mlerr.WithRetryPolicy(policy),
		mlerr.WithLimits(mlerr.Limits{BatchItems: 100, BatchBytes: 1 << 20, InFlight: 2, CloseTimeout: 2 * time.Minute}))
	if err != nil {
		return rankResult{Err: err.Error()}
	}
	logRankSteps(run, rank, 0, rankSteps/2)
	if err := run.Wait(ctx); err != nil {
		res.Err = err.Error()
	}
	fmt.Println("half")
	in := bufio.NewScanner(os.Stdin)
	if !in.Scan() || strings.TrimSpace(in.Text()) != "go" {
		res.Err = "no go from the test"
	}
	logRankSteps(run, rank, rankSteps/2, rankSteps)
	rep, err := run.Close(ctx)
	if err != nil && res.Err == "" {
		res.Err = err.Error()
	}
	if p := firstLoss.Load(); p != nil {
		res.FirstLoss = *p
	}
	if h := run.Health(); h.LastError != nil {
		res.LastError = h.LastError.Error()
	}
	res.RunID, res.Sent, res.Lost, res.Status = rep.RunID, rep.Sent, rep.Dropped.Total(), rep.Status.String()
	res.Network, res.Recovered, res.Errors = int(network.Load()), int(recovered.Load()), int(errs.Load())
	return res
}

// logRankSteps logs steps [from, to) of every key.
func logRankSteps(run *mlerr.Run, rank, from, to int) {
	m := make(map[string]float64, rankKeys)
	for s := from; s < to; s++ {
		for k := range rankKeys {
			m[rankKey(k)] = float64(rank*1000 + k*100 + s)
		}
		_ = run.LogMetricsAt(int64(s), rankTime(rank, s), m)
	}
}
