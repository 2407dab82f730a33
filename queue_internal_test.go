package mlerr

import (
	"bytes"
	"slices"
	"strconv"
	"strings"
	"testing"
)

// queueModel is the queue's specification: a plain slice, and the batches
// taken and not given back yet, with copies of their items.
type queueModel struct {
	items []Item
	bytes int
	out   int64
	lent  []lentSegment
}

type lentSegment struct {
	seg  *segment
	want []Item
}

// testQueue is a queue of batches of at most batchItems items weighing
// batchBytes, without queue limits.
func testQueue(batchItems, batchBytes int) *queue {
	return &queue{maxItems: 1 << 30, maxBytes: 1 << 30, batchItems: batchItems, batchBytes: batchBytes}
}

// checkQueue compares the queue with the model, item by item, checks every
// segment's shape, and that no lent segment was written.
func checkQueue(t *testing.T, q *queue, m *queueModel, step int) {
	t.Helper()
	if q.n != len(m.items) || q.bytes != m.bytes || q.out != m.out {
		t.Fatalf("step %d: n=%d bytes=%d out=%d, want %d %d %d", step, q.n, q.bytes, q.out, len(m.items), m.bytes, m.out)
	}
	if last := len(q.segs) - 1; last >= 0 && q.fill != q.segs[last] || last < 0 && q.fill != nil {
		t.Fatalf("step %d: the filling segment is not the last of %d", step, len(q.segs))
	}
	var got []Item
	for i, seg := range q.segs {
		checkSegment(t, q, seg, step)
		if len(seg.live()) == 0 {
			t.Fatalf("step %d: segment %d of %d is empty", step, i, len(q.segs))
		}
		got = append(got, seg.live()...)
	}
	if !slices.Equal(got, m.items) {
		t.Fatalf("step %d: queue holds %v, want %v", step, stepsOf(got), stepsOf(m.items))
	}
	for _, l := range m.lent {
		if !slices.Equal(l.seg.live(), l.want) {
			t.Fatalf("step %d: a taken batch changed: %v, want %v", step, stepsOf(l.seg.live()), stepsOf(l.want))
		}
	}
}

// checkSegment checks that a segment is one batch: within the batch limits
// (its byte limit but for a lone item), one sort, its weight counted.
func checkSegment(t *testing.T, q *queue, seg *segment, step int) {
	t.Helper()
	live, size := seg.live(), 0
	for i := range live {
		size += itemSize(&live[i])
		if (live[i].Kind == ItemArtifact) != seg.art {
			t.Fatalf("step %d: item %+v in a segment of artifacts=%v", step, live[i], seg.art)
		}
	}
	if size != seg.bytes || len(seg.items) > q.batchItems || size > q.batchBytes && len(live) > 1 {
		t.Fatalf("step %d: segment of %d slots, %d live weighing %d (counted %d); batch limits %d items, %d bytes",
			step, len(seg.items), len(live), size, seg.bytes, q.batchItems, q.batchBytes)
	}
}

// testItem is the n-th item pushed by op: a metric point, a tag with a
// long text for some ops, an artifact for a few.
func testItem(n int, op byte) Item {
	it := Item{Kind: ItemMetric, Key: "k" + strconv.Itoa(n%7), Step: int64(n), Value: float64(op)}
	switch {
	case op%23 == 0:
		it.Kind, it.Text = ItemArtifact, "file"+strconv.Itoa(n)
	case op%5 == 0:
		it.Kind, it.Text = ItemTag, strings.Repeat("v", int(op))
	}
	return it
}

// runQueueOps applies ops (one byte each) to a queue of batches of 10
// items and 1500 bytes and to the model: push an item, pop the oldest,
// take a batch, give a taken batch back, drain.
func runQueueOps(t *testing.T, ops []byte) {
	q := testQueue(10, 1500)
	m := &queueModel{}
	next := 0
	for step, op := range ops {
		switch {
		case op < 150: // push; pushes dominate so that the queue grows
			it := testItem(next, op)
			next++
			*q.pushSlot(itemSize(&it), it.Kind) = it
			m.items = append(m.items, it)
			m.bytes += itemSize(&it)
		case op < 170: // pop the oldest
			if len(m.items) == 0 {
				continue
			}
			want := m.items[0]
			if got := q.popOldest(); got != want {
				t.Fatalf("step %d: popped %+v, want %+v", step, got, want)
			}
			m.items = m.items[1:]
			m.bytes -= itemSize(&want)
			m.out++
		case op < 220: // take a batch: the oldest items
			seg := q.take()
			if seg == nil {
				if len(m.items) > 0 {
					t.Fatalf("step %d: took nothing from %d items", step, len(m.items))
				}
				continue
			}
			got := seg.live()
			if len(got) == 0 || !slices.Equal(got, m.items[:len(got)]) {
				t.Fatalf("step %d: took %v, want a prefix of %v", step, stepsOf(got), stepsOf(m.items))
			}
			checkSegment(t, q, seg, step)
			m.lent = append(m.lent, lentSegment{seg, slices.Clone(got)})
			m.bytes -= seg.bytes
			m.items = m.items[len(got):]
			m.out += int64(len(got))
		case op < 250: // give the oldest taken batch back
			if len(m.lent) > 0 {
				q.giveBack(m.lent[0].seg)
				m.lent = m.lent[1:]
			}
		default: // drain
			got := q.drain(nil)
			if !slices.Equal(got, m.items) {
				t.Fatalf("step %d: drained %d items, want %d", step, len(got), len(m.items))
			}
			m.out += int64(len(m.items))
			m.items, m.bytes = nil, 0
		}
		checkQueue(t, q, m, step)
	}
}

// queueSeeds are op strings that cross segment boundaries in every way:
// fill several segments then empty them by pops, by batches, by a drain;
// interleave pushes and batches, hold batches while the queue refills.
func queueSeeds() [][]byte {
	rep := func(b byte, n int) []byte { return bytes.Repeat([]byte{b}, n) }
	cat := slices.Concat[[]byte]
	var interleaved []byte
	for range 400 {
		interleaved = append(interleaved, 1, 2, 3, 200, 230) // three pushes, a batch, one given back
	}
	return [][]byte{
		cat(rep(1, 70), rep(160, 70), rep(1, 10)),                           // fill, pop all, refill
		cat(rep(1, 70), rep(200, 5), rep(1, 30), rep(161, 25), rep(230, 5)), // batches held while refilling
		cat(rep(1, 53), rep(255, 1), rep(1, 27)),                            // drain
		cat(rep(5, 30), rep(190, 10), rep(2, 30)),                           // texts over the byte limit
		cat(rep(1, 5), rep(23, 3), rep(1, 5), rep(200, 4), rep(230, 4)),     // artifacts between points
		interleaved,
	}
}

func TestQueueSegments(t *testing.T) {
	for i, ops := range queueSeeds() {
		t.Run(strconv.Itoa(i), func(t *testing.T) { runQueueOps(t, ops) })
	}
}

// TestQueueBatches: where a batch ends, for pushes of given kinds and
// sizes (a metric weighs itemOverhead plus its 4-byte key).
func TestQueueBatches(t *testing.T) {
	metric := Item{Kind: ItemMetric, Key: "loss"}
	art := Item{Kind: ItemArtifact, Key: "file", Text: "a"}
	medium := Item{Kind: ItemTag, Key: "note", Text: strings.Repeat("x", 250)}
	big := Item{Kind: ItemTag, Key: "note", Text: strings.Repeat("x", 1000)}
	tests := []struct {
		name  string
		items []Item
		want  []int // the sizes of the batches taken
	}{
		{"a batch's count", slices.Repeat([]Item{metric}, 7), []int{3, 3, 1}},
		{"a batch's weight", []Item{medium, metric, medium}, []int{2, 1}},
		{"the weight cuts", []Item{metric, big, metric}, []int{1, 1, 1}},
		{"a lone item over the weight", []Item{big, big}, []int{1, 1}},
		{"artifacts apart", []Item{metric, art, art, metric}, []int{1, 2, 1}},
		{"artifacts by count", slices.Repeat([]Item{art}, 4), []int{3, 1}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			q := testQueue(3, 600)
			for _, it := range tt.items {
				*q.pushSlot(itemSize(&it), it.Kind) = it
			}
			var got []int
			for seg := q.take(); seg != nil; seg = q.take() {
				got = append(got, len(seg.live()))
			}
			if !slices.Equal(got, tt.want) {
				t.Errorf("batches %v, want %v", got, tt.want)
			}
		})
	}
}

// TestQueueReady: a batch is ready once its segment takes no more items.
func TestQueueReady(t *testing.T) {
	q := testQueue(3, 1<<20)
	it := Item{Kind: ItemMetric, Key: "loss"}
	push := func() { *q.pushSlot(itemSize(&it), it.Kind) = it }
	for i, want := range []bool{false, false, true, true} {
		push()
		if got := q.ready(); got != want {
			t.Errorf("%d items: ready %v, want %v", i+1, got, want)
		}
	}
	q.take()
	if q.ready() {
		t.Error("ready with 1 item left")
	}
}

// TestQueueReusesSegments: a queue that fills and empties again and again
// takes no new segment once grown, and never holds more segments than its
// peak needs.
func TestQueueReusesSegments(t *testing.T) {
	q := testQueue(1000, 1<<30)
	it := Item{Kind: ItemMetric, Key: "loss"}
	fill := func(n int) {
		for range n {
			*q.pushSlot(itemSize(&it), it.Kind) = it
		}
	}
	cycle := func() {
		fill(3000)
		for q.n > 1500 {
			q.popOldest()
		}
		for seg := q.take(); seg != nil; seg = q.take() {
			q.giveBack(seg)
		}
	}
	cycle()
	held := len(q.segs) + len(q.spare)
	if allocs := testing.AllocsPerRun(20, cycle); allocs != 0 {
		t.Errorf("%v allocations per refill, want 0", allocs)
	}
	if got := len(q.segs) + len(q.spare); got != held {
		t.Errorf("%d segments held after refills, want %d", got, held)
	}
	if held > 4 {
		t.Errorf("%d segments for a peak of 3000 items in batches of 1000, want at most 4", held)
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
