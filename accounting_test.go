package mlerr_test

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/mlerr/mlerr"
	fb "github.com/mlerr/mlerr/internal/fakebackend"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// The tests of this file pin the Run's accounting: every event that loses
// data says which data, and the Report adds up whatever happens.

// requireIdentity checks the Report's identity.
func requireIdentity(t *testing.T, rep mlerr.Report) {
	t.Helper()
	require.Equal(t, rep.Logged, rep.Sent+rep.Dropped.Total()+rep.Unacknowledged+int64(rep.Spooled),
		"Logged = Sent + Dropped + Unacknowledged + Spooled: %+v", rep)
}

// lostSteps returns the steps of the items the events say were lost.
func lostSteps(errs []error) []int64 {
	var out []int64
	for _, err := range errs {
		for _, it := range mlerr.LostItems(err) {
			out = append(out, it.Step)
		}
	}
	return out
}

func TestQueueFullEventsCarryTheItemsLost(t *testing.T) {
	for _, tc := range []struct {
		name   string
		policy mlerr.FullPolicy
		lost   []int64
	}{
		{"drop-oldest", mlerr.DropOldest(), seq(0, 15)},
		{"drop-newest", mlerr.DropNewest(), seq(10, 25)},
	} {
		t.Run(tc.name, func(t *testing.T) {
			f, release := heldFixture(t, mlerr.WithLimits(mlerr.Limits{QueueItems: 10, QueueBytes: 1 << 20}), mlerr.WithLimits(mlerr.Limits{BatchItems: 5, BatchBytes: 1 << 20, BatchInterval: time.Hour}), mlerr.WithFullPolicy(tc.policy))
			f.logSteps("x", 0, 25)
			release()
			rep, err := f.close()
			require.Error(t, err)
			full := f.rec.errs("full")
			assert.Equal(t, tc.lost, lostSteps(full), "LostItems of the OnQueueFull events: exactly the items dropped")
			assert.Equal(t, int64(15), totalDrops(full))
			for _, e := range full {
				assert.Equal(t, int64(len(mlerr.LostItems(e))), mlerr.LostCount(e))
				for _, it := range mlerr.LostItems(e) {
					assert.Equal(t, "x", it.Key)
				}
			}
			requireIdentity(t, rep)
		})
	}
}

func TestQueueFullEventsAreBounded(t *testing.T) {
	// 5000 drops within one coalescing interval (the fake clock stands
	// still): the event lists the first 1000 and counts them all.
	f, release := heldFixture(t, mlerr.WithLimits(mlerr.Limits{QueueItems: 10, QueueBytes: 1 << 20}), mlerr.WithLimits(mlerr.Limits{BatchItems: 5, BatchBytes: 1 << 20, BatchInterval: time.Hour}), mlerr.WithFullPolicy(mlerr.DropNewest()))
	f.logSteps("x", 0, 5011) // steps 10 to 5010 are dropped; the first drop is reported at once
	release()
	rep, _ := f.close()
	full := f.rec.errs("full")
	require.Len(t, full, 2, "one event at the first drop, one for the rest at Close")
	assert.Equal(t, int64(1), mlerr.LostCount(full[0]))
	assert.Equal(t, int64(5000), mlerr.LostCount(full[1]))
	lost := mlerr.LostItems(full[1])
	require.Len(t, lost, 1000, "at most 1000 items listed")
	assert.Equal(t, int64(11), lost[0].Step, "the first items dropped")
	assert.Equal(t, int64(1010), lost[999].Step)
	assert.Equal(t, int64(5001), rep.Dropped.QueueFull)
	requireIdentity(t, rep)
}

func TestBlockRefusalCarriesTheItemsLost(t *testing.T) {
	f, release := heldFixture(t, mlerr.WithLimits(mlerr.Limits{QueueItems: 4, QueueBytes: 1 << 20}), mlerr.WithLimits(mlerr.Limits{BatchItems: 4, BatchBytes: 1 << 20, BatchInterval: time.Hour}), mlerr.WithFullPolicy(mlerr.Block(time.Millisecond)))
	f.logSteps("x", 0, 4)
	err := f.run.LogMetrics(4, map[string]float64{"x": 4, "y": 4})
	require.ErrorIs(t, err, mlerr.ErrQueueFull)
	release()
	rep, _ := f.close()
	full := f.rec.errs("full")
	var keys []string
	for _, e := range full {
		for _, it := range mlerr.LostItems(e) {
			keys = append(keys, it.Key)
		}
	}
	assert.ElementsMatch(t, []string{"x", "y"}, keys)
	assert.Equal(t, int64(6), rep.Logged, "the refused entries were valid: logged, then dropped")
	assert.Equal(t, int64(2), rep.Dropped.QueueFull)
	requireIdentity(t, rep)
}

func TestReportIdentity(t *testing.T) {
	rejectOdd := fb.Reject(func(it mlerr.Item) string {
		if it.Step%2 == 1 {
			return "odd"
		}
		return ""
	})
	for _, tc := range []struct {
		name string
		opts []mlerr.RunOption
		// arrange runs before the 50 points are logged, held says whether
		// the start is held until they are.
		arrange func(f *fixture)
		held    bool
		end     func(f *fixture) mlerr.Report
	}{
		{name: "drop-oldest", opts: []mlerr.RunOption{mlerr.WithFullPolicy(mlerr.DropOldest())}, held: true},
		{name: "drop-newest", opts: []mlerr.RunOption{mlerr.WithFullPolicy(mlerr.DropNewest())}, held: true},
		{name: "block(1ms)", opts: []mlerr.RunOption{mlerr.WithFullPolicy(mlerr.Block(time.Millisecond))}, held: true},
		{name: "spill", opts: []mlerr.RunOption{mlerr.WithFullPolicy(mlerr.Spill(&memSpool{}))}, held: true},
		{name: "spill, the spool failing", opts: []mlerr.RunOption{mlerr.WithFullPolicy(mlerr.Spill(&memSpool{failErr: errors.New("disk full")}))}, held: true},
		{name: "Close times out", opts: []mlerr.RunOption{mlerr.WithLimits(mlerr.Limits{CloseTimeout: 20 * time.Millisecond})},
			arrange: func(f *fixture) { f.b.Inject(fb.Write, -1, fb.Refused()) }},
		{name: "Close times out, a write applied in flight", opts: []mlerr.RunOption{mlerr.WithLimits(mlerr.Limits{CloseTimeout: 20 * time.Millisecond})},
			arrange: func(f *fixture) { f.b.Inject(fb.Write, -1, fb.AppliedThenHang()) }},
		{name: "Terminate", arrange: func(f *fixture) { f.b.Inject(fb.Write, -1, fb.Hang()) },
			end: func(f *fixture) mlerr.Report {
				f.run.Wait(canceledCtx())
				f.run.Terminate()
				rep, _ := f.close()
				return rep
			}},
		{name: "the backend rejects items", arrange: func(f *fixture) { f.b.Inject(fb.Write, -1, rejectOdd) }},
	} {
		for _, k := range inFlights {
			t.Run(fmt.Sprintf("%s/InFlight=%d", tc.name, k), func(t *testing.T) {
				opts := append([]mlerr.RunOption{mlerr.WithLimits(mlerr.Limits{QueueItems: 10, QueueBytes: 1 << 20, InFlight: k}), mlerr.WithLimits(mlerr.Limits{BatchItems: 5, BatchBytes: 1 << 20, BatchInterval: time.Hour})}, tc.opts...)
				var f *fixture
				release := func() {}
				if tc.held {
					f, release = heldFixture(t, opts...)
				} else {
					f = newFixture(t, opts...)
					require.NoError(t, f.run.Started(context.Background()))
				}
				if tc.arrange != nil {
					tc.arrange(f)
				}
				for s := int64(0); s < 50; s++ {
					f.run.LogMetrics(s, map[string]float64{"x": float64(s)})
				}
				f.run.LogMetrics(50, map[string]float64{"bad key!": 1}) // rejected at the call
				release()
				var rep mlerr.Report
				if tc.end != nil {
					rep = tc.end(f)
				} else {
					rep, _ = f.close()
				}
				requireIdentity(t, rep)
				assert.Equal(t, int64(1), rep.Invalid, "rejected at the call, on a line of its own")
				assert.Equal(t, int64(50), rep.Logged+rep.Duplicates, "every valid point is logged")
				assert.Equal(t, int64(len(f.b.Items(rep.RunID))), rep.Sent+unackedStored(f, rep), "Sent is what the backend holds")
				stored := steps(f.b.Items(rep.RunID), "x")
				assert.Len(t, stored, len(slices.Compact(slices.Sorted(slices.Values(stored)))), "no point stored twice")
			})
		}
	}
}

// inFlights are the Limits.InFlight the accounting and fault tables run
// with: one batch in flight, and several.
var inFlights = []int{1, 4}

// unackedStored is how many unacknowledged items the fake did store.
func unackedStored(f *fixture, rep mlerr.Report) int64 {
	stored := int64(len(f.b.Items(rep.RunID)))
	return min(rep.Unacknowledged, max(0, stored-rep.Sent))
}

func TestBackendPanicKeepsTheBatch(t *testing.T) {
	f := newFixture(t)
	require.NoError(t, f.run.Started(context.Background()))
	f.b.Inject(fb.Write, 1, fb.Panic("write boom"))
	f.logSteps("x", 0, 5)
	require.NoError(t, f.run.Wait(context.Background()))
	assert.Equal(t, int64(1), f.run.Health().SenderRestarts, "the sender restarted")
	rep, err := f.close()
	require.NoError(t, err, "the batch was sent again after the panic")
	assert.Equal(t, mlerr.RunFinished, rep.Status)
	assert.Equal(t, seq(0, 5), steps(f.b.Items(rep.RunID), "x"))
	errs := f.rec.errs("error")
	require.Len(t, errs, 1)
	assert.ErrorIs(t, errs[0], mlerr.ErrSynchronizationStopped)
	assert.Contains(t, errs[0].Error(), "write boom")
	assert.Empty(t, mlerr.LostItems(errs[0]), "nothing lost")
}

func TestBackendPanicsThreeTimesGiveUpTheBatch(t *testing.T) {
	f := newFixture(t)
	require.NoError(t, f.run.Started(context.Background()))
	f.b.Inject(fb.Write, 3, fb.Panic("write boom"))
	f.logSteps("x", 0, 5)
	require.NoError(t, f.run.Wait(context.Background()))
	f.logSteps("x", 5, 7)
	rep, err := f.close()
	require.Error(t, err)
	assert.Equal(t, seq(5, 7), steps(f.b.Items(rep.RunID), "x"), "the run goes on after the lost batch")
	errs := f.rec.errs("error")
	require.Len(t, errs, 3)
	assert.Empty(t, mlerr.LostItems(errs[0]))
	assert.Empty(t, mlerr.LostItems(errs[1]))
	assert.Equal(t, seq(0, 5), lostSteps(errs[2:]), "the third panic gives the batch up")
	assert.Equal(t, int64(5), rep.Dropped.Rejected)
	assert.Equal(t, int64(3), f.run.Health().SenderRestarts)
	requireIdentity(t, rep)
}

func TestUnacknowledgedItemsMayBeStored(t *testing.T) {
	f := newFixture(t, mlerr.WithLimits(mlerr.Limits{CloseTimeout: 50 * time.Millisecond}), mlerr.WithLimits(mlerr.Limits{BatchItems: 5, BatchBytes: 1 << 20, BatchInterval: time.Hour}))
	require.NoError(t, f.run.Started(context.Background()))
	f.b.Inject(fb.Write, -1, fb.AppliedThenHang())
	f.logSteps("x", 0, 12) // batches of 5: one in flight, 7 queued
	require.Eventually(t, func() bool { return f.b.Calls(fb.Write) == 1 }, safety, time.Millisecond, "the first batch is in flight")
	rep, err := f.close()
	require.Error(t, err)
	assert.Equal(t, int64(5), rep.Unacknowledged)
	assert.Equal(t, int64(7), rep.Dropped.Unsent)
	assert.Equal(t, seq(0, 5), steps(f.b.Items(rep.RunID), "x"), "the unacknowledged items are on the server")
	assert.Contains(t, err.Error(), "7 items not stored")
	assert.Contains(t, err.Error(), "5 items unacknowledged (they may be stored)")
	errs := f.rec.errs("error")
	require.Len(t, errs, 1)
	assert.Contains(t, errs[0].Error(), "5 unacknowledged")
	var unacked, unsent int
	for _, fl := range lostFailures(errs[0]) {
		switch {
		case strings.HasPrefix(fl.Reason, "unacknowledged"):
			unacked++
		case strings.HasPrefix(fl.Reason, "unsent"):
			unsent++
		}
	}
	assert.Equal(t, 5, unacked)
	assert.Equal(t, 7, unsent)
	requireIdentity(t, rep)
}

// lostFailures returns the failures of the BatchError an event carries.
func lostFailures(err error) []mlerr.Failure[mlerr.Item] {
	var be *mlerr.BatchError[mlerr.Item]
	if errors.As(err, &be) {
		return be.Failures
	}
	return nil
}

func TestRefusedItemsAreNotUnacknowledged(t *testing.T) {
	// A connection refused never reaches the server: the items are unsent.
	f := newFixture(t, mlerr.WithLimits(mlerr.Limits{CloseTimeout: 20 * time.Millisecond}))
	require.NoError(t, f.run.Started(context.Background()))
	f.b.Inject(fb.Write, -1, fb.Refused())
	f.logSteps("x", 0, 3)
	rep, _ := f.close()
	assert.Zero(t, rep.Unacknowledged)
	assert.Equal(t, int64(3), rep.Dropped.Unsent)
}

func TestCloseTriesAtOnceWhenTheServerIsBack(t *testing.T) {
	// The default policy backs off up to 30 s; the backend refuses for 10 s
	// of the fake clock. Close, asked for at the start of the outage, ends
	// less than a second (flushProbe) after the backend is back.
	f := newBare(t)
	p := mlerr.DefaultPolicy()
	p.Clock = f.clock
	p.AttemptTimeout = mlerr.Off
	f.start(mlerr.WithRetryPolicy(p))
	require.NoError(t, f.run.Started(context.Background()))
	back := f.clock.Now().Add(10 * time.Second)
	var storedAt atomic.Pointer[time.Time]
	f.b.Inject(fb.Write, -1, fb.Refused())
	f.b.OnCall(func(op fb.Op, _ int) {
		if op != fb.Write {
			return
		}
		if now := f.clock.Now(); !now.Before(back) {
			f.b.Heal(fb.Write)
			storedAt.CompareAndSwap(nil, &now)
		}
	})
	f.logSteps("x", 0, 3)
	rep, err := f.close()
	require.NoError(t, err)
	assert.Equal(t, seq(0, 3), steps(f.b.Items(rep.RunID), "x"))
	at := storedAt.Load()
	require.NotNil(t, at)
	assert.LessOrEqual(t, at.Sub(back), time.Second, "tried again at most a second after the backend was back")
}

func TestWaitCutsTheBackoffShort(t *testing.T) {
	// Real clock; the policy backs off an hour. A full batch leaves on its
	// own, fails, and the sender sleeps; a Wait asked for meanwhile makes it
	// try again at once.
	f := newFixture(t, mlerr.WithClock(realClock{}), mlerr.WithLimits(mlerr.Limits{BatchItems: 3, BatchBytes: 1 << 20, BatchInterval: time.Hour}),
		mlerr.WithRetryPolicy(mlerr.Policy{MaxAttempts: 5, InitialDelay: time.Hour, MaxDelay: time.Hour, AttemptTimeout: mlerr.Off, NoJitter: true}))
	require.NoError(t, f.run.Started(context.Background()))
	f.b.Inject(fb.Write, 1, fb.Status(503))
	f.logSteps("x", 0, 3)
	require.Eventually(t, func() bool { return f.run.Health().ConsecutiveFailures == 1 }, safety, time.Millisecond)
	ctx, cancel := context.WithTimeout(context.Background(), safety)
	defer cancel()
	require.NoError(t, f.run.Wait(ctx), "the retry came at once, not after an hour")
	assert.Equal(t, seq(0, 3), steps(f.stored(), "x"))
}
