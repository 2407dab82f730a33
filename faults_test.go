package mlerr_test

import (
	"errors"
	"fmt"
	"net"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/mlerr/mlerr"
	fb "github.com/mlerr/mlerr/internal/fakebackend"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// faultCase is one row of the fault table: a fault armed for the next
// `times` calls of an op, and what the run must make of it.
type faultCase struct {
	name  string
	op    fb.Op
	times int
	fault fb.Fault

	network   int         // OnNetworkError calls
	recovered int         // OnWarning ErrRecovered calls
	errKind   *mlerr.Kind // kind of the one OnError call (nil: none, unless errCode)
	errCode   mlerr.Code  // code of the one OnError call, when it has no kind
	lost      int         // items the OnError error says were lost
	stored    int         // items that reach the backend (of 11), each once
	status    mlerr.RunStatus
	check     func(t *testing.T, err error) // more checks of the OnError or OnNetworkError error
}

// faultCases is the fault table. The test policy makes 3 attempts per
// round: a fault armed for 2 calls is ridden out by the retries, one armed
// for 5 calls outlives them (an outage) and ends in the second round.
func faultCases() []faultCase {
	rejectOdd := fb.Reject(func(it mlerr.Item) string {
		if it.Kind == mlerr.ItemMetric && it.Step%2 == 1 {
			return "odd steps are refused"
		}
		return ""
	})
	netErr := func(errno syscall.Errno) func(t *testing.T, err error) {
		return func(t *testing.T, err error) {
			var re *mlerr.RetryError
			require.ErrorAs(t, err, &re)
			assert.Equal(t, "exhausted", re.Reason)
			assert.Equal(t, 3, re.Attempts)
			assert.ErrorIs(t, err, errno)
			var op *net.OpError
			assert.ErrorAs(t, err, &op)
		}
	}
	status := func(s int) func(t *testing.T, err error) {
		return func(t *testing.T, err error) {
			assert.ErrorIs(t, err, mlerr.ErrRest)
			assert.Equal(t, s, mlerr.HTTPStatusOf(err))
			var re *mlerr.RetryError
			assert.ErrorAs(t, err, &re)
		}
	}
	transient := func(name string, f fb.Fault, check func(*testing.T, error)) []faultCase {
		return []faultCase{
			{name: name + " x2 on WriteBatch (retried)", op: fb.Write, times: 2, fault: f, stored: 11, status: mlerr.RunFinished},
			{name: name + " x5 on WriteBatch (outage)", op: fb.Write, times: 5, fault: f, network: 1, recovered: 1, stored: 11, status: mlerr.RunFinished, check: check},
		}
	}
	var cases []faultCase
	cases = append(cases, transient("connection refused", fb.Refused(), netErr(syscall.ECONNREFUSED))...)
	cases = append(cases, transient("connection reset", fb.Reset(), netErr(syscall.ECONNRESET))...)
	cases = append(cases, transient("429 Retry-After 2s", fb.TooManyRequests(2*time.Second), status(429))...)
	for _, s := range []int{500, 502, 503, 504} {
		cases = append(cases, transient(fmt.Sprintf("HTTP %d", s), fb.Status(s), status(s))...)
	}
	cases = append(cases, transient("HTML 502 from a proxy", fb.BadGateway(), status(502))...)
	cases = append(cases,
		faultCase{name: "connection refused on StartRun x5", op: fb.Start, times: 5, fault: fb.Refused(),
			network: 1, recovered: 1, stored: 11, status: mlerr.RunFinished},
		faultCase{name: "applied, response lost (x5) on WriteBatch", op: fb.Write, times: 5, fault: fb.AppliedButLost(),
			stored: 11, status: mlerr.RunFinished},
		faultCase{name: "401 unauthorized on WriteBatch", op: fb.Write, times: 1, fault: fb.Unauthorized(),
			errKind: mlerr.ErrUnauthorized, lost: 11, status: mlerr.RunFailed, check: status(401)},
		faultCase{name: "403 forbidden on WriteBatch", op: fb.Write, times: 1, fault: fb.Forbidden(),
			errKind: mlerr.ErrUnauthorized, lost: 11, status: mlerr.RunFailed, check: status(403)},
		faultCase{name: "404 run gone on WriteBatch", op: fb.Write, times: 1, fault: fb.RunGone(),
			errKind: mlerr.ErrRunNotFound, lost: 11, status: mlerr.RunFailed, check: func(t *testing.T, err error) {
				assert.ErrorIs(t, err, mlerr.CodeResourceDoesNotExist)
			}},
		faultCase{name: "malformed response on WriteBatch", op: fb.Write, times: 1, fault: fb.Malformed(),
			errCode: mlerr.CodeUnparseableHTTPError, lost: 11, status: mlerr.RunFailed},
		faultCase{name: "per-item rejections on WriteBatch", op: fb.Write, times: 1, fault: rejectOdd,
			errKind: mlerr.ErrInvalidValue, lost: 5, stored: 6, status: mlerr.RunFailed, check: func(t *testing.T, err error) {
				for _, it := range mlerr.LostItems(err) {
					assert.Equal(t, int64(1), it.Step%2, "exactly the rejected items")
				}
			}},
		// A panic restarts the sender, which keeps the batch and sends it
		// again: reported, nothing lost.
		faultCase{name: "panic on WriteBatch", op: fb.Write, times: 1, fault: fb.Panic("boom"),
			errKind: mlerr.ErrSynchronizationStopped, stored: 11, status: mlerr.RunFinished, check: func(t *testing.T, err error) {
				var stack string
				require.True(t, mlerr.AsError(findKind(err, mlerr.ErrSynchronizationStopped)).Detail("stack", &stack) ||
					strings.Contains(err.Error(), "boom"))
				assert.Contains(t, err.Error(), "boom")
			}},
		faultCase{name: "401 on StartRun", op: fb.Start, times: 1, fault: fb.Unauthorized(),
			errKind: mlerr.ErrUnauthorized, lost: 11},
		faultCase{name: "panic in StartRun", op: fb.Start, times: 1, fault: fb.Panic("start boom"),
			errKind: mlerr.ErrSynchronizationStopped, stored: 11, status: mlerr.RunFinished, check: func(t *testing.T, err error) {
				assert.Contains(t, err.Error(), "start boom")
			}},
		faultCase{name: "400 INVALID_PARAMETER_VALUE on StartRun", op: fb.Start, times: 1, fault: fb.Status(400),
			errKind: mlerr.ErrInvalidRunParameters, lost: 11, check: status(400)},
	)
	return cases
}

// findKind returns the first error in err's chain whose *Error has kind k.
func findKind(err error, k *mlerr.Kind) error {
	for err != nil {
		if e, ok := err.(*mlerr.Error); ok && e.Kind() == k {
			return e
		}
		err = errors.Unwrap(err)
	}
	return nil
}

func TestRunFaults(t *testing.T) {
	var table strings.Builder
	table.WriteString("| fault | OnNetworkError | OnWarning (recovered) | OnError | points stored (of 11) | run ends |\n|---|---|---|---|---|---|\n")
	for _, tc := range faultCases() {
		for _, k := range inFlights {
			t.Run(fmt.Sprintf("%s/InFlight=%d", tc.name, k), func(t *testing.T) {
				if row := runFaultRow(t, tc, k); k == 1 {
					table.WriteString(row)
				}
			})
		}
	}
	t.Logf("fault table:\n%s", table.String())
}

// runFaultRow runs one row of the fault table with k batches in flight and
// returns the row of the table it proves.
func runFaultRow(t *testing.T, tc faultCase, k int) string {
	// StartRun waits until the 11 entries are queued, so that every
	// row sees the same single batch.
	f := newBare(t)
	logged := make(chan struct{})
	f.b.OnCall(func(op fb.Op, n int) {
		if op == fb.Start {
			<-logged
		}
	})
	f.b.Inject(tc.op, tc.times, tc.fault)
	f.start(mlerr.WithLimits(mlerr.Limits{InFlight: k}))
	start := time.Now()
	f.logSteps("loss", 0, 10)
	require.NoError(t, f.run.LogParams(map[string]string{"lr": "0.1"}))
	assert.Less(t, time.Since(start), safety, "logging never waits for the backend")
	close(logged)
	rep, cerr := f.close()

	assert.Equal(t, tc.network, f.rec.count("network", nil), "OnNetworkError calls")
	for _, err := range f.rec.errs("network") {
		assert.ErrorIs(t, err, mlerr.ErrNetwork)
		if tc.check != nil {
			tc.check(t, err)
		}
	}
	assert.Equal(t, tc.recovered, f.rec.count("warning", mlerr.ErrRecovered), "recovery warnings")
	assert.Equal(t, tc.recovered, len(f.rec.errs("warning")), "no other warnings")
	errs := f.rec.errs("error")
	errCell := "-"
	if tc.errKind == nil && tc.errCode == 0 {
		assert.Empty(t, errs, "OnError")
		require.NoError(t, cerr)
	} else {
		require.Len(t, errs, 1, "OnError once: %v", errs)
		err := errs[0]
		if tc.errKind != nil {
			assert.ErrorIs(t, err, tc.errKind)
			errCell = "1 x " + tc.errKind.Name()
		} else {
			assert.ErrorIs(t, err, tc.errCode)
			errCell = "1 x " + tc.errCode.String()
		}
		assert.Len(t, mlerr.LostItems(err), tc.lost, "the error carries exactly the items lost")
		if tc.check != nil {
			tc.check(t, err)
		}
		if tc.status == mlerr.RunFinished {
			require.NoError(t, cerr, "reported, but nothing lost")
		} else {
			require.Error(t, cerr, "Close says the run did not finish cleanly")
		}
	}
	stored := 0
	if rep.RunID != "" {
		items := f.b.Items(rep.RunID)
		stored = len(items)
		seen := map[string]bool{}
		for _, it := range items {
			k := fmt.Sprintf("%s/%s/%d", it.Kind, it.Key, it.Step)
			assert.False(t, seen[k], "stored once: %s", k)
			seen[k] = true
		}
		rec, _ := f.b.Run(rep.RunID)
		assert.Equal(t, tc.status, rec.Status, "status the run ended with")
	}
	assert.Equal(t, tc.stored, stored, "points stored")
	assert.Equal(t, int64(tc.stored), rep.Sent)
	assert.Equal(t, int64(tc.lost), rep.Dropped.Total())
	assert.Equal(t, tc.status, rep.Status)
	if tc.network > 0 {
		assert.Equal(t, int64(1), rep.Outages)
	}
	status := "never started"
	if tc.status != 0 {
		status = tc.status.String()
	}
	return fmt.Sprintf("| %s | %s | %s | %s | %d | %s |\n", tc.name, countCell(tc.network), countCell(tc.recovered), errCell, tc.stored, status)
}

func countCell(n int) string {
	if n == 0 {
		return "-"
	}
	return fmt.Sprintf("%d", n)
}
