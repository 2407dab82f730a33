package mlerr

// itemOverhead is what an item is counted to weigh in the queue besides its
// key and text: the Item struct and its share of the queue's storage.
const itemOverhead = 64

// itemSize is the number of bytes an item is counted for against the queue's
// byte limit: its key and text lengths plus itemOverhead.
func itemSize(it *Item) int { return len(it.Key) + len(it.Text) + itemOverhead }

// queue is the Run's in-memory FIFO of items waiting to be sent, kept as
// the batches the sender will write: a segment holds one batch's items (at
// most batchItems items weighing at most batchBytes, all artifacts or none),
// and the last segment is the one filling. The sender takes the oldest
// segment whole (take): its items are the batch, handed over without a
// copy, and the sender gives the segment back (giveBack) once the batch is
// dealt with, for reuse. The log calls write only the last segment, the
// sender reads only the ones it took, so the two goroutines never touch one
// item; pushing, dropping the oldest and taking are O(1) per item without
// allocating once grown, and growing never copies the items already queued
// (a ring that doubles would copy megabytes inside one log call when an
// outage fills it).
//
// Handing segments over instead of copying batches out of the queue under
// the outbox's lock: BenchmarkLogMetrics1Key, on the project's 2-core
// machine, in one run (medians of 8 rounds), 2.38x
// BenchmarkBaselineMutexAppendNow with the handover, 2.73x with the copy
// (the sender held the lock while it copied 80 KB of items, and read lines
// the log calls were about to write again).
//
// The outbox's mutex guards the queue and the segments in it; a taken
// segment is its taker's until given back.
type queue struct {
	segs  []*segment // in order, oldest first, none empty; the last one is filling
	fill  *segment   // the last one, nil when there is none
	spare []*segment // segments emptied or given back, for reuse
	n     int        // items queued
	bytes int        // their size, see itemSize
	out   int64      // items that ever left the queue (taken or dropped)

	maxItems, maxBytes     int // the queue's limits
	batchItems, batchBytes int // a segment's
}

// segment is one batch's worth of queued items: items[head:], the ones
// before head having been dropped.
type segment struct {
	items []Item
	head  int
	bytes int  // the size of items[head:]
	art   bool // its items are artifacts
	texts bool // some item may hold a Text, released when the segment is reset
}

// live returns the segment's items.
func (s *segment) live() []Item { return s.items[s.head:] }

// fits reports whether one more item of size bytes, an artifact or not
// (art), belongs in the segment, a batch of at most maxItems items weighing
// maxBytes.
func (s *segment) fits(size int, art bool, maxItems, maxBytes int) bool {
	return len(s.items) < maxItems && s.art == art && s.bytes+size <= maxBytes
}

// reset empties the segment for reuse, releasing the strings of long values
// (keys are shared with the run's key table and need no release).
func (s *segment) reset() {
	if s.texts {
		clear(s.items)
	}
	*s = segment{items: s.items[:0]}
}

// full reports whether one more item of size bytes would exceed a limit. An
// empty queue always takes one item, so that an item larger than the byte
// limit is not refused forever.
func (q *queue) full(size int) bool {
	return q.n > 0 && (q.n >= q.maxItems || q.bytes+size > q.maxBytes)
}

// pushSlot appends an item of kind weighing size bytes and returns its slot
// for the caller to overwrite whole (it may hold a stale item); the caller
// checked full.
func (q *queue) pushSlot(size int, kind ItemKind) *Item {
	art := kind == ItemArtifact
	seg := q.fill
	if seg == nil || !seg.fits(size, art, q.batchItems, q.batchBytes) {
		seg = q.startSegment(art)
	}
	if kind != ItemMetric {
		seg.texts = true
	}
	seg.bytes += size
	q.n++
	q.bytes += size
	i := len(seg.items)
	seg.items = seg.items[:i+1] // within a batch's capacity: see fits
	return &seg.items[i]
}

// startSegment appends a new filling segment, of artifacts or not.
func (q *queue) startSegment(art bool) *segment {
	seg := q.newSegment()
	seg.art = art
	q.segs = append(q.segs, seg)
	q.fill = seg
	return seg
}

// newSegment returns a spare segment, or a new one with room for a batch
// (80 KB for MLflow's 1000 items): it never grows, so that no item is
// copied once queued.
func (q *queue) newSegment() *segment {
	if k := len(q.spare); k > 0 {
		seg := q.spare[k-1]
		q.spare[k-1] = nil
		q.spare = q.spare[:k-1]
		return seg
	}
	return &segment{items: make([]Item, 0, q.batchItems)}
}

// ready reports whether a whole batch is queued: a segment that takes no
// more items (one is filling after it, or it holds a batch's count or
// weight).
func (q *queue) ready() bool {
	if len(q.segs) != 1 {
		return len(q.segs) > 1
	}
	return len(q.fill.items) >= q.batchItems || q.fill.bytes >= q.batchBytes
}

// popOldest removes the oldest item and returns it; the queue is not empty.
func (q *queue) popOldest() Item {
	seg := q.segs[0]
	slot := &seg.items[seg.head]
	it := *slot
	*slot = Item{} // release its strings
	size := itemSize(&it)
	seg.head++
	seg.bytes -= size
	q.n--
	q.bytes -= size
	q.out++
	if seg.head == len(seg.items) {
		q.unlink()
	}
	return it
}

// unlink removes the oldest segment, emptied, from the queue and keeps it
// for reuse.
func (q *queue) unlink() {
	seg := q.segs[0]
	q.shift()
	q.giveBack(seg)
}

// shift removes segs[0] from the list.
func (q *queue) shift() {
	if q.segs[0] == q.fill {
		q.fill = nil
	}
	k := copy(q.segs, q.segs[1:])
	q.segs[k] = nil
	q.segs = q.segs[:k]
}

// take removes the oldest segment, a batch, and returns it (nil when the
// queue is empty): its items are the taker's until it gives the segment
// back with giveBack. The filling segment is taken too: the next item
// starts a new one.
func (q *queue) take() *segment {
	if len(q.segs) == 0 {
		return nil
	}
	seg := q.segs[0]
	q.shift()
	live := len(seg.items) - seg.head
	q.n -= live
	q.bytes -= seg.bytes
	q.out += int64(live)
	return seg
}

// giveBack takes back a segment taken with take (or newSegment), once its
// items are no longer used, for reuse.
func (q *queue) giveBack(seg *segment) {
	seg.reset()
	q.spare = append(q.spare, seg)
}

// drain removes every item, appending them to dst.
func (q *queue) drain(dst []Item) []Item {
	for q.n > 0 {
		dst = append(dst, q.popOldest())
	}
	return dst
}
