package mlerr

import (
	"context"
	"fmt"
	"slices"
	"strings"
	"time"
)

// LogMetrics logs one point per metric of m at step, stamped with the
// current time. It validates every entry, queues the valid ones and returns
// without waiting for the network.
//
// Invalid entries are not logged: a NaN or infinite value (unless
// WithAllowNonFinite), an invalid key (see ValidateKey), a step lower than
// the metric's latest step, a timestamp before the latest point's at the
// same step. The call returns an *Error naming each of them, of their kind
// when they share one (ErrStepNotIncreasing, say) and of kind ErrInvalidValue
// otherwise; errors.Is(err, ErrStepNotIncreasing) holds when any entry had
// that fault, and its cause is a *BatchError[Item] of exactly the entries
// rejected (indexed by their key's rank in m's sorted keys). The same error
// goes to OnError. The valid rest is logged.
//
// A point equal to its metric's latest point (same step, same value) is not
// logged again and goes to OnWarning as ErrDuplicatePoint; it is no error.
//
// When the queue is full the full policy decides (WithFullPolicy); under
// Block the call waits, at most the policy's maximum wait. After Close or
// Terminate it returns an error of kind ErrClosed.
func (r *Run) LogMetrics(step int64, m map[string]float64) error {
	return r.logMetrics(context.Background(), step, time.Time{}, m)
}

// LogMetricsAt is LogMetrics with the points' timestamp given (a zero ts
// means now).
func (r *Run) LogMetricsAt(step int64, ts time.Time, m map[string]float64) error {
	return r.logMetrics(context.Background(), step, ts, m)
}

// LogMetricsContext is LogMetrics whose wait for room under the Block full
// policy also ends when ctx is done; ctx plays no other part.
func (r *Run) LogMetricsContext(ctx context.Context, step int64, m map[string]float64) error {
	return r.logMetrics(ctx, step, time.Time{}, m)
}

// LogParams logs params, which are write-once: a param logged again with
// the same value is a no-op, with another value it is rejected
// (ErrParamChanged). Keys follow ValidateKey; a value longer than
// MaxParamValueLength is rejected (ErrValueTooLarge) unless
// WithTruncateLongValues. Errors are reported as by LogMetrics.
func (r *Run) LogParams(params map[string]string) error {
	return r.logTexts(ItemParam, params)
}

// SetTags sets tags, which may be overwritten (setting a tag to its current
// value is a no-op). Keys follow ValidateKey; a value longer than
// MaxTagValueLength is rejected (ErrValueTooLarge) unless
// WithTruncateLongValues. Errors are reported as by LogMetrics.
func (r *Run) SetTags(tags map[string]string) error {
	return r.logTexts(ItemTag, tags)
}

// LogItems logs metric points, params and tags in the given order, for SDKs
// that build Items themselves; a metric point with a zero Time is stamped
// now. Entries are validated as by LogMetrics, LogParams and SetTags;
// rejected ones are indexed by their position in items. ctx bounds a wait
// under the Block full policy.
func (r *Run) LogItems(ctx context.Context, items []Item) error {
	now := r.clock.Now()
	if err := r.beginCall(ctx, len(items), func() (need int) {
		for i := range items {
			need += itemSize(&items[i])
		}
		return need
	}, now); err != nil {
		return err
	}
	var rej []Failure[Item]
	for i := range items {
		it := items[i]
		var bad *Error
		switch it.Kind {
		case ItemMetric:
			if it.Time.IsZero() {
				it.Time = now
			}
			bad = r.admitMetric(it.Key, it.Step, it.Value, it.Time, it.Time.UnixNano(), now)
		case ItemParam, ItemTag:
			bad = r.admitText(it.Kind, it.Key, it.Text, now)
		default:
			bad = ErrInvalidValue.Errorf("item %d: unknown kind %d", i, it.Kind)
		}
		if bad != nil {
			rej = append(rej, rejection(it, i, bad, now))
		}
	}
	return r.finishCall(rej, len(items), now)
}

func (r *Run) logMetrics(ctx context.Context, step int64, ts time.Time, m map[string]float64) error {
	now := r.clock.Now()
	if ts.IsZero() {
		ts = now
	}
	if err := r.beginCall(ctx, len(m), func() (need int) {
		for k := range m {
			need += len(k) + itemOverhead
		}
		return need
	}, now); err != nil {
		return err
	}
	var rej []Failure[Item]
	tsNano := ts.UnixNano()
	if k, v, ok := soleEntry(&r.sole, m); ok {
		if bad := r.admitMetric(k, step, v, ts, tsNano, now); bad != nil {
			rej = append(rej, rejection(Item{Kind: ItemMetric, Key: k, Value: v, Step: step, Time: ts}, -1, bad, now))
		}
	} else {
		for k, v := range m {
			if bad := r.admitMetric(k, step, v, ts, tsNano, now); bad != nil {
				rej = append(rej, rejection(Item{Kind: ItemMetric, Key: k, Value: v, Step: step, Time: ts}, -1, bad, now))
			}
			if len(m) == 1 {
				r.sole.remember(mapAddr(m), k)
			}
		}
	}
	if rej != nil {
		indexByKey(rej, m)
	}
	return r.finishCall(rej, len(m), now)
}

func (r *Run) logTexts(kind ItemKind, m map[string]string) error {
	now := r.clock.Now()
	if err := r.beginCall(context.Background(), len(m), func() (need int) {
		for k, v := range m {
			need += len(k) + len(v) + itemOverhead
		}
		return need
	}, now); err != nil {
		return err
	}
	var rej []Failure[Item]
	for k, v := range m {
		if bad := r.admitText(kind, k, v, now); bad != nil {
			rej = append(rej, rejection(Item{Kind: kind, Key: k, Text: v, Time: now}, -1, bad, now))
		}
	}
	if rej != nil {
		indexByKey(rej, m)
	}
	return r.finishCall(rej, len(m), now)
}

// beginCall starts a log call of n entries: it locks the run, refuses the
// call when the run is closing and, under the Block policy, waits for room
// for need() bytes (need is not called otherwise). It returns with mu held,
// or unlocked with the call's error.
func (r *Run) beginCall(ctx context.Context, n int, need func() int, now time.Time) error {
	r.lock()
	if r.closing {
		err := r.closedErr
		r.mu.Unlock()
		return err
	}
	if r.cfg.full.mode == fullBlock {
		if err := r.waitRoom(ctx, n, need(), now); err != nil {
			r.mu.Unlock()
			return err
		}
	}
	return nil
}

// finishCall ends a log call, with mu held, and unlocks it: it writes the
// call's spilled entries to the spool, wakes the sender when a batch is
// ready and reports the rejected entries.
func (r *Run) finishCall(rej []Failure[Item], total int, now time.Time) error {
	if len(r.spillBuf) > 0 {
		r.spill(now)
	}
	if !r.batchSignalled && (r.q.n >= r.cfg.batchItems || r.q.bytes >= r.cfg.batchBytes) {
		r.batchSignalled = true
		r.signal()
	}
	if rej == nil {
		r.mu.Unlock()
		return nil
	}
	err := rejectedError(rej, total)
	r.stats.drops.Invalid += int64(len(rej))
	r.emit(onError, err, now)
	r.mu.Unlock()
	return err
}

// useKey returns the state of key for an entry of kind, creating it for a
// new valid key, or the error that rejects the entry. Called with mu held.
func (r *Run) useKey(key string, kind ItemKind) (*keyState, *Error) {
	ks := r.keys[key]
	if ks == nil {
		if why := keyProblem(key); why != "" {
			return nil, ErrInvalidName.Errorf("%s key %s: %s", kind, quoteKey(key), why)
		}
		ks = &keyState{key: strings.Clone(key)}
		r.keys[ks.key] = ks
	}
	bit := uint8(1) << kind
	if ks.kinds&bit == 0 {
		if r.cfg.typeCheck && ks.kinds != 0 {
			return nil, ErrTypeMismatch.Errorf("%s key %s: the key is already used as a %s", kind, quoteKey(key), ks.firstKind())
		}
		ks.kinds |= bit
	}
	return ks, nil
}

// Flags of keyState.kinds beside the bits of the kinds used.
const (
	paramSet uint8 = 1 << 6 // the param's value is known
	tagSet   uint8 = 1 << 7 // the tag's latest value is known
)

// firstKind names a kind the key was used as.
func (ks *keyState) firstKind() ItemKind {
	for k := ItemMetric; k <= ItemTag; k++ {
		if ks.kinds&(1<<k) != 0 {
			return k
		}
	}
	return 0
}

// admitMetric validates a point and queues it, or returns why it is
// rejected. Called with mu held. It is the hot path: no allocation unless
// the key is new or the point is rejected.
func (r *Run) admitMetric(key string, step int64, v float64, ts time.Time, tsNano int64, now time.Time) *Error {
	ks := r.lookup(key)
	if ks == nil || ks.kinds&(1<<ItemMetric) == 0 {
		var bad *Error
		if ks, bad = r.useKey(key, ItemMetric); bad != nil {
			return bad
		}
	}
	if !r.cfg.allowNonFinite && !finite(v) {
		return ErrNonFiniteValue.Errorf("metric %s: value %v is not finite (allow NaN and ±Inf with WithAllowNonFinite)", quoteKey(key), v)
	}
	if ks.point {
		if step < ks.step {
			return ErrStepNotIncreasing.Errorf("metric %s: step %d is lower than its latest step %d", quoteKey(key), step, ks.step)
		}
		if step == ks.step {
			if sameValue(v, ks.value) {
				r.stats.duplicates++
				r.emit(onWarning, ErrDuplicatePoint.Errorf("metric %s: the point (step %d, value %v) equals the latest one; not sent again", quoteKey(key), step, v).
					WithDetail("key", ks.key).WithDetail("step", step), now)
				return nil
			}
			if tsNano < ks.tsNano {
				return ErrTimestampDecreasing.Errorf("metric %s: timestamp %s is before the latest point's %s at step %d",
					quoteKey(key), ts.UTC().Format(time.RFC3339Nano), time.Unix(0, ks.tsNano).UTC().Format(time.RFC3339Nano), step)
			}
		}
	}
	ks.point, ks.step, ks.value, ks.tsNano = true, step, v, tsNano
	if slot := r.reserve(len(ks.key)+itemOverhead, now); slot != nil {
		*slot = Item{Kind: ItemMetric, Key: ks.key, Value: v, Step: step, Time: ts}
	}
	return nil
}

// admitText validates a param or tag and queues it, or returns why it is
// rejected. Called with mu held.
func (r *Run) admitText(kind ItemKind, key, value string, now time.Time) *Error {
	ks, bad := r.useKey(key, kind)
	if bad != nil {
		return bad
	}
	if limit := textLimit(kind); tooLong(value, limit) {
		if !r.cfg.truncate {
			return ErrValueTooLarge.Errorf("%s %s: the value has %d characters, the limit is %d", kind, quoteKey(key), len([]rune(value)), limit)
		}
		value = truncate(value, limit)
		r.emit(onWarning, ErrValueTruncated.Errorf("%s %s: the value was truncated to %d characters", kind, quoteKey(key), limit).
			WithDetail("key", ks.key), now)
	}
	switch kind {
	case ItemParam:
		if ks.kinds&paramSet != 0 {
			if ks.param == value {
				return nil
			}
			return ErrParamChanged.Errorf("param %s: already logged as %q, now %q; params are write-once", quoteKey(key), shorten(ks.param), shorten(value))
		}
		ks.param = strings.Clone(value)
		ks.kinds |= paramSet
		value = ks.param
	case ItemTag:
		if ks.kinds&tagSet != 0 && ks.tag == value {
			return nil
		}
		ks.tag = strings.Clone(value)
		ks.kinds |= tagSet
		value = ks.tag
	}
	it := Item{Kind: kind, Key: ks.key, Text: value, Time: now}
	r.enqueue(&it, now)
	return nil
}

// enqueue queues a valid item under the full policy. Called with mu held.
func (r *Run) enqueue(it *Item, now time.Time) {
	if slot := r.reserve(itemSize(it), now); slot != nil {
		*slot = *it
	}
}

// reserve makes room under the full policy for a valid item weighing size
// bytes (see itemSize) and returns the slot the caller writes it to, at
// the queue's tail or in the call's spill buffer; or nil when the policy
// drops it. Called with mu held.
func (r *Run) reserve(size int, now time.Time) *Item {
	switch r.cfg.full.mode {
	case fullDropOldest:
		dropped := 0
		for r.q.full(size) {
			r.q.dropOldest()
			dropped++
		}
		if dropped > 0 {
			r.settle(dropped)
			r.queueFullDrop(dropped, now)
		}
	case fullDropNewest:
		if r.q.full(size) {
			r.queueFullDrop(1, now)
			return nil
		}
	case fullSpill:
		if r.spoolDead {
			break
		}
		if r.spooled > 0 || len(r.spillBuf) > 0 || r.q.full(size) {
			r.spillBuf = append(r.spillBuf, Item{})
			return &r.spillBuf[len(r.spillBuf)-1]
		}
	}
	// fullBlock: waitRoom made room for the whole call (or the queue was
	// empty); the spool when dead: the queue takes it, dropping the oldest.
	if r.cfg.full.mode == fullSpill {
		for r.q.full(size) {
			r.q.dropOldest()
			r.settle(1)
			r.queueFullDrop(1, now)
		}
	}
	r.accepted++
	return r.q.pushSlot(size)
}

// spill writes the call's spilled entries to the spool. Called with mu held.
func (r *Run) spill(now time.Time) {
	items := r.spillBuf
	r.spillBuf = r.spillBuf[:0]
	err := pushSpool(r.cfg.full.spool, items)
	if err == nil {
		r.spooled += len(items)
		r.accepted += int64(len(items))
		clear(items)
		r.signal()
		return
	}
	failures := make([]Failure[Item], len(items))
	for i := range items {
		failures[i] = Failure[Item]{Item: items[i], Index: i, Reason: "spool write failed: " + err.Error(), Time: now, Cause: err}
	}
	r.stats.drops.SpillFailed += int64(len(items))
	r.addFailed(items)
	clear(items)
	r.emit(onError, Wrap(NewBatchError(len(items), failures), CodeOf(err),
		fmt.Sprintf("the spool refused %d items: they are lost", len(items))), now)
}

// queueFullDrop counts n items dropped by the full policy and reports them,
// coalesced. Called with mu held.
func (r *Run) queueFullDrop(n int, now time.Time) {
	r.stats.drops.QueueFull += int64(n)
	r.fullDrops += int64(n)
	if now.Sub(r.fullLast) >= QueueFullInterval {
		r.emitQueueFull(now)
	}
}

// emitQueueFull reports the drops and waits since the last report. Called
// with mu held.
func (r *Run) emitQueueFull(now time.Time) {
	var err *Error
	limits := fmt.Sprintf("queue full (%d items, %d bytes; policy %s)", r.q.maxItems, r.q.maxBytes, r.cfg.full)
	switch {
	case r.fullDrops > 0 && r.fullWaited > 0:
		err = ErrQueueFull.Errorf("%s: %d items dropped and callers waited %s", limits, r.fullDrops, r.fullWaited)
	case r.fullDrops > 0:
		err = ErrQueueFull.Errorf("%s: %d items dropped", limits, r.fullDrops)
	default:
		err = ErrQueueFull.Errorf("%s: callers waited %s", limits, r.fullWaited)
	}
	err = err.WithDetail("dropped", r.fullDrops).WithDetail("waited_ms", r.fullWaited.Milliseconds()).
		WithDetail("policy", r.cfg.full.String())
	if !r.fullLast.IsZero() {
		err = err.WithDetail("since", r.fullLast)
	}
	r.fullDrops, r.fullWaited, r.fullLast = 0, 0, now
	r.emit(onQueueFull, err, now)
}

// waitRoom waits, under the Block policy, until n items weighing size bytes
// fit in the queue (or it is empty), and returns nil; or returns the error
// of kind ErrQueueFull (or ErrClosed) that drops the call. Called with mu
// held; it releases it while waiting.
func (r *Run) waitRoom(ctx context.Context, n, size int, now time.Time) error {
	fits := func() bool {
		return r.q.n == 0 || r.q.n+n <= r.q.maxItems && r.q.bytes+size <= r.q.maxBytes
	}
	if fits() {
		return nil
	}
	var done <-chan struct{}
	if ctx != nil {
		done = ctx.Done()
	}
	var timeout <-chan time.Time
	if d := r.cfg.full.maxWait; d > 0 {
		t := time.NewTimer(d)
		defer t.Stop()
		timeout = t.C
	}
	start := time.Now()
	var why string
	for !fits() && why == "" {
		if r.closing {
			return r.closedErr
		}
		if r.spaceCh == nil {
			r.spaceCh = make(chan struct{})
		}
		ch := r.spaceCh
		r.mu.Unlock()
		select {
		case <-ch:
		case <-done:
			why = "the caller's context ended: " + ctx.Err().Error()
		case <-timeout:
			why = "the wait reached its maximum of " + r.cfg.full.maxWait.String()
		}
		r.mu.Lock()
	}
	waited := time.Since(start)
	r.fullWaited += waited
	if why == "" {
		if now.Sub(r.fullLast) >= QueueFullInterval {
			r.emitQueueFull(now)
		}
		return nil
	}
	r.stats.drops.QueueFull += int64(n)
	r.fullDrops += int64(n)
	r.emitQueueFull(r.clock.Now())
	return ErrQueueFull.Errorf("queue full: %d entries dropped after waiting %s: %s", n, waited.Round(time.Microsecond), why).
		WithDetail("dropped", n).WithDetail("waited_ms", waited.Milliseconds())
}

// rejection is the failure of an entry rejected by validation.
func rejection(it Item, index int, bad *Error, now time.Time) Failure[Item] {
	return Failure[Item]{Item: it, Index: index, Reason: reasonOfKind(bad.Kind()), Code: bad.Code(), Time: now, Cause: bad}
}

// reasonOfKind is the Failure.Reason of a validation fault.
func reasonOfKind(k *Kind) string {
	switch k {
	case ErrInvalidName:
		return "invalid key"
	case ErrNonFiniteValue:
		return "non-finite value"
	case ErrStepNotIncreasing:
		return "step not increasing"
	case ErrTimestampDecreasing:
		return "timestamp decreasing"
	case ErrValueTooLarge:
		return "value too large"
	case ErrTypeMismatch:
		return "key type mismatch"
	case ErrParamChanged:
		return "param changed"
	}
	return "invalid entry"
}

// indexByKey sets each failure's Index to its key's rank among m's sorted
// keys, a stable position in a map.
func indexByKey[V any](rej []Failure[Item], m map[string]V) {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	for i := range rej {
		rej[i].Index, _ = slices.BinarySearch(keys, rej[i].Item.Key)
	}
}

// rejectedError is the error of a log call that rejected entries: an *Error
// naming each, of their common kind (else ErrInvalidValue), caused by the
// *BatchError[Item] of the rejected entries.
func rejectedError(rej []Failure[Item], total int) error {
	kind := AsError(rej[0].Cause).Kind()
	var b strings.Builder
	for i := range rej {
		e := AsError(rej[i].Cause)
		if e.Kind() != kind {
			kind = ErrInvalidValue
		}
		if i > 0 {
			b.WriteString("; ")
		}
		b.WriteString(e.Message())
	}
	be := NewBatchError(total, rej)
	return newError(CodeInvalidParameterValue, kind, b.String(), be)
}

// addFailed keeps lost items for the Report, up to its bound. Called with mu
// held.
func (r *Run) addFailed(items []Item) {
	if room := maxReportItems - len(r.failedItems); room > 0 {
		r.failedItems = append(r.failedItems, items[:min(room, len(items))]...)
	}
}
