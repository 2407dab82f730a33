package mlerr_test

import (
	"context"
	"errors"
	"fmt"
	"math"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/mlerr/mlerr"
	"github.com/mlerr/mlerr/internal/fakebackend"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestRunLogsEverythingOnce(t *testing.T) {
	f := newFixture(t, mlerr.WithRunName("n"), mlerr.WithExperiment("e"), mlerr.WithTags(map[string]string{"team": "ml"}))
	f.logSteps("loss", 0, 50)
	require.NoError(t, f.run.LogMetrics(50, map[string]float64{"loss": 50, "acc": 0.5}))
	require.NoError(t, f.run.LogParams(map[string]string{"lr": "0.1", "layers": "4"}))
	require.NoError(t, f.run.SetTags(map[string]string{"stage": "train"}))
	require.NoError(t, f.run.Wait(context.Background()))

	items := f.stored()
	assert.Equal(t, seq(0, 51), steps(items, "loss"))
	assert.Len(t, items, 51+1+2+1)

	rep, err := f.close()
	require.NoError(t, err)
	assert.Equal(t, mlerr.RunFinished, rep.Status)
	assert.Equal(t, int64(55), rep.Logged)
	assert.Equal(t, int64(55), rep.Sent)
	assert.Zero(t, rep.Dropped.Total())
	rec, ok := f.b.Run(rep.RunID)
	require.True(t, ok)
	assert.Equal(t, mlerr.RunFinished, rec.Status)
	assert.Equal(t, "n", rec.Spec.Name)
	assert.Equal(t, "e", rec.Spec.Experiment)
	assert.Equal(t, map[string]string{"team": "ml"}, rec.Spec.Tags)
	assert.Empty(t, f.rec.all()["error"])
	assert.Empty(t, f.rec.all()["network"])
}

func TestRunBatchesKeepOrderAndSeq(t *testing.T) {
	f := newFixture(t, mlerr.WithLimits(mlerr.Limits{BatchItems: 7, BatchBytes: 1 << 20, BatchInterval: time.Hour}))
	for s := int64(0); s < 100; s++ {
		require.NoError(t, f.run.LogMetrics(s, map[string]float64{"a": float64(s), "b": -float64(s)}))
	}
	require.NoError(t, f.run.Wait(context.Background()))
	items := f.stored()
	assert.Equal(t, seq(0, 100), steps(items, "a"))
	assert.Equal(t, seq(0, 100), steps(items, "b"))
	rec, _ := f.b.Run(f.run.ID())
	for i, s := range rec.Seqs {
		assert.Equal(t, uint64(i+1), s, "batches numbered from 1 up")
	}
	assert.Len(t, rec.Seqs, (200+6)/7)
}

func TestRunValidation(t *testing.T) {
	long := strings.Repeat("k", 251)
	cases := []struct {
		name    string
		log     func(r *mlerr.Run) error
		kind    *mlerr.Kind
		badKeys []string
		stored  []string // keys stored, sorted
		strict  bool     // under StrictSeriesRules (the other faults are MLflow's)
	}{
		{"NaN", func(r *mlerr.Run) error {
			return r.LogMetrics(1, map[string]float64{"loss": math.NaN(), "ok": 1})
		}, mlerr.ErrNonFiniteValue, []string{"loss"}, []string{"ok"}, true},
		{"Inf", func(r *mlerr.Run) error {
			return r.LogMetrics(1, map[string]float64{"loss": math.Inf(-1)})
		}, mlerr.ErrNonFiniteValue, []string{"loss"}, nil, true},
		{"empty key", func(r *mlerr.Run) error {
			return r.LogMetrics(1, map[string]float64{"": 1, "ok": 2})
		}, mlerr.ErrInvalidName, []string{""}, []string{"ok"}, false},
		{"long key", func(r *mlerr.Run) error {
			return r.LogParams(map[string]string{long: "v"})
		}, mlerr.ErrInvalidName, []string{long}, nil, false},
		{"illegal chars", func(r *mlerr.Run) error {
			return r.SetTags(map[string]string{"a$b": "v", "a/b c:d-e_f.g": "ok"})
		}, mlerr.ErrInvalidName, []string{"a$b"}, []string{"a/b c:d-e_f.g"}, false},
		{"path keys", func(r *mlerr.Run) error {
			return r.LogMetrics(1, map[string]float64{".": 1, "..a": 1, "/a": 1, "a//b": 1, "a/": 1, "a/./b": 1, "a/../b": 1, "a/..b": 1})
		}, mlerr.ErrInvalidName, []string{".", "..a", "/a", "a//b", "a/", "a/./b", "a/../b"}, []string{"a/..b"}, false},
		{"step backwards", func(r *mlerr.Run) error {
			if err := r.LogMetrics(5, map[string]float64{"loss": 1, "acc": 1}); err != nil {
				return err
			}
			return r.LogMetrics(4, map[string]float64{"loss": 2, "lr": 1})
		}, mlerr.ErrStepNotIncreasing, []string{"loss"}, []string{"acc", "loss", "lr"}, true},
		{"timestamp backwards at a step", func(r *mlerr.Run) error {
			t0 := time.Unix(1000, 0)
			if err := r.LogMetricsAt(3, t0, map[string]float64{"loss": 1}); err != nil {
				return err
			}
			return r.LogMetricsAt(3, t0.Add(-time.Second), map[string]float64{"loss": 2})
		}, mlerr.ErrTimestampDecreasing, []string{"loss"}, []string{"loss"}, true},
		{"param changed", func(r *mlerr.Run) error {
			if err := r.LogParams(map[string]string{"lr": "0.1"}); err != nil {
				return err
			}
			return r.LogParams(map[string]string{"lr": "0.2", "bs": "32"})
		}, mlerr.ErrParamChanged, []string{"lr"}, []string{"bs", "lr"}, false},
		{"param too long", func(r *mlerr.Run) error {
			return r.LogParams(map[string]string{"p": strings.Repeat("é", 6001), "q": strings.Repeat("é", 6000)})
		}, mlerr.ErrValueTooLarge, []string{"p"}, []string{"q"}, false},
		{"tag too long", func(r *mlerr.Run) error {
			return r.SetTags(map[string]string{"t": strings.Repeat("x", 8001)})
		}, mlerr.ErrValueTooLarge, []string{"t"}, nil, false},
		{"mixed faults", func(r *mlerr.Run) error {
			return r.LogMetrics(1, map[string]float64{"a b$": 1, "x": math.NaN(), "y": 1})
		}, mlerr.ErrInvalidValue, []string{"a b$", "x"}, []string{"y"}, true},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			var opts []mlerr.RunOption
			if tc.strict {
				opts = append(opts, mlerr.WithRules(mlerr.StrictSeriesRules))
			}
			f := newFixture(t, opts...)
			err := tc.log(f.run)
			require.Error(t, err)
			assert.ErrorIs(t, err, tc.kind)
			assert.ErrorIs(t, err, mlerr.ErrInvalidValue)
			e := mlerr.AsError(err)
			require.NotNil(t, e)
			assert.Equal(t, mlerr.CodeInvalidParameterValue, e.Code())
			var be *mlerr.BatchError[mlerr.Item]
			require.ErrorAs(t, err, &be)
			assert.Equal(t, sortedCopy(tc.badKeys), keysOf(be.Failed()), "the BatchError holds exactly the rejected entries")
			for _, k := range tc.badKeys {
				if len(k) < 100 {
					assert.Contains(t, err.Error(), fmt.Sprintf("%q", k), "the error names each bad key")
				}
			}
			for _, fl := range be.Failures {
				assert.ErrorIs(t, fl.Cause, mlerr.ErrInvalidValue)
			}
			require.NoError(t, f.run.Wait(context.Background()))
			assert.Equal(t, tc.stored, uniq(keysOf(f.stored())), "the valid rest is logged")

			rep, cerr := f.close()
			require.NoError(t, cerr, "rejected entries do not fail the run")
			assert.Equal(t, mlerr.RunFinished, rep.Status)
			assert.Equal(t, int64(len(tc.badKeys)), rep.Invalid)
			got := f.rec.errs("error")
			require.Len(t, got, 1, "the same error goes to OnError")
			assert.Same(t, e, mlerr.AsError(got[0]))
		})
	}
}

func sortedCopy(s []string) []string {
	c := append([]string(nil), s...)
	if c == nil {
		return nil
	}
	for i := range c {
		for j := i + 1; j < len(c); j++ {
			if c[j] < c[i] {
				c[i], c[j] = c[j], c[i]
			}
		}
	}
	return c
}

func uniq(s []string) []string {
	var out []string
	for i, v := range s {
		if i == 0 || v != s[i-1] {
			out = append(out, v)
		}
	}
	return out
}

func TestRunValidKeys(t *testing.T) {
	for _, k := range []string{"a", "A-b_c.d/e f:g", "x/..y", ".a", strings.Repeat("k", 250), strings.Repeat("é", 250), "0", "lösung", "損失/訓練", "x²"} {
		assert.NoError(t, (mlerr.Rules{}).ValidateKey(mlerr.ItemMetric, k), k)
	}
	for _, k := range []string{"", ".", "..", "..x", "/x", "x/", "x//y", "x/./y", "x/../y", "x/.", "a\tb", "a$", "e\u0301", "\xff", "a\x00", strings.Repeat("k", 251), strings.Repeat("é", 251)} {
		err := (mlerr.Rules{}).ValidateKey(mlerr.ItemParam, k)
		assert.ErrorIs(t, err, mlerr.ErrInvalidName, "%q", k)
	}
}

func TestRunDuplicatePoint(t *testing.T) {
	f := newFixture(t, mlerr.WithRules(mlerr.StrictSeriesRules))
	require.NoError(t, f.run.LogMetrics(1, map[string]float64{"loss": 0.5}))
	require.NoError(t, f.run.LogMetrics(1, map[string]float64{"loss": 0.5}), "a duplicate is no error")
	require.NoError(t, f.run.LogMetrics(1, map[string]float64{"loss": 0.4}), "same step, another value is fine")
	require.NoError(t, f.run.LogMetrics(2, map[string]float64{"loss": 0.4}))
	rep, err := f.close()
	require.NoError(t, err)
	assert.Equal(t, []int64{1, 1, 2}, steps(f.b.Items(rep.RunID), "loss"))
	assert.Equal(t, int64(1), rep.Duplicates)
	warns := f.rec.errs("warning")
	require.Len(t, warns, 1)
	assert.ErrorIs(t, warns[0], mlerr.ErrDuplicatePoint)
	assert.Contains(t, warns[0].Error(), `"loss"`)
	assert.Empty(t, f.rec.errs("error"))
}

func TestRunParamsAndTags(t *testing.T) {
	f := newFixture(t)
	require.NoError(t, f.run.LogParams(map[string]string{"lr": "0.1"}))
	require.NoError(t, f.run.LogParams(map[string]string{"lr": "0.1"}), "same value again is a no-op")
	require.NoError(t, f.run.SetTags(map[string]string{"stage": "a"}))
	require.NoError(t, f.run.SetTags(map[string]string{"stage": "a"}))
	require.NoError(t, f.run.SetTags(map[string]string{"stage": "b"}), "tags may change")
	require.NoError(t, f.run.LogMetrics(1, map[string]float64{"lr": 0.1}), "metrics, params and tags are separate namespaces")
	rep, err := f.close()
	require.NoError(t, err)
	var texts []string
	for _, it := range f.b.Items(rep.RunID) {
		texts = append(texts, it.Kind.String()+":"+it.Key+"="+it.Text)
	}
	assert.Equal(t, []string{"param:lr=0.1", "tag:stage=a", "tag:stage=b", "metric:lr="}, texts)
}

func TestRunTruncateAndTypeCheck(t *testing.T) {
	f := newFixture(t, mlerr.WithRules(func(r *mlerr.Rules) { r.TruncateLongValues, r.OneNamespace = true, true }))
	require.NoError(t, f.run.LogParams(map[string]string{"p": strings.Repeat("é", 7000)}))
	err := f.run.LogMetrics(1, map[string]float64{"p": 1})
	assert.ErrorIs(t, err, mlerr.ErrTypeMismatch)
	rep, cerr := f.close()
	require.NoError(t, cerr)
	items := f.b.Items(rep.RunID)
	require.Len(t, items, 1)
	assert.Equal(t, 6000, len([]rune(items[0].Text)))
	warns := f.rec.errs("warning")
	require.Len(t, warns, 1)
	assert.ErrorIs(t, warns[0], mlerr.ErrValueTruncated)
}

func TestRunStrictButNonFiniteAllowed(t *testing.T) {
	f := newFixture(t, mlerr.WithRules(mlerr.StrictSeriesRules, func(r *mlerr.Rules) { r.RejectNonFinite = false }))
	require.NoError(t, f.run.LogMetrics(1, map[string]float64{"a": math.NaN(), "b": math.Inf(1)}))
	require.NoError(t, f.run.LogMetrics(1, map[string]float64{"a": math.NaN()}), "NaN equals NaN for duplicates")
	rep, err := f.close()
	require.NoError(t, err)
	assert.Len(t, f.b.Items(rep.RunID), 2)
	assert.Equal(t, int64(1), rep.Duplicates)
}

func TestRunMLflowRulesByDefault(t *testing.T) {
	// A backend that declares no rules gets MLflow's: what MLflow stores is
	// logged.
	f := newFixture(t)
	t0 := time.Unix(1000, 0)
	require.NoError(t, f.run.LogMetricsAt(10, t0, map[string]float64{"loss": math.NaN(), "acc": math.Inf(1)}))
	require.NoError(t, f.run.LogMetricsAt(5, t0.Add(time.Second), map[string]float64{"loss": 1}), "a lower step: resuming from a checkpoint")
	require.NoError(t, f.run.LogMetricsAt(5, t0.Add(2*time.Second), map[string]float64{"loss": 1}), "the same value at a new time")
	require.NoError(t, f.run.LogMetricsAt(5, t0.Add(2*time.Second), map[string]float64{"loss": 1}), "identical: not sent twice")
	require.NoError(t, f.run.LogMetricsAt(5, t0, map[string]float64{"loss": 2}), "an earlier time at the same step")
	rep, err := f.close()
	require.NoError(t, err)
	assert.Equal(t, []int64{10, 5, 5, 5}, steps(f.b.Items(rep.RunID), "loss"))
	assert.Equal(t, []int64{10}, steps(f.b.Items(rep.RunID), "acc"))
	assert.Equal(t, int64(1), rep.Duplicates)
	assert.Empty(t, f.rec.errs("warning"), "no warning under MLflow's rules")
	assert.Empty(t, f.rec.errs("error"))
}

// rulesBackend is a fake that declares rules.
type rulesBackend struct {
	*fakebackend.Backend
	rules mlerr.Rules
}

func (b rulesBackend) Rules() mlerr.Rules { return b.rules }

func TestRunRulesComeFromTheBackend(t *testing.T) {
	var rules mlerr.Rules
	mlerr.StrictSeriesRules(&rules)
	rules.MaxTagLength = 3
	b := rulesBackend{fakebackend.New(), rules}
	run, err := mlerr.NewRun(context.Background(), b, mlerr.WithCallbacks(mlerr.Callbacks{OnError: func(error, time.Time) {}}),
		mlerr.WithRules(func(r *mlerr.Rules) { r.RejectNonFinite = false }))
	require.NoError(t, err)
	assert.ErrorIs(t, run.SetTags(map[string]string{"t": "long"}), mlerr.ErrValueTooLarge, "the backend's limit")
	assert.NoError(t, run.LogMetrics(2, map[string]float64{"x": math.NaN()}), "overridden by WithRules")
	assert.ErrorIs(t, run.LogMetrics(1, map[string]float64{"x": 1}), mlerr.ErrStepNotIncreasing, "the backend's strict rule")
	_, err = run.Close(context.Background())
	require.NoError(t, err)
}

func TestRunRulesThatMakeNoSense(t *testing.T) {
	low := rulesBackend{fakebackend.New(), mlerr.Rules{MaxTagLength: 100}}
	tests := []struct {
		name    string
		backend mlerr.Backend
		change  func(*mlerr.Rules)
		want    string // what the error names
	}{
		{"negative key limit", fakebackend.New(), func(r *mlerr.Rules) { r.MaxKeyLength = -1 }, "MaxKeyLength must not be negative"},
		{"negative param limit", fakebackend.New(), func(r *mlerr.Rules) { r.MaxParamLength = -1 }, "MaxParamLength must not be negative"},
		{"negative tag limit", fakebackend.New(), func(r *mlerr.Rules) { r.MaxTagLength = -8000 }, "MaxTagLength must not be negative"},
		{"above MLflow's limit", fakebackend.New(), func(r *mlerr.Rules) { r.MaxKeyLength = 251 }, "MaxKeyLength 251 is above the backend's limit of 250"},
		{"above the backend's limit", low, func(r *mlerr.Rules) { r.MaxTagLength = 101 }, "MaxTagLength 101 is above the backend's limit of 100"},
		{"0 is MLflow's limit, above the backend's", low, func(r *mlerr.Rules) { r.MaxTagLength = 0 }, "MaxTagLength 8000 is above"},
		{"nil change", fakebackend.New(), nil, "a rule change is nil"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := mlerr.NewRun(context.Background(), tt.backend, mlerr.WithRules(tt.change))
			require.ErrorIs(t, err, mlerr.ErrInvalidRunParameters)
			assert.Contains(t, err.Error(), tt.want)
			assert.Contains(t, err.Error(), "WithRules")
		})
	}
	// Within the backend's limits is fine.
	run, err := mlerr.NewRun(context.Background(), low, mlerr.WithRules(func(r *mlerr.Rules) { r.MaxTagLength = 50 }))
	require.NoError(t, err)
	_, err = run.Close(context.Background())
	require.NoError(t, err)
	_, err = mlerr.NewRun(context.Background(), fakebackend.New(), mlerr.WithRules(func(r *mlerr.Rules) { r.MaxTagLength = 2 }),
		mlerr.WithTags(map[string]string{"team": "vision"}))
	require.ErrorIs(t, err, mlerr.ErrInvalidRunParameters, "WithTags is checked against the rules")
	assert.Contains(t, err.Error(), "WithTags")
}

// TestRunWithoutDeclaredRules: a backend that declares no rules gets
// MLflow's, the zero Rules: non-finite values, a lower step and a repeated
// value at a new time are logged; a point identical to the latest is not;
// MLflow's key syntax and limits are checked.
func TestRunWithoutDeclaredRules(t *testing.T) {
	b := fakebackend.New()
	_, declares := any(b).(mlerr.RulesBackend)
	require.False(t, declares, "the fake declares no rules")
	run, err := mlerr.NewRun(context.Background(), b, mlerr.WithCallbacks(mlerr.Callbacks{OnWarning: func(error, time.Time) {}}))
	require.NoError(t, err)
	at := time.Unix(1700000000, 0)
	points := []mlerr.Item{
		{Kind: mlerr.ItemMetric, Key: "m", Value: math.NaN(), Step: 5, Time: at},
		{Kind: mlerr.ItemMetric, Key: "m", Value: math.Inf(1), Step: 6, Time: at},
		{Kind: mlerr.ItemMetric, Key: "m", Value: 1, Step: 2, Time: at},                  // lower step
		{Kind: mlerr.ItemMetric, Key: "m", Value: 1, Step: 2, Time: at.Add(time.Second)}, // same value, new time
		{Kind: mlerr.ItemMetric, Key: "m", Value: 1, Step: 2, Time: at.Add(time.Second)}, // identical: not logged
	}
	require.NoError(t, run.LogItems(context.Background(), points))
	assert.ErrorIs(t, run.LogParams(map[string]string{"p": strings.Repeat("x", 6001)}), mlerr.ErrValueTooLarge)
	assert.ErrorIs(t, run.SetTags(map[string]string{strings.Repeat("k", 251): "v"}), mlerr.ErrInvalidName)
	assert.ErrorIs(t, run.SetTags(map[string]string{"a//b": "v"}), mlerr.ErrInvalidName)
	rep, err := run.Close(context.Background())
	require.NoError(t, err)
	assert.Equal(t, int64(1), rep.Duplicates)
	var steps []int64
	for _, it := range b.Items(run.ID()) {
		steps = append(steps, it.Step)
	}
	assert.Equal(t, []int64{5, 6, 2, 2}, steps)
}

func TestRunLogItems(t *testing.T) {
	f := newFixture(t, mlerr.WithRules(mlerr.StrictSeriesRules))
	err := f.run.LogItems(context.Background(), []mlerr.Item{
		{Kind: mlerr.ItemMetric, Key: "m", Value: 1, Step: 1},
		{Kind: mlerr.ItemParam, Key: "p", Text: "x"},
		{Kind: mlerr.ItemTag, Key: "bad key!", Text: "x"},
		{Kind: mlerr.ItemMetric, Key: "m", Value: 2, Step: 0},
		{Kind: 0, Key: "k"},
	})
	require.Error(t, err)
	var be *mlerr.BatchError[mlerr.Item]
	require.ErrorAs(t, err, &be)
	var idx []int
	for _, fl := range be.Failures {
		idx = append(idx, fl.Index)
	}
	assert.Equal(t, []int{2, 3, 4}, idx, "indexes into the items given")
	assert.ErrorIs(t, err, mlerr.ErrStepNotIncreasing)
	assert.ErrorIs(t, err, mlerr.ErrInvalidName)
	rep, cerr := f.close()
	require.NoError(t, cerr)
	items := f.b.Items(rep.RunID)
	require.Len(t, items, 2)
	assert.Equal(t, f.clock.Now(), items[0].Time, "a metric without a time is stamped by the clock")
}

func TestRunOptionsInvalid(t *testing.T) {
	cases := []struct {
		option string
		opt    mlerr.RunOption
	}{
		{"WithRunID", mlerr.WithRunID("-bad")},
		{"WithRunID", mlerr.WithRunID("")},
		{"WithRunName", mlerr.WithRunName("")},
		{"WithExperiment", mlerr.WithExperiment(strings.Repeat("e", 501))},
		{"WithFork", mlerr.WithFork("ok", -1)},
		{"WithFork", mlerr.WithFork("no way", 1)},
		{"WithTags", mlerr.WithTags(map[string]string{"bad$": "v"})},
		{"WithCallbacksFor", mlerr.WithCallbacksFor(nil)},
		{"WithRetryPolicy", mlerr.WithRetryPolicy(mlerr.Policy{InitialDelay: -5})},
		{"WithRetryPolicy", mlerr.WithRetryPolicy(mlerr.Policy{Multiplier: -1})},
		{"WithLimits", mlerr.WithLimits(mlerr.Limits{QueueItems: -1, QueueBytes: 10})},
		{"WithLimits", mlerr.WithLimits(mlerr.Limits{QueueItems: 2000, QueueBytes: -1})},
		{"WithFullPolicy", mlerr.WithFullPolicy(mlerr.FullPolicy{})},
		{"WithFullPolicy", mlerr.WithFullPolicy(mlerr.Block(-time.Second))},
		{"WithFullPolicy", mlerr.WithFullPolicy(mlerr.Spill(nil))},
		{"WithLimits", mlerr.WithLimits(mlerr.Limits{BatchItems: -2, BatchBytes: 1, BatchInterval: time.Second})},
		{"WithLimits", mlerr.WithLimits(mlerr.Limits{BatchItems: 1, BatchBytes: 1, BatchInterval: -time.Second})},
		{"WithLimits", mlerr.WithLimits(mlerr.Limits{CloseTimeout: -time.Second})},
		{"WithClock", mlerr.WithClock(nil)},
		{"WithLimits", mlerr.WithLimits(mlerr.Limits{EventQueue: -5})},
		{"WithLimits", mlerr.WithLimits(mlerr.Limits{EventBurst: 3, EventWindow: -time.Second})},
	}
	for _, tc := range cases {
		t.Run(tc.option, func(t *testing.T) {
			run, err := mlerr.NewRun(context.Background(), fakebackend.New(), tc.opt)
			require.Nil(t, run)
			require.ErrorIs(t, err, mlerr.ErrInvalidRunParameters)
			assert.Contains(t, err.Error(), tc.option)
			var name string
			require.True(t, mlerr.AsError(err).Detail("option", &name))
			assert.Equal(t, tc.option, name)
		})
	}
	t.Run("several", func(t *testing.T) {
		_, err := mlerr.NewRun(context.Background(), fakebackend.New(), mlerr.WithLimits(mlerr.Limits{QueueItems: -1, QueueBytes: -1}), mlerr.WithClock(nil))
		require.ErrorIs(t, err, mlerr.ErrInvalidRunParameters)
		var names []string
		require.True(t, mlerr.AsError(err).Detail("options", &names))
		assert.Equal(t, []string{"WithLimits", "WithClock"}, names)
	})
	t.Run("batch larger than queue", func(t *testing.T) {
		_, err := mlerr.NewRun(context.Background(), fakebackend.New(), mlerr.WithLimits(mlerr.Limits{QueueItems: 10, QueueBytes: 1 << 20}), mlerr.WithLimits(mlerr.Limits{BatchItems: 11, BatchBytes: 1 << 20, BatchInterval: time.Second}))
		require.ErrorIs(t, err, mlerr.ErrInvalidRunParameters)
	})
	t.Run("nil backend", func(t *testing.T) {
		_, err := mlerr.NewRun(context.Background(), nil)
		require.ErrorIs(t, err, mlerr.ErrInvalidRunParameters)
	})
	t.Run("nil context", func(t *testing.T) {
		//lint:ignore SA1012 the nil context is what is tested
		run, err := mlerr.NewRun(nil, fakebackend.New()) //nolint:staticcheck
		require.Nil(t, run)
		require.ErrorIs(t, err, mlerr.ErrInvalidRunParameters)
		assert.Contains(t, err.Error(), "context is nil")
	})
}

func TestRunContextVariantsUnderBlock(t *testing.T) {
	// Every log call that can wait for room has a context variant whose
	// context ends the wait.
	f, release := heldFixture(t, mlerr.WithLimits(mlerr.Limits{QueueItems: 2, QueueBytes: 1 << 20}), mlerr.WithLimits(mlerr.Limits{BatchItems: 2, BatchBytes: 1 << 20, BatchInterval: time.Hour}), mlerr.WithFullPolicy(mlerr.Block(0)))
	defer release()
	f.logSteps("x", 0, 2)
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Millisecond)
	defer cancel()
	for name, call := range map[string]func() error{
		"LogMetricsContext": func() error { return f.run.LogMetricsContext(ctx, 2, map[string]float64{"x": 2}) },
		"LogParamsContext":  func() error { return f.run.LogParamsContext(ctx, map[string]string{"p": "v"}) },
		"SetTagsContext":    func() error { return f.run.SetTagsContext(ctx, map[string]string{"t": "v"}) },
		"LogItems": func() error {
			return f.run.LogItems(ctx, []mlerr.Item{{Kind: mlerr.ItemTag, Key: "u", Text: "v"}})
		},
	} {
		err := call()
		require.ErrorIs(t, err, mlerr.ErrQueueFull, name)
		assert.Contains(t, err.Error(), "context", name)
	}
}

func TestRunCloseTwiceAndLogAfterClose(t *testing.T) {
	f := newFixture(t)
	f.logSteps("x", 0, 3)
	rep1, err1 := f.close()
	rep2, err2 := f.close()
	require.NoError(t, err1)
	require.NoError(t, err2)
	assert.Equal(t, rep1.Sent, rep2.Sent)
	assert.Equal(t, rep1.RunID, rep2.RunID)
	for _, err := range []error{
		f.run.LogMetrics(9, map[string]float64{"x": 1}),
		f.run.LogParams(map[string]string{"p": "v"}),
		f.run.SetTags(map[string]string{"t": "v"}),
		f.run.LogItems(context.Background(), nil),
	} {
		assert.ErrorIs(t, err, mlerr.ErrClosed)
	}
	assert.NoError(t, f.run.Wait(context.Background()))
	assert.Equal(t, 1, f.b.Calls(fakebackend.End))
	f.run.Terminate() // after Close: nothing more happens
	assert.Equal(t, 1, f.b.Calls(fakebackend.End))
}

func TestRunResumeAndFork(t *testing.T) {
	f := newFixture(t, mlerr.WithRunName("first"))
	f.b.AddRun("parent")
	rep, err := f.close()
	require.NoError(t, err)
	first := rep.RunID

	// Resume the run: a warning, and batch numbers continue after the last.
	f.rec = newRecorder()
	f.start(mlerr.WithRunID(first), mlerr.WithCallbacks(f.rec.callbacks()))
	f.logSteps("loss", 0, 3)
	require.NoError(t, f.run.Wait(context.Background()))
	f.logSteps("loss", 3, 5)
	_, err = f.close()
	require.NoError(t, err)
	require.Equal(t, 1, f.rec.count("warning", mlerr.ErrRunExists))
	rec, _ := f.b.Run(first)
	assert.Equal(t, []uint64{1, 2}, rec.Seqs)

	f.rec = newRecorder()
	f.start(mlerr.WithRunID(first), mlerr.WithRunName("other"), mlerr.WithCallbacks(f.rec.callbacks()))
	f.logSteps("loss", 5, 6)
	_, err = f.close()
	require.NoError(t, err)
	rec, _ = f.b.Run(first)
	assert.Equal(t, []uint64{1, 2, 3}, rec.Seqs, "a resumed run's batches are not taken for repeats")
	assert.Equal(t, 1, f.rec.count("warning", mlerr.ErrRunConflicting), "the backend's warnings reach OnWarning")
	assert.Equal(t, seq(0, 6), steps(rec.Items, "loss"))

	// Fork from a missing parent: a warning; from an existing one: none.
	f.rec = newRecorder()
	f.start(mlerr.WithFork("nobody", 10), mlerr.WithCallbacks(f.rec.callbacks()))
	_, err = f.close()
	require.NoError(t, err)
	assert.Equal(t, 1, f.rec.count("warning", mlerr.ErrForkParentNotFound))

	f.rec = newRecorder()
	f.start(mlerr.WithFork("parent", 10), mlerr.WithCallbacks(f.rec.callbacks()))
	_, err = f.close()
	require.NoError(t, err)
	assert.Empty(t, f.rec.errs("warning"))
}

func TestRunStartedAndID(t *testing.T) {
	f := newFixture(t)
	require.NoError(t, f.run.Started(context.Background()))
	assert.NotEmpty(t, f.run.ID())
	h := f.run.Health()
	assert.True(t, h.Started)
	assert.True(t, h.Healthy)
	assert.Equal(t, f.run.ID(), h.RunID)
}

func TestRunConcurrentLoggers(t *testing.T) {
	f := newFixture(t, mlerr.WithLimits(mlerr.Limits{BatchItems: 64, BatchBytes: 1 << 20, BatchInterval: time.Hour}))
	const workers, perWorker = 8, 500
	var wg sync.WaitGroup
	for w := range workers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			key := fmt.Sprintf("w%d", w)
			for s := int64(0); s < perWorker; s++ {
				assert.NoError(t, f.run.LogMetrics(s, map[string]float64{key: float64(s), key + "/b": 1}))
				if s%100 == 0 {
					_ = f.run.Health()
				}
			}
		}()
	}
	wg.Wait()
	rep, err := f.close()
	require.NoError(t, err)
	items := f.b.Items(rep.RunID)
	for w := range workers {
		assert.Equal(t, seq(0, perWorker), steps(items, fmt.Sprintf("w%d", w)), "order per key kept")
	}
	assert.Equal(t, rep.Logged, rep.Sent)
	assert.Equal(t, int64(len(items)), rep.Sent)
}

func TestRunWaitContext(t *testing.T) {
	f := newFixture(t)
	open := make(chan struct{})
	f.b.Inject(fakebackend.Write, 1, fakebackend.Gate(open))
	f.logSteps("x", 0, 5)
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	err := f.run.Wait(ctx)
	require.ErrorIs(t, err, context.Canceled)
	assert.Equal(t, mlerr.CodeCancelled, mlerr.CodeOf(err))
	assert.Contains(t, err.Error(), "not yet acknowledged")
	close(open)
	require.NoError(t, f.run.Wait(context.Background()))
	assert.Equal(t, seq(0, 5), steps(f.stored(), "x"))
}

func TestRunNilCallbacksLogThroughSlog(t *testing.T) {
	var buf syncBuffer
	f := newFixture(t, mlerr.WithCallbacks(mlerr.Callbacks{}), mlerr.WithLogger(newTextLogger(&buf)), mlerr.WithRules(mlerr.StrictSeriesRules))
	require.Error(t, f.run.LogMetrics(1, map[string]float64{"bad key!": 1}))
	require.NoError(t, f.run.LogMetrics(1, map[string]float64{"x": 1}))
	require.NoError(t, f.run.LogMetrics(1, map[string]float64{"x": 1}))
	_, err := f.close()
	require.NoError(t, err)
	out := buf.String()
	assert.Contains(t, out, "level=ERROR msg=\"mlerr: OnError\"")
	assert.Contains(t, out, "kind=InvalidName")
	assert.Contains(t, out, "level=WARN msg=\"mlerr: OnWarning\"")
	assert.Contains(t, out, "kind=DuplicatePoint")
}

func TestRunCallbackMayCloseAndLog(t *testing.T) {
	f := newFixture(t, mlerr.WithRules(mlerr.StrictSeriesRules)) // a duplicate point warns
	done := make(chan error, 1)
	f.rec.hook = func(name string, err error) {
		if name == "warning" {
			f.run.LogMetrics(100, map[string]float64{"y": 1})
			_, cerr := f.run.Close(context.Background())
			done <- cerr
		}
	}
	require.NoError(t, f.run.LogMetrics(1, map[string]float64{"x": 1}))
	require.NoError(t, f.run.LogMetrics(1, map[string]float64{"x": 1})) // duplicate: OnWarning
	select {
	case err := <-done:
		require.NoError(t, err)
	case <-time.After(safety):
		t.Fatal("Close from a callback did not return")
	}
	rep, err := f.close()
	require.NoError(t, err)
	assert.Equal(t, int64(2), rep.Sent)
}

func TestRunErrorsAreInspectable(t *testing.T) {
	f := newFixture(t)
	f.b.Inject(fakebackend.Write, 1, fakebackend.Reject(func(it mlerr.Item) string {
		if it.Key == "bad" {
			return "rejected by the fake"
		}
		return ""
	}))
	require.NoError(t, f.run.LogMetrics(1, map[string]float64{"bad": 1, "good": 2}))
	rep, err := f.close()
	require.Error(t, err)
	assert.ErrorIs(t, err, mlerr.CodeDataLoss)
	assert.Equal(t, mlerr.RunFailed, rep.Status)
	errs := f.rec.errs("error")
	require.Len(t, errs, 1)
	lost := mlerr.LostItems(errs[0])
	require.Len(t, lost, 1)
	assert.Equal(t, "bad", lost[0].Key)
	assert.ErrorIs(t, errs[0], mlerr.CodeInvalidParameterValue)
	assert.Equal(t, []mlerr.Item{lost[0]}, rep.Failed)
	assert.Equal(t, int64(1), rep.Dropped.Rejected)
	assert.Equal(t, []string{"good"}, keysOf(f.b.Items(rep.RunID)))
	assert.True(t, errors.Is(errs[0], mlerr.ErrInvalidValue))
}
