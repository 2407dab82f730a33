package mlerr

import (
	"errors"
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestCollectorResult(t *testing.T) {
	c := NewCollector[string](6)
	c.now = func() time.Time { return t0 }
	c.Succeed(4, "i4")
	c.Fail(3, "i3", "", New(CodeResourceDoesNotExist, "missing"))
	c.Succeed(0, "i0")
	c.Add(Failure[string]{Item: "i1", Index: 1, Reason: "busy", Code: CodeTemporarilyUnavailable, Time: t0.Add(time.Second)})
	c.Succeed(5, "i5")

	ok, be := c.Result()
	assert.Equal(t, []string{"i0", "i4", "i5"}, ok, "successes in index order")
	require.NotNil(t, be)
	assert.Equal(t, 6, be.Total)
	assert.Equal(t, []int{1, 3}, indexes(be))
	assert.Equal(t, []string{"busy", "missing"}, []string{be.Failures[0].Reason, be.Failures[1].Reason})
	assert.Equal(t, CodeResourceDoesNotExist, be.Failures[1].Code)
	assert.Equal(t, t0.Add(time.Second), be.Failures[0].Time, "a given time is kept")
	assert.Equal(t, t0, be.Failures[1].Time, "Fail stamps the collector's clock")

	// Result does not reset: another report shows in the next result.
	c.Succeed(2, "i2")
	ok, _ = c.Result()
	assert.Equal(t, []string{"i0", "i2", "i4", "i5"}, ok)
}

func TestCollectorNoFailures(t *testing.T) {
	c := NewCollector[int](2)
	c.Succeed(1, 10)
	c.Succeed(0, 20)
	ok, be := c.Result()
	assert.Equal(t, []int{20, 10}, ok)
	assert.Nil(t, be)
}

func TestCollectorLastReportWins(t *testing.T) {
	tests := []struct {
		name    string
		reports func(c *Collector[string])
		wantOK  []string
		wantBad []string
	}{
		{"fail then succeed", func(c *Collector[string]) { c.Fail(0, "a", "x", nil); c.Succeed(0, "a") }, []string{"a"}, nil},
		{"succeed then fail", func(c *Collector[string]) { c.Succeed(0, "a"); c.Fail(0, "a", "x", nil) }, []string{}, []string{"x"}},
		{"fail twice", func(c *Collector[string]) { c.Fail(0, "a", "x", nil); c.Fail(0, "a", "y", nil) }, []string{}, []string{"y"}},
		{"succeed twice", func(c *Collector[string]) { c.Succeed(0, "a"); c.Succeed(0, "b") }, []string{"b"}, nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c := NewCollector[string](1)
			tt.reports(c)
			ok, be := c.Result()
			assert.Equal(t, tt.wantOK, ok)
			var reasons []string
			if be != nil {
				for _, f := range be.Failures {
					reasons = append(reasons, f.Reason)
				}
				assert.Equal(t, 1, be.Total)
			}
			assert.Equal(t, tt.wantBad, reasons)
		})
	}
}

func TestCollectorTotalCoversIndexes(t *testing.T) {
	c := NewCollector[int](2)
	c.Succeed(9, 9)
	c.Fail(0, 0, "x", nil)
	_, be := c.Result()
	assert.Equal(t, 10, be.Total)
}

// TestCollectorConcurrent runs many workers reporting at once; run it with
// -race. Every item is reported exactly once, every third one as a failure.
func TestCollectorConcurrent(t *testing.T) {
	const workers, perWorker = 64, 200
	const total = workers * perWorker
	cause := errors.New("rejected")
	c := NewCollector[int](total)
	var wg sync.WaitGroup
	start := make(chan struct{})
	for w := range workers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			<-start
			for k := range perWorker {
				i := k*workers + w // interleave the indexes across workers
				if i%3 == 0 {
					c.Fail(i, i, fmt.Sprintf("reason %d", i%2), cause)
				} else {
					c.Succeed(i, i)
				}
				if k%50 == 0 {
					c.Result() // reading while others write
				}
			}
		}()
	}
	close(start)
	wg.Wait()

	ok, be := c.Result()
	require.NotNil(t, be)
	assert.Equal(t, total, be.Total)
	assert.Len(t, be.Failures, (total+2)/3)
	assert.Len(t, ok, total-(total+2)/3)
	for n, f := range be.Failures {
		assert.Equal(t, 3*n, f.Index)
		assert.Equal(t, f.Index, f.Item)
		assert.ErrorIs(t, f.Cause, cause)
	}
	for n := 1; n < len(ok); n++ {
		require.Less(t, ok[n-1], ok[n], "successes sorted by index")
	}
	assert.Len(t, be.ByReason(), 2)
	assert.InDelta(t, 1.0/3, be.FailureRate(), 0.001)
}
