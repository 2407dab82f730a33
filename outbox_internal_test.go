package mlerr

import (
	"context"
	"errors"
	"log/slog"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// testOutbox returns an outbox of at most maxItems items, its wake-up
// channel, and the events it posts (the dispatcher is not running: events
// wait in its channel).
func testOutbox(policy FullPolicy, maxItems, batch int) (*outbox, chan struct{}, *events) {
	cfg := defaultConfig()
	cfg.full, cfg.maxItems, cfg.batchItems = policy, maxItems, batch
	cfg.logger = slog.New(slog.DiscardHandler)
	cfg.eventBurst = 0
	ev := newEvents(&cfg, Callbacks{}, systemClock{})
	wake := make(chan struct{}, 1)
	return newOutbox(&cfg, wake, ev), wake, ev
}

func points(from, to int64) []Item {
	var out []Item
	for s := from; s < to; s++ {
		out = append(out, Item{Kind: ItemMetric, Key: "x", Step: s})
	}
	return out
}

func stepsOf(items []Item) []int64 {
	var out []int64
	for _, it := range items {
		out = append(out, it.Step)
	}
	return out
}

func TestOutboxOrdinals(t *testing.T) {
	o, _, _ := testOutbox(DropOldest(), 10, 4)
	now := time.Now()
	require.NoError(t, o.push(points(0, 6), reservation{}, now))
	assert.Equal(t, int64(6), o.tail())
	assert.Equal(t, int64(0), o.headOrdinal())
	tk := o.take(true, nil, now)
	assert.Equal(t, []int64{0, 1, 2, 3}, stepsOf(tk.items))
	assert.Equal(t, int64(0), tk.first)
	assert.Equal(t, int64(4), o.headOrdinal())
	// Twelve more: the queue holds 10, so the 2 queued and 6 of the new
	// ones are dropped, oldest first; the ordinals of the dropped ones pass.
	require.NoError(t, o.push(points(6, 18), reservation{}, now))
	assert.Equal(t, int64(18), o.tail())
	assert.Equal(t, int64(8), o.headOrdinal())
	first, items := takeAll(o, now)
	assert.Equal(t, int64(8), first)
	assert.Equal(t, stepsOf(points(8, 18)), stepsOf(items))
	s := o.stats()
	assert.Equal(t, int64(18), s.logged)
	assert.Equal(t, int64(4), s.queueFull)
}

// takeAll takes batches until the outbox has none, and returns the first
// one's ordinal and their items; each batch is a segment of at most a
// batch's count, given back once read.
func takeAll(o *outbox, now time.Time) (first int64, items []Item) {
	first = -1
	var spent []*segment
	for {
		tk := o.take(true, spent, now)
		if len(tk.items) == 0 {
			return first, items
		}
		if first < 0 {
			first = tk.first
		}
		if len(tk.items) > o.q.batchItems {
			panic("a batch larger than the batch size")
		}
		items = append(items, tk.items...)
		spent = []*segment{tk.seg}
	}
}

func TestOutboxDropNewestGivesNoOrdinal(t *testing.T) {
	o, _, ev := testOutbox(DropNewest(), 3, 3)
	now := time.Now()
	require.NoError(t, o.push(points(0, 5), reservation{}, now))
	assert.Equal(t, int64(3), o.tail(), "dropped items never entered")
	s := o.stats()
	assert.Equal(t, int64(5), s.logged)
	assert.Equal(t, int64(2), s.queueFull)
	// The first drop is reported at once, the next one a second later at
	// the earliest.
	first := <-ev.disp.events
	assert.Equal(t, onQueueFull, first.to)
	assert.Equal(t, []int64{3}, stepsOf(LostItems(first.err)))
	assert.Equal(t, int64(1), o.full.lost.n)
	assert.Equal(t, []int64{4}, stepsOf(failedItems(o.full.lost.failures)))
	o.flushReport(time.Now(), true)
	second := <-ev.disp.events
	assert.Equal(t, []int64{4}, stepsOf(LostItems(second.err)))
	assert.Equal(t, int64(1), LostCount(second.err))
}

func failedItems(fs []Failure[Item]) []Item {
	var out []Item
	for _, f := range fs {
		out = append(out, f.Item)
	}
	return out
}

func TestOutboxWakesTheSenderOncePerBatch(t *testing.T) {
	o, wake, _ := testOutbox(DropOldest(), 100, 4)
	now := time.Now()
	require.NoError(t, o.push(points(0, 3), reservation{}, now))
	assert.Len(t, wake, 0, "no full batch yet")
	require.NoError(t, o.push(points(3, 4), reservation{}, now))
	assert.Len(t, wake, 1, "a full batch")
	require.NoError(t, o.push(points(4, 5), reservation{}, now))
	assert.Len(t, wake, 1, "one wake-up pending is enough")
	<-wake // the sender looks
	o.take(true, nil, now)
	require.NoError(t, o.push(points(5, 7), reservation{}, now))
	assert.Len(t, wake, 0, "the next batch is not full")
	require.NoError(t, o.push(points(7, 9), reservation{}, now))
	assert.Len(t, wake, 1)
}

func TestOutboxSpillKeepsOrder(t *testing.T) {
	spool := &sliceSpool{}
	o, _, _ := testOutbox(Spill(spool), 3, 3)
	now := time.Now()
	require.NoError(t, o.push(points(0, 5), reservation{}, now))
	require.NoError(t, o.push(points(5, 6), reservation{}, now))
	assert.Equal(t, []int64{3, 4, 5}, stepsOf(spool.items), "what does not fit, and everything after")
	assert.Equal(t, int64(6), o.tail())
	var got []int64
	for {
		tk := o.take(true, nil, now)
		if len(tk.items) == 0 {
			break
		}
		assert.Equal(t, int64(len(got)), tk.first, "ordinals in order across queue and spool")
		got = append(got, stepsOf(tk.items)...)
		require.NoError(t, o.done(tk))
	}
	assert.Equal(t, stepsOf(points(0, 6)), got)
	assert.Empty(t, spool.items)
}

func TestOutboxClosedTakesNothing(t *testing.T) {
	o, _, _ := testOutbox(DropOldest(), 10, 4)
	closed := errors.New("closed")
	o.close(closed)
	assert.Same(t, closed, o.closedFast())
	assert.Same(t, closed, o.push(points(0, 1), reservation{}, time.Now()))
	assert.Equal(t, int64(0), o.stats().logged)
	o.close(errors.New("again"))
	assert.Same(t, closed, o.closedError(), "the first error stays")
}

func TestOutboxReserve(t *testing.T) {
	o, _, _ := testOutbox(Block(0), 4, 4)
	now := time.Now()
	res, err := o.reserve(context.Background(), 3, 3*itemOverhead, now)
	require.NoError(t, err)
	// Reserved room counts: one more item fits, two do not.
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	_, err = o.reserve(ctx, 2, 2*itemOverhead, now)
	assert.ErrorIs(t, err, ErrQueueFull)
	res2, err := o.reserve(ctx, 1, itemOverhead, now)
	require.NoError(t, err, "fits without waiting")
	require.NoError(t, o.push(points(0, 3), res, now))
	require.NoError(t, o.push(points(3, 4), res2, now))
	assert.Equal(t, 4, o.stats().queued)
	assert.Zero(t, o.reserved)

	// A waiter gets in once the sender takes a batch.
	got := make(chan error, 1)
	go func() {
		res, err := o.reserve(context.Background(), 2, 2*itemOverhead, now)
		if err == nil {
			err = o.push(points(4, 6), res, now)
		}
		got <- err
	}()
	o.take(true, nil, now)
	require.NoError(t, <-got)
	assert.Equal(t, 2, o.stats().queued)
}

// sliceSpool is an in-memory Spool.
type sliceSpool struct{ items []Item }

func (s *sliceSpool) Push(items []Item) error { s.items = append(s.items, items...); return nil }
func (s *sliceSpool) Peek(n int) ([]Item, error) {
	return append([]Item(nil), s.items[:min(n, len(s.items))]...), nil
}
func (s *sliceSpool) Ack(n int) error { s.items = s.items[n:]; return nil }
func (s *sliceSpool) Len() int        { return len(s.items) }
func (s *sliceSpool) Close() error    { return nil }
