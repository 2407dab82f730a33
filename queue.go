package mlerr

// itemOverhead is what an item is counted to weigh in the queue besides its
// key and text: the Item struct and its share of the queue's storage.
const itemOverhead = 64

// itemSize is the number of bytes an item is counted for against the queue's
// byte limit: its key and text lengths plus itemOverhead.
func itemSize(it *Item) int { return len(it.Key) + len(it.Text) + itemOverhead }

// queue is the Run's in-memory FIFO of items waiting to be sent. It stores
// items in fixed-size segments, taken as the queue grows and kept for reuse
// as it empties: a run that logs little holds little, pushing, dropping
// the oldest and taking a batch are O(1) per item without allocating once
// grown, and growing never copies the items already queued (a ring that
// doubles would copy megabytes inside one log call when an outage fills
// it).
//
// The Run's mutex guards it.
type queue struct {
	segs    []*segment // in order, oldest first; the last one holds the tail
	spare   []*segment // emptied segments, for reuse
	headOff int        // index in segs[0] of the oldest item
	n       int        // items queued
	bytes   int        // their size, see itemSize
	out     int64      // items that ever left the queue (taken or dropped)

	maxItems, maxBytes int
}

// segmentItems is the number of items of a segment (20 KiB of Items).
const segmentItems = 256

type segment [segmentItems]Item

// full reports whether one more item of size bytes would exceed a limit. An
// empty queue always takes one item, so that an item larger than the byte
// limit is not refused forever.
func (q *queue) full(size int) bool {
	return q.n > 0 && (q.n >= q.maxItems || q.bytes+size > q.maxBytes)
}

// pushSlot appends an item weighing size bytes and returns its slot for the
// caller to overwrite whole (it may hold a stale item); the caller checked
// full.
func (q *queue) pushSlot(size int) *Item {
	tail := q.headOff + q.n
	s := tail / segmentItems
	if s == len(q.segs) {
		q.segs = append(q.segs, q.newSegment())
	}
	q.n++
	q.bytes += size
	return &q.segs[s][tail%segmentItems]
}

// newSegment returns a spare segment, or a new one.
func (q *queue) newSegment() *segment {
	if k := len(q.spare); k > 0 {
		seg := q.spare[k-1]
		q.spare[k-1] = nil
		q.spare = q.spare[:k-1]
		return seg
	}
	return new(segment)
}

// advance removes the k oldest items from the queue's count and recycles
// the segments they emptied; the caller accounted for their bytes.
func (q *queue) advance(k int) {
	q.headOff += k
	q.n -= k
	q.out += int64(k)
	done := q.headOff / segmentItems
	if q.n == 0 {
		// Keep the head's segment and start it over.
		done = len(q.segs) - 1
		q.headOff = 0
	}
	if done > 0 {
		q.spare = append(q.spare, q.segs[:done]...)
		k := copy(q.segs, q.segs[done:])
		clear(q.segs[k:])
		q.segs = q.segs[:k]
		q.headOff %= segmentItems
	}
}

// popOldest removes the oldest item and returns it.
func (q *queue) popOldest() Item {
	slot := &q.segs[0][q.headOff]
	it := *slot
	*slot = Item{} // release its strings
	q.bytes -= itemSize(&it)
	q.advance(1)
	return it
}

// dropOldest removes the oldest item, as popOldest without returning it.
func (q *queue) dropOldest() {
	slot := &q.segs[0][q.headOff]
	q.bytes -= itemSize(slot)
	*slot = Item{} // release its strings
	q.advance(1)
}

// take moves up to maxCount oldest items, weighing at most maxBytes (but at
// least one item), to dst and returns it with their total size. It copies
// a segment's run of items at once. Artifacts and other items never share
// a batch: it stops before the first item of the other sort than the
// first one taken (artifacts are uploaded one by one, the others written
// together).
func (q *queue) take(dst []Item, maxCount, maxBytes int) ([]Item, int) {
	size := 0
	art := q.n > 0 && q.segs[0][q.headOff].Kind == ItemArtifact
	for q.n > 0 && len(dst) < maxCount {
		first := q.headOff
		end := min(segmentItems, first+q.n, first+maxCount-len(dst))
		k, chunk := q.run(first, end, len(dst) == 0, maxBytes-size, art)
		dst = append(dst, q.segs[0][first:k]...)
		releaseTexts(q.segs[0][first:k])
		size += chunk
		q.bytes -= chunk
		q.advance(k - first)
		if k < end {
			break // the byte limit, or the other sort
		}
	}
	return dst, size
}

// run returns how far, from first up to end, the head segment's items can
// be taken within room bytes (at least one when empty is true: the batch
// has nothing yet) and of the same sort (art: artifacts or not), and their
// weight.
func (q *queue) run(first, end int, empty bool, room int, art bool) (k, chunk int) {
	seg := q.segs[0]
	for k = first; k < end; k++ {
		s := itemSize(&seg[k])
		if !(empty && k == first) && chunk+s > room || (seg[k].Kind == ItemArtifact) != art {
			break
		}
		chunk += s
	}
	return k, chunk
}

// releaseTexts drops the long values of taken slots, which stay in the
// segment until it is reused; keys are shared with the run's key table.
func releaseTexts(items []Item) {
	for i := range items {
		if items[i].Text != "" {
			items[i].Text = ""
		}
	}
}

// drain removes every item, appending them to dst.
func (q *queue) drain(dst []Item) []Item {
	for q.n > 0 {
		dst = append(dst, q.popOldest())
	}
	return dst
}
