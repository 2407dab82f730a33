package mlerr_test

import (
	"context"
	"fmt"
	"io"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/mlerr/mlerr"
	fb "github.com/mlerr/mlerr/internal/fakebackend"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestRunInFlightLimits(t *testing.T) {
	for _, tc := range []struct {
		inFlight int
		window   int    // Health.InFlightWindow; 0: NewRun fails
		msg      string // in the error
	}{
		{0, 1, ""}, // the default
		{1, 1, ""},
		{4, 4, ""},
		{64, 64, ""},
		{-1, 0, "InFlight must not be negative"},
		{65, 0, "InFlight must be at most 64"},
		{1 << 20, 0, "InFlight must be at most 64"},
	} {
		t.Run(fmt.Sprint(tc.inFlight), func(t *testing.T) {
			run, err := mlerr.NewRun(context.Background(), fb.New(), mlerr.WithLimits(mlerr.Limits{InFlight: tc.inFlight}))
			if tc.window == 0 {
				require.Nil(t, run)
				require.ErrorIs(t, err, mlerr.ErrInvalidRunParameters)
				assert.Contains(t, err.Error(), tc.msg)
				var name string
				require.True(t, mlerr.AsError(err).Detail("option", &name))
				assert.Equal(t, "WithLimits", name)
				return
			}
			require.NoError(t, err)
			assert.Equal(t, tc.window, run.Health().InFlightWindow)
			_, err = run.Close(context.Background())
			require.NoError(t, err)
		})
	}
}

// probe is a fake backend that records how its writes overlap: each write
// takes a few real milliseconds, so that batches in flight together meet.
type probe struct {
	*fb.Backend
	delay   time.Duration
	slowSeq uint64        // the batch that takes slow instead
	slow    time.Duration //

	mu        sync.Mutex
	active    []mlerr.Batch // writes in progress
	uploading bool          // an artifact upload in progress
	maxActive int
	clashes   []string // what broke the order rules
	clock     int      // counts starts and ends
	spans     []span   // one per write call
	artifact  span     // the artifact upload
}

// span is one backend call: when it started (uploads) and ended
// (probe.clock), and the metric steps it carried.
type span struct {
	start, end       int
	minStep, maxStep int64
}

func (p *probe) WriteBatch(ctx context.Context, b mlerr.Batch) error {
	p.enter(b)
	d := p.delay
	if b.Seq == p.slowSeq {
		d = p.slow
	}
	time.Sleep(d)
	err := p.Backend.WriteBatch(ctx, b)
	p.leave(b)
	return err
}

func (p *probe) enter(b mlerr.Batch) {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.uploading {
		p.clashes = append(p.clashes, fmt.Sprintf("batch %d during an upload", b.Seq))
	}
	for _, o := range p.active {
		if k, ok := sharedKey(o, b); ok {
			p.clashes = append(p.clashes, fmt.Sprintf("batches %d and %d write %s together", o.Seq, b.Seq, k))
		}
	}
	p.active = append(p.active, b)
	p.maxActive = max(p.maxActive, len(p.active))
	p.clock++
}

func (p *probe) leave(b mlerr.Batch) {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.active = slices.DeleteFunc(p.active, func(o mlerr.Batch) bool { return o.Seq == b.Seq })
	sp := span{end: p.clock, minStep: -1, maxStep: -1}
	for _, it := range b.Items {
		if it.Kind == mlerr.ItemMetric {
			if sp.minStep < 0 {
				sp.minStep = it.Step
			}
			sp.maxStep = it.Step
		}
	}
	p.spans = append(p.spans, sp)
	p.clock++
}

func (p *probe) WriteArtifact(ctx context.Context, runID, path string, r io.Reader, size int64) error {
	p.mu.Lock()
	if len(p.active) > 0 {
		p.clashes = append(p.clashes, "an upload beside a batch")
	}
	p.uploading, p.artifact.start = true, p.clock
	p.clock++
	p.mu.Unlock()
	time.Sleep(p.delay)
	err := p.Backend.WriteArtifact(ctx, runID, path, r, size)
	p.mu.Lock()
	p.uploading, p.artifact.end = false, p.clock
	p.clock++
	p.mu.Unlock()
	return err
}

// sharedKey returns a tag or param key both batches write.
func sharedKey(a, b mlerr.Batch) (string, bool) {
	for _, x := range a.Items {
		for _, y := range b.Items {
			if (x.Kind == mlerr.ItemTag || x.Kind == mlerr.ItemParam) && x.Kind == y.Kind && x.Key == y.Key {
				return x.Kind.String() + " " + x.Key, true
			}
		}
	}
	return "", false
}

// newProbeRun starts a run of k batches in flight, batches of 5, on a
// probe; batches leave on Wait and Close.
func newProbeRun(t *testing.T, k int, opts ...mlerr.RunOption) (*probe, *mlerr.Run, *recorder) {
	f := newBare(t) // goleak
	p := &probe{Backend: f.b, delay: 3 * time.Millisecond}
	base := []mlerr.RunOption{
		mlerr.WithClock(f.clock), mlerr.WithRetryPolicy(testPolicy(f.clock)), mlerr.WithCallbacks(f.rec.callbacks()),
		mlerr.WithLimits(mlerr.Limits{BatchItems: 5, BatchBytes: 1 << 20, BatchInterval: time.Hour, InFlight: k, CloseTimeout: safety}),
	}
	run, err := mlerr.NewRun(context.Background(), p, append(base, opts...)...)
	require.NoError(t, err)
	t.Cleanup(func() { run.Close(context.Background()) })
	require.NoError(t, run.Started(context.Background()))
	return p, run, f.rec
}

func TestRunInFlightKeepsTheOrderRules(t *testing.T) {
	// 12 batches of 5: 4 points of x and either a fifth point or a write of
	// the tag "phase" (every third batch); an artifact after the sixth.
	p, run, rec := newProbeRun(t, 4)
	const cut = 6 * 5 // the first step after the artifact
	step := logOrderWorkload(t, run)
	rep, err := run.Close(context.Background())
	require.NoError(t, err)
	for name, errs := range rec.all() {
		assert.Empty(t, errs, name)
	}

	p.mu.Lock()
	defer p.mu.Unlock()
	assert.Empty(t, p.clashes)
	assert.GreaterOrEqual(t, p.maxActive, 2, "batches were in flight together")
	assert.LessOrEqual(t, p.maxActive, 4)
	for _, sp := range p.spans {
		if sp.maxStep >= 0 && sp.maxStep < cut-4 {
			assert.Less(t, sp.end, p.artifact.start, "a batch logged before the artifact ends before its upload: %+v", sp)
		}
	}
	items := p.Items(rep.RunID)
	xs := steps(items, "x")
	slices.Sort(xs)
	assert.Equal(t, seq(0, step), xs, "every point stored once")
	var phases []string
	for _, it := range items {
		if it.Kind == mlerr.ItemTag && it.Key == "phase" {
			phases = append(phases, it.Text)
		}
	}
	assert.Equal(t, []string{"0", "3", "6", "9"}, phases, "the writes of one tag key are stored in the order they were logged")
	assert.Equal(t, int64(12*5+1), rep.Sent)
}

// logOrderWorkload logs the batches of TestRunInFlightKeepsTheOrderRules
// and returns the number of points of x.
func logOrderWorkload(t *testing.T, run *mlerr.Run) int64 {
	step := int64(0)
	for i := range 12 {
		if i == 6 {
			require.NoError(t, run.LogText("middle", "notes.txt"))
		}
		for range 4 {
			require.NoError(t, run.LogMetric("x", float64(step), step))
			step++
		}
		if i%3 == 0 {
			require.NoError(t, run.SetTags(map[string]string{"phase": fmt.Sprint(i)}))
		} else {
			require.NoError(t, run.LogMetric("x", float64(step), step))
			step++
		}
	}
	return step
}

func TestRunInFlightOutageIsReportedOnce(t *testing.T) {
	// 8 batches, 4 in flight; the first 12 writes are refused (each batch's
	// retries give up: an outage), then the backend is back.
	for _, k := range inFlights {
		t.Run(fmt.Sprintf("InFlight=%d", k), func(t *testing.T) {
			p, run, rec := newProbeRun(t, k)
			p.Inject(fb.Write, 12, fb.Refused())
			for s := range int64(40) {
				require.NoError(t, run.LogMetric("x", float64(s), s))
			}
			rep, err := run.Close(context.Background())
			require.NoError(t, err)
			assert.Equal(t, 1, rec.count("network", mlerr.ErrNetwork), "one OnNetworkError for the outage")
			assert.Equal(t, 1, rec.count("warning", mlerr.ErrRecovered), "one recovery")
			assert.Equal(t, int64(1), rep.Outages)
			xs := steps(p.Items(rep.RunID), "x")
			slices.Sort(xs)
			assert.Equal(t, seq(0, 40), xs, "every point stored once")
			requireIdentity(t, rep)
		})
	}
}

func TestRunInFlightWindowIsSharedThroughTheBudget(t *testing.T) {
	// Two runs share a Budget. A 503 to the first halves the window of
	// both; the second's acknowledged writes raise it again, one batch per
	// eight, up to InFlight.
	budget := mlerr.NewBudget(0.1, 100)
	withBudget := func(f *fixture) mlerr.RunOption {
		pol := testPolicy(f.clock)
		pol.Budget = budget
		return mlerr.WithRetryPolicy(pol)
	}
	f := newBare(t)
	a := f.start(withBudget(f), mlerr.WithLimits(mlerr.Limits{BatchItems: 5, BatchBytes: 1 << 20, InFlight: 4}))
	g := newBare(t)
	b := g.start(withBudget(g), mlerr.WithLimits(mlerr.Limits{BatchItems: 5, BatchBytes: 1 << 20, InFlight: 4}))
	require.NoError(t, a.run.Started(context.Background()))
	require.NoError(t, b.run.Started(context.Background()))
	assert.Equal(t, 4, b.run.Health().InFlightWindow)

	a.b.Inject(fb.Write, 1, fb.Status(503))
	a.logSteps("x", 0, 5)
	require.NoError(t, a.run.Wait(context.Background()))
	assert.Equal(t, 2, a.run.Health().InFlightWindow, "halved by the 503")
	for i := int64(0); i < 4; i++ { // 20 batches, Wait after each 5
		b.logSteps("y", i*25, (i+1)*25)
		require.NoError(t, b.run.Wait(context.Background()))
	}
	assert.Equal(t, 4, b.run.Health().InFlightWindow, "back up after 16 acknowledged writes")
	repA, err := a.close()
	require.NoError(t, err)
	repB, err := b.close()
	require.NoError(t, err)
	assert.Equal(t, int64(5), repA.Sent)
	assert.Equal(t, int64(100), repB.Sent)
}

func TestRunInFlightWaitWaitsForTheOldestBatch(t *testing.T) {
	// 4 batches in flight, the first one slow: the later ones are
	// acknowledged first, and Wait returns only once the first one is too.
	// The key is stored first (a key's first write goes alone), so that the
	// batches after it may overlap.
	p, run, _ := newProbeRun(t, 4)
	require.NoError(t, run.LogMetric("x", -1, -1))
	require.NoError(t, run.Wait(context.Background()))
	p.slowSeq, p.slow = 2, 300*time.Millisecond
	for s := range int64(20) {
		require.NoError(t, run.LogMetric("x", float64(s), s))
	}
	require.NoError(t, run.Wait(context.Background()))
	xs := steps(p.Items(run.ID()), "x")
	require.Len(t, xs, 21, "every point before the Wait is acknowledged")
	assert.NotEqual(t, seq(0, 20), xs[1:], "the slow batch was stored last")
	h := run.Health()
	assert.Equal(t, int64(21), h.Sent)
	assert.Zero(t, h.InFlight)
	_, err := run.Close(context.Background())
	require.NoError(t, err)
}
