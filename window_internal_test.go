package mlerr

import (
	"errors"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
)

func TestWindowAIMD(t *testing.T) {
	// Each step: p = backpressure seen by a write sent in the epoch given
	// (-1: the current one), s = that many acknowledged writes; then the
	// window a run of limit k sees.
	type step struct {
		pressure  bool
		staleSent bool // the write was sent before the latest halving
		successes int
		want      int
	}
	for _, tc := range []struct {
		name  string
		k     int
		steps []step
	}{
		{"not lowered: the limit", 4, []step{{want: 4}}},
		{"halved on backpressure", 4, []step{{pressure: true, want: 2}, {pressure: true, want: 1}, {pressure: true, want: 1}}},
		{"K=1 stays 1", 1, []step{{pressure: true, want: 1}, {successes: 100, want: 1}}},
		{"a write sent before the halving does not halve again", 8, []step{{pressure: true, want: 4}, {pressure: true, staleSent: true, want: 4}}},
		{"+1 per 8 successes, up to the limit", 8, []step{{pressure: true, want: 4}, {successes: 7, want: 4}, {successes: 1, want: 5}, {successes: 24, want: 8}, {successes: 80, want: 8}}},
		{"successes before a halving are forgotten", 8, []step{{pressure: true, want: 4}, {successes: 7, want: 4}, {pressure: true, want: 2}, {successes: 7, want: 2}, {successes: 1, want: 3}}},
		{"the maximum limit", maxInFlight, []step{{want: maxInFlight}, {pressure: true, want: maxInFlight / 2}}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var w window
			for i, st := range tc.steps {
				size, epoch := w.get()
				assert.GreaterOrEqual(t, size, 1)
				if st.pressure {
					if st.staleSent {
						epoch--
					}
					assert.Equal(t, !st.staleSent, w.pressure(tc.k, epoch), "step %d: halved", i)
				}
				for range st.successes {
					w.success(tc.k)
				}
				size, _ = w.get()
				assert.Equal(t, st.want, min(size, tc.k), "step %d", i)
			}
		})
	}
}

func TestIsBackpressure(t *testing.T) {
	for _, tc := range []struct {
		err  error
		want bool
	}{
		{New(CodeTemporarilyUnavailable, "x").withObserved(503, 0), true},
		{New(CodeRequestLimitExceeded, "x").withObserved(429, time.Second), true},
		{New(CodeRequestLimitExceeded, "x").withObserved(429, 0), true},
		{New(CodeInternalError, "x").withObserved(500, 0), false},
		{New(CodeInternalError, "x").withObserved(502, 0), false},
		{errors.New("connection refused"), false},
		{New(CodeTemporarilyUnavailable, "the database is overloaded").WithHTTPStatus(400), true}, // mlflow's overloaded
		{Decoder{}.DecodeError(400, nil, []byte(`{"error_code":"BAD_REQUEST","message":"no"}`)), false},
	} {
		assert.Equal(t, tc.want, isBackpressure(tc.err), "%v (%d)", tc.err, HTTPStatusOf(tc.err))
	}
}
