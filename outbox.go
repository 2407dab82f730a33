package mlerr

import (
	"context"
	"fmt"
	"strings"
	"sync"
	"sync/atomic"
	"time"
)

// outbox holds the items admitted by the log calls until the sender takes
// them: the bounded in-memory queue, the spool (under the Spill policy) and
// the full policy that decides what happens when the queue is full. It owns
// the accounting of what it took in and what it dropped, and reports its
// drops to OnQueueFull, coalesced to one event per queueFullInterval.
//
// Its mutex guards everything below it. The log side pushes under the
// outbox's lock (holding its own, so that items are queued in the order
// they were admitted); the sender takes batches under it. Every item that
// enters the queue or the spool gets the next ordinal: items leave in
// ordinal order (the queue before the spool, the oldest first), which is
// what lets Wait know when everything before it has been dealt with.
type outbox struct {
	policy             FullPolicy
	maxItems, maxBytes int
	wake               chan<- struct{}
	ev                 *events
	fullReason         string     // the Failure.Reason of an item the policy dropped
	dropStaged         func(Item) // removes a dropped artifact's staged copy

	mu        sync.Mutex
	q         queue
	spooled   int    // items in the spool
	spoolOut  int    // of them, the items of the spool's batch being sent
	spoolDead bool   // the spool failed to read: no more spilling or taking
	unread    int    // items left in the spool when it failed to read
	spill     []Item // the items of the current push going to the spool

	closed    bool                  // log calls fail with closedErr
	closedErr error                 //
	shut      atomic.Pointer[error] // closedErr, for a check without the lock
	space     chan struct{}
	reserved  int // items and bytes reserved by Block callers, not yet pushed
	resBytes  int //

	logged      int64        // items admitted, dropped ones included (Report.Logged)
	enqueued    int64        // ordinals given: items that entered the queue or the spool
	head        atomic.Int64 // the ordinal of the oldest item still here (written under mu)
	queueFull   int64        // items dropped by the full policy
	spillFailed int64        // items the spool refused
	spillLost   []Item       // the first maxReportItems of them, for the Report
	full        fullRecord
}

// fullRecord is what the next OnQueueFull event reports: the items dropped
// and the time callers waited since the last one.
type fullRecord struct {
	lost   lossRecord
	waited time.Duration
	last   time.Time // when the last event was posted
}

func newOutbox(cfg *runConfig, wake chan<- struct{}, ev *events) *outbox {
	o := &outbox{
		policy:     cfg.full,
		maxItems:   cfg.maxItems,
		maxBytes:   cfg.maxBytes,
		wake:       wake,
		ev:         ev,
		q:          queue{maxItems: cfg.maxItems, maxBytes: cfg.maxBytes, batchItems: cfg.batchItems, batchBytes: cfg.batchBytes},
		fullReason: "queue full (" + cfg.full.String() + ")",
		dropStaged: func(Item) {},
	}
	if o.policy.mode == fullSpill {
		// Items a spool holds already are this run's, logged before: they go
		// first.
		o.spooled = o.policy.spool.Len()
		o.logged = int64(o.spooled)
		o.enqueued = int64(o.spooled)
	}
	return o
}

// closedError returns the error log calls fail with, or nil while the
// outbox is open.
func (o *outbox) closedError() error {
	o.mu.Lock()
	defer o.mu.Unlock()
	return o.closedErr
}

// closedFast is closedError without the lock, for the log calls' first
// check; push checks again under the lock.
func (o *outbox) closedFast() error {
	if p := o.shut.Load(); p != nil {
		return *p
	}
	return nil
}

// tail returns the ordinal the next item will get: the items queued so far.
func (o *outbox) tail() int64 {
	o.mu.Lock()
	defer o.mu.Unlock()
	return o.enqueued
}

// headOrdinal returns the ordinal of the oldest item still here (tail when
// empty), without the lock: the sender reads it after every batch.
func (o *outbox) headOrdinal() int64 {
	return o.head.Load()
}

// close makes log calls fail with err from now on (the first error given
// stays) and ends the waits of Block callers.
func (o *outbox) close(err error) {
	o.mu.Lock()
	defer o.mu.Unlock()
	if !o.closed {
		o.closed, o.closedErr = true, err
		o.shut.Store(&err)
	}
	o.roomMade()
}

// roomMade wakes the Block callers waiting for room. Called with mu held.
func (o *outbox) roomMade() {
	if o.space != nil {
		close(o.space)
		o.space = nil
	}
}

// reservation is room in the queue that a Block caller waited for.
type reservation struct{ items, bytes int }

// reserve waits, under the Block policy, until n items weighing size bytes
// fit in the queue beside what is queued and reserved (or both are empty),
// and reserves the room. It returns the error that refuses the call when
// the wait ends without room (ErrQueueFull: the caller's context, the
// policy's maximum wait) or the outbox closes (ErrClosed).
func (o *outbox) reserve(ctx context.Context, n, size int, now time.Time) (reservation, error) {
	o.mu.Lock()
	defer o.mu.Unlock()
	if o.closed {
		return reservation{}, o.closedErr
	}
	if o.fits(n, size) {
		return o.book(n, size), nil
	}
	waited, why := o.waitRoom(ctx, n, size)
	o.full.waited += waited
	switch {
	case o.closed:
		return reservation{}, o.closedErr
	case why != "":
		return reservation{}, ErrQueueFull.Errorf("queue full: %d entries dropped after waiting %s: %s", n, waited.Round(time.Microsecond), why).
			WithDetail("dropped", n).WithDetail("waited_ms", waited.Milliseconds())
	}
	o.reportFullDue(now, false)
	return o.book(n, size), nil
}

// fits reports whether n items weighing size bytes fit. Called with mu held.
func (o *outbox) fits(n, size int) bool {
	items, bytes := o.q.n+o.reserved, o.q.bytes+o.resBytes
	return items == 0 || items+n <= o.maxItems && bytes+size <= o.maxBytes
}

// book reserves room. Called with mu held.
func (o *outbox) book(n, size int) reservation {
	o.reserved += n
	o.resBytes += size
	return reservation{n, size}
}

// waitRoom waits for room, releasing mu meanwhile, until it fits, the
// outbox closes, ctx is done or the policy's maximum wait is over. It
// returns how long it waited and, when it gave up, why. Called with mu
// held.
func (o *outbox) waitRoom(ctx context.Context, n, size int) (time.Duration, string) {
	var timeout <-chan time.Time
	if d := o.policy.maxWait; d > 0 {
		t := time.NewTimer(d)
		defer t.Stop()
		timeout = t.C
	}
	start := time.Now()
	for !o.fits(n, size) && !o.closed {
		if why := o.waitSpace(ctx, timeout); why != "" {
			return time.Since(start), why
		}
	}
	return time.Since(start), ""
}

// waitSpace waits, releasing mu, until room is made, ctx is done or timeout
// fires, and says why it gave up ("" when room was made). Called with mu
// held.
func (o *outbox) waitSpace(ctx context.Context, timeout <-chan time.Time) string {
	if o.space == nil {
		o.space = make(chan struct{})
	}
	space := o.space
	o.mu.Unlock()
	defer o.mu.Lock()
	select {
	case <-space:
		return ""
	case <-ctx.Done():
		return "the caller's context ended: " + ctx.Err().Error()
	case <-timeout:
		return "the wait reached its maximum of " + o.policy.maxWait.String()
	}
}

// pusher is one log call's access to the outbox. open takes the outbox's
// lock for the whole call: the log side admits its entries under it and
// adds them one by one, so that entries are queued in the order they were
// admitted, with one lock per call; close releases it.
type pusher struct {
	o        *outbox
	now      time.Time
	refused  error // why the Block policy refused the call: its entries are dropped
	reserved bool
}

// open starts a log call's push in p and takes the outbox's lock, which
// the caller holds until p.close. res is the room a Block caller reserved
// (now used), refused the error that refused it. Once the outbox is closed
// it takes nothing: open returns the closed error, without the lock.
func (o *outbox) open(p *pusher, res reservation, refused error, now time.Time) error {
	o.mu.Lock()
	o.reserved -= res.items
	o.resBytes -= res.bytes
	if o.closed {
		o.roomMade()
		o.mu.Unlock()
		return o.closedErr
	}
	p.o, p.now, p.refused, p.reserved = o, now, refused, res.items > 0
	return nil
}

// slot makes room under the full policy for an item of kind the call
// admitted, weighing size bytes (see itemSize), and returns where the
// caller writes it: the queue's tail, or the call's spill buffer. It
// returns nil when the policy drops the item (DropNewest, or a Block call
// refused): the caller then hands it to dropNew.
func (p *pusher) slot(size int, kind ItemKind) *Item {
	o := p.o
	o.logged++
	if p.refused != nil {
		return nil
	}
	switch o.policy.mode {
	case fullBlock:
		// The caller reserved room, or the queue was empty: an item larger
		// than the limits is not refused forever.
	case fullDropNewest:
		if o.q.full(size) {
			return nil
		}
	case fullSpill:
		if s := o.spillSlot(size); s != nil {
			return s
		}
		o.dropOldest(size, p.now) // the spool is dead: as DropOldest
	default:
		o.dropOldest(size, p.now)
	}
	o.enqueued++
	return o.q.pushSlot(size, kind)
}

// spillSlot returns a slot in the call's spill buffer when the item goes to
// the spool (while the spool holds items, every new one goes there too, so
// that order is kept), or nil when the spool is dead or the queue has room.
// Called with mu held.
func (o *outbox) spillSlot(size int) *Item {
	if o.spoolDead || o.spooled == 0 && len(o.spill) == 0 && !o.q.full(size) {
		return nil
	}
	o.spill = append(o.spill, Item{})
	return &o.spill[len(o.spill)-1]
}

// dropNew counts and records an item slot refused.
func (p *pusher) dropNew(it *Item) {
	o := p.o
	o.discard(it)
	o.queueFull++
	o.full.lost.add1(it, o.fullReason, CodeResourceExhausted, p.refused, p.now)
	if p.refused == nil {
		o.reportFullDue(p.now, false) // a refused call reports at close
	}
}

// add takes an item the call admitted, under the full policy.
func (p *pusher) add(it *Item) {
	if s := p.slot(itemSize(it), it.Kind); s != nil {
		*s = *it
	} else {
		p.dropNew(it)
	}
}

// close ends the push: the call's spilled items go to the spool, the
// sender is woken when a batch is ready (unless a wake-up is pending: one
// per look of the sender at the queue, not one per call), and the lock is
// released.
func (p *pusher) close() {
	o := p.o
	defer o.mu.Unlock()
	if len(o.spill) > 0 {
		o.writeSpill(p.now)
	}
	o.wakeIfReady()
	if p.refused != nil {
		o.reportFullDue(p.now, true)
	}
	if p.reserved {
		o.roomMade() // what the call did not use
	}
}

// push is open, add and close for a slice of items.
func (o *outbox) push(items []Item, res reservation, now time.Time) error {
	var p pusher
	if err := o.open(&p, res, nil, now); err != nil {
		return err
	}
	for i := range items {
		p.add(&items[i])
	}
	p.close()
	return nil
}

// wakeIfReady wakes the sender when a batch is ready and it was not told
// since it last looked (a wake-up is pending). Called with mu held.
func (o *outbox) wakeIfReady() {
	if o.q.ready() && len(o.wake) == 0 {
		o.signal()
	}
}

// signal wakes the sender without blocking.
func (o *outbox) signal() {
	select {
	case o.wake <- struct{}{}:
	default:
	}
}

// dropOldest drops the oldest items until one of size bytes fits. Called
// with mu held.
func (o *outbox) dropOldest(size int, now time.Time) {
	for o.q.full(size) {
		old := o.q.popOldest()
		o.head.Add(1)
		o.dropped(&old, now)
	}
}

// discard lets an item go that will not be sent: an artifact's staged copy
// is removed. The item is passed on by value, so that a dropped point does
// not escape to the heap (one allocation per dropped point otherwise, which
// an outage with a full queue pays on every call).
func (o *outbox) discard(it *Item) {
	if it.Kind == ItemArtifact {
		o.dropStaged(*it)
	}
}

// dropped counts and records a queued item the full policy dropped.
// Called with mu held.
func (o *outbox) dropped(it *Item, now time.Time) {
	o.discard(it)
	o.queueFull++
	o.full.lost.add1(it, o.fullReason, CodeResourceExhausted, nil, now)
	o.reportFullDue(now, false)
}

// writeSpill writes the items of the current push to the spool, in one
// Push. Called with mu held.
func (o *outbox) writeSpill(now time.Time) {
	items := o.spill
	o.spill = o.spill[:0]
	defer clear(items)
	err := pushSpool(o.policy.spool, items)
	if err == nil {
		o.spooled += len(items)
		o.enqueued += int64(len(items))
		o.signal()
		return
	}
	o.spillFailed += int64(len(items))
	for i := range items {
		o.discard(&items[i])
	}
	if room := maxReportItems - len(o.spillLost); room > 0 {
		o.spillLost = append(o.spillLost, items[:min(room, len(items))]...)
	}
	var lost lossRecord
	lost.add(items, "spool write failed: "+err.Error(), CodeOf(err), err, now)
	o.ev.emit(onError, lost.wrap(CodeOf(err), nil, fmt.Sprintf("the spool refused %d items: they are lost", len(items))), now)
}

// reportFullDue posts the OnQueueFull event when something is to be
// reported and the last event is at least queueFullInterval old, or at once
// when now is true. Called with mu held.
func (o *outbox) reportFullDue(now time.Time, force bool) {
	f := &o.full
	if f.lost.n == 0 && f.waited == 0 || !force && now.Sub(f.last) < queueFullInterval {
		return
	}
	err := newError(CodeResourceExhausted, ErrQueueFull, o.fullMessage(), f.lost.batch()).WithDetail("dropped", f.lost.n)
	err = err.WithDetail("waited_ms", f.waited.Milliseconds()).WithDetail("policy", o.policy.String())
	if !f.last.IsZero() {
		err = err.WithDetail("since", f.last)
	}
	f.lost, f.waited, f.last = lossRecord{}, 0, now
	o.ev.emit(onQueueFull, err, now)
}

// fullMessage says what the next OnQueueFull event reports.
func (o *outbox) fullMessage() string {
	f := &o.full
	msg := fmt.Sprintf("queue full (%d items, %d bytes; policy %s): ", o.maxItems, o.maxBytes, o.policy)
	var parts []string
	if f.lost.n > 0 {
		parts = append(parts, fmt.Sprintf("%d items dropped", f.lost.n))
	}
	if f.waited > 0 {
		parts = append(parts, "callers waited "+f.waited.String())
	}
	return msg + strings.Join(parts, " and ")
}

// flushReport posts what the next OnQueueFull event would report, if due
// (all: whatever its age).
func (o *outbox) flushReport(now time.Time, all bool) {
	o.mu.Lock()
	defer o.mu.Unlock()
	o.reportFullDue(now, all)
}

// taken is a batch the sender took, and where from.
type taken struct {
	items     []Item   // seg's items
	seg       *segment // theirs: the sender's until it gives it back (take's spent)
	first     int64    // the ordinal of items[0]
	fromSpool bool     // the items are the spool's oldest: Ack them once done
}

// take gives back the segments of the batches the sender is done with
// (spent: nothing may use their items any more), and takes the next batch
// when a full one is ready, or anything at all when any is true: the
// queue's oldest segment, else up to a batch's count of the spool's oldest
// items. It returns no items when none is ready, or when the spool fails
// (its items then count as left: reported to OnError and kept in the
// spool). One lock for both, so that the sender takes the lock once per
// batch: each time, it pulls the lock's and the queue's cache lines away
// from the log calls.
func (o *outbox) take(any bool, spent []*segment, now time.Time) taken {
	o.mu.Lock()
	defer o.mu.Unlock()
	for _, seg := range spent {
		o.q.giveBack(seg)
	}
	if !o.readyLocked(any) {
		return taken{first: o.head.Load()}
	}
	first := o.head.Load()
	if seg := o.q.take(); seg != nil {
		items := seg.live()
		o.head.Add(int64(len(items)))
		o.roomMade()
		return taken{items: items, seg: seg, first: first}
	}
	return o.takeSpooled(now)
}

// takeSpooled is take from the spool, once the queue is empty. The spool
// gives its oldest items until they are acknowledged, so it has one batch
// out at a time: none is taken while one is being sent (see done). Called
// with mu held.
func (o *outbox) takeSpooled(now time.Time) taken {
	first := o.head.Load()
	items, err := peekSpool(o.policy.spool, o.q.batchItems)
	if err != nil || len(items) == 0 {
		o.spoolBroken(err, now)
		return taken{first: o.head.Load()}
	}
	o.head.Add(int64(len(items)))
	o.spoolOut = len(items)
	seg := o.q.newSegment()
	seg.items = append(seg.items, items...)
	seg.texts = true
	return taken{items: seg.items, seg: seg, first: first, fromSpool: true}
}

// ready reports whether a full batch is queued, or anything at all when
// any is true.
func (o *outbox) ready(any bool) bool {
	o.mu.Lock()
	defer o.mu.Unlock()
	return o.readyLocked(any)
}

// readyLocked is ready, called with mu held.
func (o *outbox) readyLocked(any bool) bool {
	if o.q.n > 0 {
		return any || o.q.ready()
	}
	return o.spooled > 0 && !o.spoolDead && o.spoolOut == 0
}

// spoolBroken stops using a spool that cannot be read. Its items stay in
// it, unsent; they count as left. Called with mu held.
func (o *outbox) spoolBroken(err error, now time.Time) {
	if err == nil {
		err = New(CodeDataLoss, fmt.Sprintf("the spool says it holds %d items but returned none", o.spooled))
	}
	o.spoolDead = true
	o.unread = o.spooled
	o.head.Add(int64(o.spooled))
	o.ev.emit(onError, ErrSynchronizationStopped.Wrap(err,
		fmt.Sprintf("the spool cannot be read: its %d items stay in it, unsent; new items are queued in memory", o.spooled)), now)
}

// done ends a batch the sender took: items from the spool are removed from
// it. It returns an error when the spool could not remove them (they may
// be sent again by a later replay).
func (o *outbox) done(t taken) error {
	if !t.fromSpool {
		return nil
	}
	o.mu.Lock()
	defer o.mu.Unlock()
	o.spooled -= len(t.items)
	o.spoolOut = 0
	return ackSpool(o.policy.spool, len(t.items))
}

// rest takes every item still queued in memory, appending them to dst,
// once the sender stops. Spooled items stay in the spool.
func (o *outbox) rest(dst []Item) []Item {
	o.mu.Lock()
	defer o.mu.Unlock()
	n := o.q.n
	dst = o.q.drain(dst)
	o.head.Add(int64(n))
	o.roomMade()
	return dst
}

// closeSpool closes the spool, if there is one.
func (o *outbox) closeSpool() error {
	if o.policy.mode != fullSpill {
		return nil
	}
	o.mu.Lock()
	defer o.mu.Unlock()
	return o.policy.spool.Close()
}

// outboxStats is a snapshot of the outbox's accounting.
type outboxStats struct {
	queued, queuedBytes, spooled int
	unread                       int // items left in a spool that failed to read
	logged, enqueued, head       int64
	queueFull, spillFailed       int64
	spillLost                    []Item
}

func (o *outbox) stats() outboxStats {
	o.mu.Lock()
	defer o.mu.Unlock()
	s := outboxStats{
		queued: o.q.n, queuedBytes: o.q.bytes, spooled: o.spooled, unread: o.unread,
		logged: o.logged, enqueued: o.enqueued, head: o.head.Load(),
		queueFull: o.queueFull, spillFailed: o.spillFailed, spillLost: o.spillLost,
	}
	if o.spoolDead {
		s.spooled = 0 // they are unread, counted as unsent
	}
	return s
}
