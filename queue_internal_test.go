package mlerr

import (
	"bytes"
	"slices"
	"strconv"
	"strings"
	"testing"
)

// queueModel is the queue's specification: a plain slice.
type queueModel struct {
	items []Item
	bytes int
	out   int64
}

// checkQueue compares the queue with the model, item by item.
func checkQueue(t *testing.T, q *queue, m *queueModel, step int) {
	t.Helper()
	if q.n != len(m.items) || q.bytes != m.bytes || q.out != m.out {
		t.Fatalf("step %d: n=%d bytes=%d out=%d, want %d %d %d", step, q.n, q.bytes, q.out, len(m.items), m.bytes, m.out)
	}
	if q.headOff < 0 || q.headOff >= segmentItems {
		t.Fatalf("step %d: head offset %d", step, q.headOff)
	}
	if need := (q.headOff + q.n + segmentItems - 1) / segmentItems; len(q.segs) < need || len(q.segs) > need+1 {
		t.Fatalf("step %d: %d segments for %d items from offset %d", step, len(q.segs), q.n, q.headOff)
	}
	for i := range m.items {
		off := q.headOff + i
		got := q.segs[off/segmentItems][off%segmentItems]
		if got != m.items[i] {
			t.Fatalf("step %d: item %d is %+v, want %+v", step, i, got, m.items[i])
		}
	}
}

// runQueueOps applies ops (one byte each) to a queue and to the model:
// push an item (with a text for some), drop the oldest, pop the oldest,
// take a batch under count and byte limits, drain.
func runQueueOps(t *testing.T, ops []byte) {
	q := &queue{maxItems: 1 << 30, maxBytes: 1 << 30}
	m := &queueModel{}
	next := 0
	for step, op := range ops {
		switch {
		case op < 150: // push; pushes dominate so that the queue grows
			it := Item{Kind: ItemMetric, Key: "k" + strconv.Itoa(next%7), Step: int64(next), Value: float64(op)}
			if op%5 == 0 {
				it.Kind, it.Text = ItemTag, strings.Repeat("v", int(op))
			}
			next++
			*q.pushSlot(itemSize(&it)) = it
			m.items = append(m.items, it)
			m.bytes += itemSize(&it)
		case op < 180: // drop or pop the oldest
			if len(m.items) == 0 {
				continue
			}
			want := m.items[0]
			if op%2 == 0 {
				q.dropOldest()
			} else if got := q.popOldest(); got != want {
				t.Fatalf("step %d: popped %+v, want %+v", step, got, want)
			}
			m.items = m.items[1:]
			m.bytes -= itemSize(&want)
			m.out++
		case op < 250: // take a batch
			maxCount := 1 + int(op-180)*9
			maxBytes := 64 + int(op%16)*200
			got, size := q.take(nil, maxCount, maxBytes)
			k, wantSize := 0, 0
			for k < len(m.items) && k < maxCount {
				s := itemSize(&m.items[k])
				if k > 0 && wantSize+s > maxBytes {
					break
				}
				wantSize += s
				k++
			}
			if len(got) != k || size != wantSize {
				t.Fatalf("step %d: took %d items (%d bytes), want %d (%d)", step, len(got), size, k, wantSize)
			}
			for i := range got {
				if got[i] != m.items[i] {
					t.Fatalf("step %d: taken item %d is %+v, want %+v", step, i, got[i], m.items[i])
				}
			}
			m.items = m.items[k:]
			m.bytes -= wantSize
			m.out += int64(k)
		default: // drain
			got := q.drain(nil)
			if len(got) != len(m.items) {
				t.Fatalf("step %d: drained %d items, want %d", step, len(got), len(m.items))
			}
			m.out += int64(len(m.items))
			m.items, m.bytes = nil, 0
		}
		checkQueue(t, q, m, step)
	}
}

// queueSeeds are op strings that cross segment boundaries in every way:
// fill several segments then empty them by drops, by batches, by a drain;
// interleave pushes and batches so that the head walks across segments.
func queueSeeds() [][]byte {
	rep := func(b byte, n int) []byte { return bytes.Repeat([]byte{b}, n) }
	cat := slices.Concat[[]byte]
	var interleaved []byte
	for range 400 {
		interleaved = append(interleaved, 1, 2, 3, 200) // three pushes, a batch
	}
	return [][]byte{
		cat(rep(1, 700), rep(160, 700), rep(1, 10)),               // fill, drop all, refill
		cat(rep(1, 700), rep(249, 20), rep(1, 300), rep(181, 50)), // batches of 622 items
		cat(rep(1, 513), rep(255, 1), rep(1, 257)),                // drain at a boundary
		cat(rep(5, 300), rep(190, 10), rep(2, 300)),               // texts under byte limits
		interleaved,
	}
}

func TestQueueSegments(t *testing.T) {
	for i, ops := range queueSeeds() {
		t.Run(strconv.Itoa(i), func(t *testing.T) { runQueueOps(t, ops) })
	}
}

// TestQueueReusesSegments: a queue that fills and empties again and again
// takes no new segment once grown, and never holds more segments than its
// peak needs.
func TestQueueReusesSegments(t *testing.T) {
	q := &queue{maxItems: 1 << 30, maxBytes: 1 << 30}
	it := Item{Kind: ItemMetric, Key: "loss"}
	fill := func(n int) {
		for range n {
			*q.pushSlot(itemSize(&it)) = it
		}
	}
	buf := make([]Item, 0, 3000)
	fill(3000)
	q.take(buf[:0], 3000, 1<<30)
	held := len(q.segs) + len(q.spare)
	allocs := testing.AllocsPerRun(20, func() {
		fill(3000)
		for q.n > 1000 {
			q.dropOldest()
		}
		q.take(buf[:0], 1000, 1<<30)
	})
	if allocs != 0 {
		t.Errorf("%v allocations per refill, want 0", allocs)
	}
	if got := len(q.segs) + len(q.spare); got != held {
		t.Errorf("%d segments held after refills, want %d", got, held)
	}
	if want := (3000 + segmentItems - 1) / segmentItems; held > want+1 {
		t.Errorf("%d segments for a peak of 3000 items, want at most %d", held, want+1)
	}
}

func FuzzQueue(f *testing.F) {
	for _, ops := range queueSeeds() {
		f.Add(ops)
	}
	f.Fuzz(func(t *testing.T, ops []byte) {
		if len(ops) > 5000 {
			ops = ops[:5000]
		}
		runQueueOps(t, ops)
	})
}
