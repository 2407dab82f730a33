package mlerr_test

import (
	"context"
	"fmt"
	"math"
	"strconv"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/mlerr/mlerr"
	"github.com/mlerr/mlerr/internal/fakebackend"
)

// onePoint is a log call of one metric point; a zero ts means now.
type onePoint struct {
	key  string
	v    float64
	step int64
	ts   time.Time
}

// oneWay is a way to log one point per call: through a one-entry map,
// LogMetric, or LogItems, which never takes the fast path of one-point
// calls.
type oneWay struct {
	name string
	log  func(run *mlerr.Run, p onePoint) error
}

var oneWays = []oneWay{
	{"LogMetricsAt", func(run *mlerr.Run, p onePoint) error {
		return run.LogMetricsAt(p.step, p.ts, map[string]float64{p.key: p.v})
	}},
	{"LogMetric", func(run *mlerr.Run, p onePoint) error {
		if !p.ts.IsZero() {
			panic("LogMetric stamps now")
		}
		return run.LogMetric(p.key, p.v, p.step)
	}},
	{"LogItems", func(run *mlerr.Run, p onePoint) error {
		return run.LogItems(context.Background(), []mlerr.Item{{Kind: mlerr.ItemMetric, Key: p.key, Value: p.v, Step: p.step, Time: p.ts}})
	}},
}

// oneOutcome is what a run that logged points one per call ends with.
type oneOutcome struct {
	errs   []string // per call: "" or the error's kind
	stored []string // the items stored, printed (NaN equal to NaN)
	report mlerr.Report
}

// logOneByOne logs the points one per call the given way, with the run's
// start held until every call returned (so that everything stays queued
// while the calls decide), then closes the run.
func logOneByOne(t *testing.T, way oneWay, points []onePoint, opts ...mlerr.RunOption) oneOutcome {
	f := newBare(t)
	open := make(chan struct{})
	f.b.Inject(fakebackend.Start, 1, fakebackend.Gate(open))
	f.start(opts...)
	var out oneOutcome
	for _, p := range points {
		kind := ""
		if err := way.log(f.run, p); err != nil {
			kind = mlerr.AsError(err).Kind().String()
		}
		out.errs = append(out.errs, kind)
	}
	close(open)
	rep, err := f.close()
	if err != nil && rep.Dropped.QueueFull == 0 {
		require.NoError(t, err, "a run that dropped nothing")
	}
	for _, it := range f.b.Items(f.run.ID()) {
		out.stored = append(out.stored, fmt.Sprintf("%v %s=%v step %d at %s", it.Kind, it.Key, it.Value, it.Step, it.Time.Format(time.RFC3339Nano)))
	}
	rep.RunID, rep.Duration, rep.CallbackEvents, rep.Failed = "", 0, 0, nil
	out.report = rep
	return out
}

// TestSolePointMatchesGeneralPath: a call of one point takes a fast path
// when it can; whatever the case (points the rules refuse, duplicates,
// more keys than the run remembers, a full queue under either dropping
// policy), every call returns and the run ends as if it had not: the same
// errors, the same items stored, the same Report as LogItems gives.
func TestSolePointMatchesGeneralPath(t *testing.T) {
	t0 := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	at := func(key string, v float64, step int64, sec int) onePoint {
		return onePoint{key, v, step, t0.Add(time.Duration(sec) * time.Second)}
	}
	var rising, keys []onePoint
	for i := range 20 {
		rising = append(rising, at("loss", float64(i), int64(i), i))
		keys = append(keys, at("m"+strconv.Itoa(i%6), 1, int64(i/6), i))
	}
	small := mlerr.WithLimits(mlerr.Limits{QueueItems: 8, BatchItems: 4})
	tests := []struct {
		name   string
		opts   []mlerr.RunOption
		points []onePoint
	}{
		{"steps rising", nil, rising},
		{"more keys than remembered", nil, keys},
		{"a lower step", nil, []onePoint{at("a", 1, 5, 0), at("a", 2, 3, 1), at("a", 3, 6, 2)}},
		{"a lower step, strict rules", []mlerr.RunOption{mlerr.WithRules(mlerr.StrictSeriesRules)},
			[]onePoint{at("a", 1, 5, 0), at("a", 2, 3, 1), at("a", 3, 6, 2)}},
		{"the same point again", nil, []onePoint{at("a", 1, 1, 0), at("a", 1, 1, 0), at("a", 1, 1, 1), at("a", 2, 1, 1)}},
		{"an earlier time at a step, strict rules", []mlerr.RunOption{mlerr.WithRules(mlerr.StrictSeriesRules)},
			[]onePoint{at("a", 1, 1, 5), at("a", 2, 1, 4), at("a", 3, 2, 3)}},
		{"NaN and infinities", nil, []onePoint{at("a", math.NaN(), 1, 0), at("a", math.Inf(1), 2, 1), at("a", 1, 3, 2)}},
		{"NaN and infinities, strict rules", []mlerr.RunOption{mlerr.WithRules(mlerr.StrictSeriesRules)},
			[]onePoint{at("a", 1, 1, 0), at("a", math.NaN(), 2, 1), at("a", math.Inf(-1), 3, 2), at("a", 1, 4, 3)}},
		{"an invalid key", nil, []onePoint{at("a//b", 1, 1, 0), at("a//b", 1, 2, 1), at("ok", 1, 1, 2)}},
		{"a full queue, DropOldest", []mlerr.RunOption{small, mlerr.WithFullPolicy(mlerr.DropOldest())}, rising},
		{"a full queue, DropNewest", []mlerr.RunOption{small, mlerr.WithFullPolicy(mlerr.DropNewest())}, rising},
		{"a full queue, Block", []mlerr.RunOption{small, mlerr.WithFullPolicy(mlerr.Block(time.Millisecond))}, rising[:10]},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			want := logOneByOne(t, oneWays[2], tt.points, tt.opts...)
			require.NotEmpty(t, want.stored)
			got := logOneByOne(t, oneWays[0], tt.points, tt.opts...)
			assert.Equal(t, want, got)
		})
	}
}

// TestSolePointLogMetric: LogMetric, stamped now, ends as LogItems does.
func TestSolePointLogMetric(t *testing.T) {
	var points []onePoint
	for i := range 30 {
		points = append(points, onePoint{key: "k" + strconv.Itoa(i%5), v: 1, step: int64(i / 10)})
	}
	small := mlerr.WithLimits(mlerr.Limits{QueueItems: 8, BatchItems: 4})
	want := logOneByOne(t, oneWays[2], points, small)
	got := logOneByOne(t, oneWays[1], points, small)
	assert.Equal(t, want, got)
	assert.Positive(t, got.report.Dropped.QueueFull)
	assert.Positive(t, got.report.Duplicates)
}
