package mlerr

// itemOverhead is what an item is counted to weigh in the queue besides its
// key and text: the Item struct and its share of the ring.
const itemOverhead = 64

// itemSize is the number of bytes an item is counted for against the queue's
// byte limit: its key and text lengths plus itemOverhead.
func itemSize(it *Item) int { return len(it.Key) + len(it.Text) + itemOverhead }

// queue is the Run's in-memory FIFO of items waiting to be sent: a ring that
// grows by doubling up to the power of two above its item limit, so that a
// run that logs little holds little, and that pushing, dropping the oldest
// and taking a batch are O(1) per item without allocating once grown.
//
// The Run's mutex guards it.
type queue struct {
	buf   []Item // len is a power of two
	head  int    // index of the oldest item
	n     int    // items queued
	bytes int    // their size, see itemSize
	out   int64  // items that ever left the queue (taken or dropped)

	maxItems, maxBytes int
}

// initialRing is the ring's first size.
const initialRing = 256

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
	if q.n == len(q.buf) {
		q.grow()
	}
	slot := &q.buf[(q.head+q.n)&(len(q.buf)-1)]
	q.n++
	q.bytes += size
	return slot
}

func (q *queue) grow() {
	size := 2 * len(q.buf)
	if size == 0 {
		size = initialRing
	}
	nb := make([]Item, size)
	if q.n > 0 {
		k := copy(nb, q.buf[q.head:])
		if k < q.n {
			copy(nb[k:], q.buf[:q.n-k])
		}
	}
	q.buf, q.head = nb, 0
}

// popOldest removes the oldest item and returns it.
func (q *queue) popOldest() Item {
	it := q.buf[q.head]
	q.buf[q.head] = Item{} // release its strings
	q.head = (q.head + 1) & (len(q.buf) - 1)
	q.n--
	q.out++
	q.bytes -= itemSize(&it)
	return it
}

// take moves up to maxCount oldest items, weighing at most maxBytes (but at
// least one item), to dst and returns it with their total size.
func (q *queue) take(dst []Item, maxCount, maxBytes int) ([]Item, int) {
	size := 0
	for q.n > 0 && len(dst) < maxCount {
		it := &q.buf[q.head]
		s := itemSize(it)
		if len(dst) > 0 && size+s > maxBytes {
			break
		}
		dst = append(dst, *it)
		if it.Text != "" {
			it.Text = "" // release a long value; keys are shared with the run's key table
		}
		q.head = (q.head + 1) & (len(q.buf) - 1)
		q.n--
		q.out++
		q.bytes -= s
		size += s
	}
	return dst, size
}

// drain removes every item, appending them to dst.
func (q *queue) drain(dst []Item) []Item {
	for q.n > 0 {
		dst = append(dst, q.popOldest())
	}
	return dst
}
