package mlerr

import (
	"math"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestAdmitterMetric(t *testing.T) {
	type point struct {
		key  string
		step int64
		v    float64
		ts   int64
		want verdict
		kind *Kind // of the error, for rejections and warnings
	}
	strict := rulesWith(StrictSeriesRules)
	for _, tc := range []struct {
		name   string
		rules  Rules
		points []point
	}{
		{name: "MLflow: NaN and ±Inf, any step order, a value again at a new time", rules: Rules{}.withLimits(), points: []point{
			{key: "x", step: 5, v: math.NaN(), ts: 10},
			{key: "x", step: 3, v: math.Inf(1), ts: 20},
			{key: "x", step: 3, v: math.Inf(1), ts: 30},
			{key: "x", step: 3, v: 2, ts: 25},
			{key: "x", step: 3, v: 2, ts: 25, want: identical},
			{key: "x", step: 4, v: math.Inf(-1), ts: 5},
		}},
		{name: "MLflow: an invalid key", rules: Rules{}.withLimits(), points: []point{
			{key: "bad key!", want: rejected, kind: ErrInvalidName},
		}},
		{name: "strict: a new key, then later steps", rules: strict, points: []point{
			{key: "loss", step: 0, v: 1, ts: 10},
			{key: "loss", step: 1, v: 0.5, ts: 20},
			{key: "loss", step: 5, v: 0.5, ts: 30},
		}},
		{name: "strict: an invalid key", rules: strict, points: []point{
			{key: "bad key!", want: rejected, kind: ErrInvalidName},
			{key: "", want: rejected, kind: ErrInvalidName},
			{key: "a//b", want: rejected, kind: ErrInvalidName},
		}},
		{name: "a key longer than the rules allow", rules: rulesWith(func(r *Rules) { r.MaxKeyLength = 3 }), points: []point{
			{key: "abc"},
			{key: "abcd", want: rejected, kind: ErrInvalidName},
		}},
		{name: "strict: non-finite values are rejected", rules: strict, points: []point{
			{key: "x", v: math.NaN(), want: rejected, kind: ErrNonFiniteValue},
			{key: "x", v: math.Inf(1), want: rejected, kind: ErrNonFiniteValue},
			{key: "x", v: math.Inf(-1), want: rejected, kind: ErrNonFiniteValue},
		}},
		{name: "strict but non-finite values pass", rules: rulesWith(StrictSeriesRules, func(r *Rules) { r.RejectNonFinite = false }), points: []point{
			{key: "x", step: 0, v: math.NaN()},
			{key: "x", step: 1, v: math.Inf(1)},
		}},
		{name: "strict: a lower step is rejected", rules: strict, points: []point{
			{key: "x", step: 5, v: 1, ts: 1},
			{key: "x", step: 4, v: 2, ts: 2, want: rejected, kind: ErrStepNotIncreasing},
			{key: "x", step: 6, v: 3, ts: 3},
		}},
		{name: "strict: the same point again is a duplicate", rules: strict, points: []point{
			{key: "x", step: 1, v: 1, ts: 1},
			{key: "x", step: 1, v: 1, ts: 2, want: duplicate, kind: ErrDuplicatePoint},
			{key: "x", step: 1, v: math.Copysign(0, -1) + 1, ts: 3, want: duplicate, kind: ErrDuplicatePoint},
		}},
		{name: "strict: NaN equals NaN, 0 differs from -0", rules: rulesWith(StrictSeriesRules, func(r *Rules) { r.RejectNonFinite = false }), points: []point{
			{key: "x", step: 1, v: math.NaN(), ts: 1},
			{key: "x", step: 1, v: math.NaN(), ts: 2, want: duplicate, kind: ErrDuplicatePoint},
			{key: "y", step: 1, v: 0, ts: 1},
			{key: "y", step: 1, v: math.Copysign(0, -1), ts: 2},
		}},
		{name: "strict: at one step, a new value needs a timestamp not before the latest", rules: strict, points: []point{
			{key: "x", step: 1, v: 1, ts: 10},
			{key: "x", step: 1, v: 2, ts: 9, want: rejected, kind: ErrTimestampDecreasing},
			{key: "x", step: 1, v: 2, ts: 10},
		}},
		{name: "strict: a rejected point does not move the key's state", rules: strict, points: []point{
			{key: "x", step: 3, v: 1, ts: 1},
			{key: "x", step: 2, v: 1, ts: 2, want: rejected, kind: ErrStepNotIncreasing},
			{key: "x", step: 3, v: 1, ts: 3, want: duplicate, kind: ErrDuplicatePoint},
		}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			a := newAdmitter(tc.rules)
			for i, p := range tc.points {
				ks, v, e := a.metric(nil, p.key, p.step, p.v, p.ts)
				require.Equal(t, p.want, v, "point %d: verdict", i)
				if p.kind != nil {
					require.NotNil(t, e, "point %d", i)
					assert.ErrorIs(t, e, p.kind, "point %d", i)
					assert.Contains(t, e.Error(), p.key, "point %d: the error names the key", i)
				} else {
					assert.Nil(t, e, "point %d", i)
				}
				if v == admitted {
					require.NotNil(t, ks)
					assert.Equal(t, p.key, ks.key)
					assert.Equal(t, p.step, ks.step)
				}
			}
		})
	}
}

// rulesWith returns MLflow's rules changed by the functions.
func rulesWith(change ...func(*Rules)) Rules {
	r := Rules{}.withLimits()
	for _, f := range change {
		f(&r)
	}
	return r
}

func TestAdmitterKeepsItsOwnKeyCopy(t *testing.T) {
	a := newAdmitter(Rules{}.withLimits())
	b := []byte("loss")
	key := string(b)
	ks, v, _ := a.metric(nil, key, 0, 1, 0)
	require.Equal(t, admitted, v)
	ks2, _, _ := a.metric(ks, "loss", 1, 2, 1)
	assert.Same(t, ks, ks2, "the state given back is used")
	assert.Equal(t, "loss", ks.key)
}

func TestAdmitterText(t *testing.T) {
	long := strings.Repeat("é", maxParamLength+1)
	type entry struct {
		kind      ItemKind
		key, v    string
		want      verdict
		wantValue string
		errKind   *Kind
	}
	for _, tc := range []struct {
		name    string
		rules   Rules
		entries []entry
	}{
		{name: "params are write-once", rules: Rules{}.withLimits(), entries: []entry{
			{kind: ItemParam, key: "lr", v: "0.1", wantValue: "0.1"},
			{kind: ItemParam, key: "lr", v: "0.1", want: unchanged},
			{kind: ItemParam, key: "lr", v: "0.2", want: rejected, errKind: ErrParamChanged},
		}},
		{name: "tags may change", rules: Rules{}.withLimits(), entries: []entry{
			{kind: ItemTag, key: "phase", v: "train", wantValue: "train"},
			{kind: ItemTag, key: "phase", v: "train", want: unchanged},
			{kind: ItemTag, key: "phase", v: "eval", wantValue: "eval"},
		}},
		{name: "a long value is rejected", rules: Rules{}.withLimits(), entries: []entry{
			{kind: ItemParam, key: "p", v: long, want: rejected, errKind: ErrValueTooLarge},
			{kind: ItemTag, key: "t", v: strings.Repeat("x", maxTagLength+1), want: rejected, errKind: ErrValueTooLarge},
			{kind: ItemTag, key: "t", v: strings.Repeat("x", maxTagLength), wantValue: strings.Repeat("x", maxTagLength)},
		}},
		{name: "a long value is truncated when asked", rules: rulesWith(func(r *Rules) { r.TruncateLongValues = true }), entries: []entry{
			{kind: ItemParam, key: "p", v: long, want: truncated, wantValue: long[:len(long)-len("é")], errKind: ErrValueTruncated},
		}},
		{name: "separate namespaces by default", rules: Rules{}.withLimits(), entries: []entry{
			{kind: ItemParam, key: "lr", v: "0.1", wantValue: "0.1"},
			{kind: ItemTag, key: "lr", v: "x", wantValue: "x"},
		}},
		{name: "one namespace", rules: rulesWith(func(r *Rules) { r.OneNamespace = true }), entries: []entry{
			{kind: ItemParam, key: "lr", v: "0.1", wantValue: "0.1"},
			{kind: ItemTag, key: "lr", v: "x", want: rejected, errKind: ErrTypeMismatch},
		}},
		{name: "an invalid key", rules: Rules{}.withLimits(), entries: []entry{
			{kind: ItemTag, key: "../etc", v: "x", want: rejected, errKind: ErrInvalidName},
		}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			a := newAdmitter(tc.rules)
			for i, en := range tc.entries {
				_, value, v, e := a.text(en.kind, en.key, en.v)
				require.Equal(t, en.want, v, "entry %d: verdict", i)
				assert.Equal(t, en.wantValue, value, "entry %d: value", i)
				if en.errKind != nil {
					assert.ErrorIs(t, e, en.errKind, "entry %d", i)
				} else {
					assert.Nil(t, e, "entry %d", i)
				}
			}
		})
	}
}

func TestAdmitterTypeCheckAcrossMetricsAndTexts(t *testing.T) {
	a := newAdmitter(rulesWith(func(r *Rules) { r.OneNamespace = true }))
	_, v, _ := a.metric(nil, "lr", 0, 1, 0)
	require.Equal(t, admitted, v)
	_, _, v, e := a.text(ItemParam, "lr", "0.1")
	assert.Equal(t, rejected, v)
	assert.ErrorIs(t, e, ErrTypeMismatch)
	assert.Contains(t, e.Error(), "already used as a metric")
}
