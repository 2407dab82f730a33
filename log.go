package mlerr

import (
	"context"
	"errors"
	"slices"
	"strings"
	"sync/atomic"
	"time"
)

// LogMetrics logs one point per metric of m at step, stamped with the
// current time. It checks every entry against the run's rules (see Rules:
// the backend's, MLflow's by default), queues the valid ones and returns
// without waiting for the network.
//
// Entries the rules refuse are not logged: always an invalid key (see
// Rules.ValidateKey), and under stricter rules a NaN or infinite value, a step
// lower than the metric's latest, a timestamp before the latest point's at
// the same step. The call returns an *Error naming each of them, of their
// kind when they share one (ErrStepNotIncreasing, say) and of kind
// ErrInvalidValue otherwise; errors.Is(err, ErrStepNotIncreasing) holds
// when any entry had that fault, and its cause is a *BatchError[Item] of
// exactly the entries rejected (indexed by their key's rank in m's sorted
// keys). The same error goes to OnError. The valid rest is logged.
//
// A point identical to its metric's latest (same value, time and step) is
// not logged again (Report.Duplicates); under Rules.SkipRepeatedPoint, one
// with the latest point's step and value is not either, and goes to
// OnWarning as ErrDuplicatePoint. Neither is an error.
//
// When the queue is full the full policy decides (WithFullPolicy); under
// Block the call waits, at most the policy's maximum wait. After Close or
// Terminate it returns an error of kind ErrClosed.
func (r *Run) LogMetrics(step int64, m map[string]float64) error {
	return r.logMetrics(context.Background(), step, time.Time{}, m)
}

// LogMetric logs one point, key = value at step, stamped now: LogMetrics
// for the common case of one metric, with the same checks and errors.
func (r *Run) LogMetric(key string, value float64, step int64) error {
	now := r.clock.Now()
	if r.solePoint(nil, key, value, step, now, now) {
		return nil
	}
	return r.logPoint(key, value, step, now)
}

// logPoint is LogMetric's general path (apart, as logMetrics' is).
func (r *Run) logPoint(key string, value float64, step int64, now time.Time) error {
	c, err := r.begin(context.Background(), 1, func() int { return len(key) + itemOverhead }, now)
	if err != nil {
		return err
	}
	ks := c.log.sole.byKey(key)
	if got := c.metric(ks, key, step, value, now, 0); ks == nil && got != nil {
		c.log.sole.remember(got)
	}
	return r.end(c, nil)
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
// (ErrParamChanged). Keys follow Rules.ValidateKey; a value longer than the
// rules' MaxParamLength is rejected (ErrValueTooLarge), or cut under
// Rules.TruncateLongValues. Errors are reported as by LogMetrics.
func (r *Run) LogParams(params map[string]string) error {
	return r.logTexts(context.Background(), ItemParam, params)
}

// LogParamsContext is LogParams whose wait for room under the Block full
// policy also ends when ctx is done; ctx plays no other part.
func (r *Run) LogParamsContext(ctx context.Context, params map[string]string) error {
	return r.logTexts(ctx, ItemParam, params)
}

// SetTags sets tags, which may be overwritten (setting a tag to its current
// value is a no-op). Keys follow Rules.ValidateKey; a value longer than the
// rules' MaxTagLength is rejected (ErrValueTooLarge), or cut under
// Rules.TruncateLongValues. Errors are reported as by LogMetrics.
func (r *Run) SetTags(tags map[string]string) error {
	return r.logTexts(context.Background(), ItemTag, tags)
}

// SetTagsContext is SetTags whose wait for room under the Block full policy
// also ends when ctx is done; ctx plays no other part.
func (r *Run) SetTagsContext(ctx context.Context, tags map[string]string) error {
	return r.logTexts(ctx, ItemTag, tags)
}

// LogItems logs metric points, params and tags in the given order, for SDKs
// that build Items themselves; a metric point with a zero Time is stamped
// now. Entries are validated as by LogMetrics, LogParams and SetTags;
// rejected ones are indexed by their position in items. ctx bounds a wait
// under the Block full policy.
func (r *Run) LogItems(ctx context.Context, items []Item) error {
	now := r.clock.Now()
	staged := r.stageItems(items, now)
	c, err := r.begin(ctx, len(items), func() (need int) {
		for i := range items {
			need += itemSize(&items[i])
		}
		return need
	}, now)
	if err != nil {
		staged.discard()
		return err
	}
	next := 0 // the next staged artifact
	for i := range items {
		next = c.item(items[i], i, staged, next)
	}
	return r.end(c, nil)
}

// logMetrics is LogMetrics and its variants (a zero ts means now): a call
// of one point tries the fast path, the others take the general one
// (logPoints). Apart, the fast attempt does not pay for the general path's
// frame: BenchmarkLogMetrics1Key, 12 interleaved rounds, 1.65x
// BenchmarkBaselineMutexAppendNow against 1.81x with both in one function.
func (r *Run) logMetrics(ctx context.Context, step int64, ts time.Time, m map[string]float64) error {
	now := r.clock.Now()
	if ts.IsZero() {
		ts = now
	}
	if len(m) == 1 && r.solePoint(m, "", 0, step, ts, now) {
		return nil
	}
	return r.logPoints(ctx, step, ts, now, m)
}

// logPoints is logMetrics' general path.
func (r *Run) logPoints(ctx context.Context, step int64, ts, now time.Time, m map[string]float64) error {
	c, err := r.begin(ctx, len(m), func() (need int) {
		for k := range m {
			need += len(k) + itemOverhead
		}
		return need
	}, now)
	if err != nil {
		return err
	}
	if len(m) == 1 {
		c.soleMetric(m, step, ts)
	} else {
		for k, v := range m {
			ks := c.log.memo.find(k)
			if got := c.metric(ks, k, step, v, ts, -1); ks == nil && got != nil {
				c.log.memo.remember(got)
			}
		}
	}
	return r.end(c, func() { indexByKey(c.rej, m) })
}

func (r *Run) logTexts(ctx context.Context, kind ItemKind, m map[string]string) error {
	now := r.clock.Now()
	c, err := r.begin(ctx, len(m), func() (need int) {
		for k, v := range m {
			need += len(k) + len(v) + itemOverhead
		}
		return need
	}, now)
	if err != nil {
		return err
	}
	for k, v := range m {
		c.text(kind, k, v, -1)
	}
	return r.end(c, func() { indexByKey(c.rej, m) })
}

// logSide is the log calls' side of a Run: the admitter and what one call
// gathers. A log call holds the outbox's lock while it admits and queues its
// entries (see pusher), so that entries reach the outbox in the order they
// were admitted, with one lock per call: that lock guards the log side too.
type logSide struct {
	adm  *admitter
	sole soleKeys // the keys of one-entry calls
	memo keyMemo  // the keys of calls with several
	call logCall  // the call holding the lock

	invalid    atomic.Int64 // entries rejected by log calls
	duplicates atomic.Int64 // points not logged: repeating their metric's latest
}

// logCall is one log call's pass through the log side: its push to the
// outbox and the entries it rejected.
type logCall struct {
	log  *logSide
	ev   *events
	now  time.Time
	p    pusher
	full error // why the Block policy refused the call, or nil
	n    int   // entries given
	rej  []Failure[Item]
}

// begin starts a log call of n entries: it refuses it when the run is
// closed, reserves room for need() bytes under the Block policy (need is
// not called otherwise), and opens the push to the outbox, whose lock the
// call holds until end.
func (r *Run) begin(ctx context.Context, n int, need func() int, now time.Time) (*logCall, error) {
	if err := r.out.closedFast(); err != nil {
		return nil, err
	}
	var res reservation
	var full error
	if r.cfg.full.mode == fullBlock {
		if res, full = r.reserve(ctx, n, need(), now); full != nil && !errors.Is(full, ErrQueueFull) {
			return nil, full // closed while waiting
		}
	}
	c := &r.log.call
	if err := r.out.open(&c.p, res, full, now); err != nil {
		return nil, err
	}
	c.now, c.full, c.n = now, full, n
	return c, nil
}

// reserve waits, under the Block policy, for room for n entries weighing
// size bytes, while ctx (nil: no end) lasts; see outbox.reserve.
func (r *Run) reserve(ctx context.Context, n, size int, now time.Time) (reservation, error) {
	if ctx == nil {
		ctx = context.Background()
	}
	return r.out.reserve(ctx, n, size, now)
}

// end finishes a log call: the rejected entries are reported (index, when
// not nil, sets their Index), then the push ends and the lock is released.
func (r *Run) end(c *logCall, index func()) error {
	err := c.full
	if c.rej != nil {
		if index != nil {
			index()
		}
		c.log.invalid.Add(int64(len(c.rej)))
		rejErr := rejectedError(c.rej, c.n)
		c.rej = nil
		c.ev.emit(onError, rejErr, c.now)
		if err == nil {
			err = rejErr
		}
	}
	c.p.close()
	return err
}

// soleMetric admits the entry of a one-entry map, finding its key among
// the remembered ones when it can (see soleKeys).
func (c *logCall) soleMetric(m map[string]float64, step int64, ts time.Time) {
	if k, v, ks, ok := c.log.sole.find(m); ok {
		c.metric(ks, k, step, v, ts, -1)
		return
	}
	for k, v := range m {
		if ks := c.metric(nil, k, step, v, ts, -1); ks != nil {
			c.log.sole.remember(ks)
		}
	}
}

// metric admits one point (ks: its key's state, if known). It returns the
// key's state, or nil for an invalid key.
func (c *logCall) metric(ks *keyState, key string, step int64, v float64, ts time.Time, index int) *keyState {
	ks, verdict, e := c.log.adm.metric(ks, key, step, v, ts.UnixNano())
	switch verdict {
	case admitted:
		if s := c.p.slot(len(ks.key)+itemOverhead, ItemMetric); s != nil {
			setPoint(s, ks.key, v, step, ts)
		} else {
			c.p.dropNew(&Item{Kind: ItemMetric, Key: ks.key, Value: v, Step: step, Time: ts})
		}
	case duplicate:
		c.log.duplicates.Add(1)
		c.ev.emit(onWarning, e, c.now)
	case identical:
		c.log.duplicates.Add(1)
	case rejected:
		c.reject(Item{Kind: ItemMetric, Key: key, Value: v, Step: step, Time: ts}, index, e)
	}
	return ks
}

// text admits one param or tag.
func (c *logCall) text(kind ItemKind, key, value string, index int) {
	ks, v, verdict, e := c.log.adm.text(kind, key, value)
	switch verdict {
	case truncated:
		c.ev.emit(onWarning, e, c.now)
		fallthrough
	case admitted:
		c.p.add(&Item{Kind: kind, Key: ks.key, Text: v, Time: c.now})
	case rejected:
		c.reject(Item{Kind: kind, Key: key, Text: value, Time: c.now}, index, e)
	}
}

// reject records an entry the call rejects.
func (c *logCall) reject(it Item, index int, bad *Error) {
	c.rej = append(c.rej, Failure[Item]{Item: it, Index: index, Reason: reasonOfKind(bad.Kind()), Code: bad.Code(), Time: c.now, Cause: bad})
}

// reasonOfKind is the Failure.Reason of a validation fault.
func reasonOfKind(k *Kind) string {
	if r, ok := validationReasons[k]; ok {
		return r
	}
	return "invalid entry"
}

// validationReasons are the Failure.Reasons of the validation faults.
var validationReasons = map[*Kind]string{
	ErrInvalidName:         "invalid key",
	ErrNonFiniteValue:      "non-finite value",
	ErrStepNotIncreasing:   "step not increasing",
	ErrTimestampDecreasing: "timestamp decreasing",
	ErrValueTooLarge:       "value too large",
	ErrTypeMismatch:        "key type mismatch",
	ErrParamChanged:        "param changed",
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

// item admits an item of LogItems, at index in the items; next is the
// number of its staged copy when it is an artifact, and item returns the
// next one's.
func (c *logCall) item(it Item, index int, staged *stager, next int) int {
	switch it.Kind {
	case ItemMetric:
		if it.Time.IsZero() {
			it.Time = c.now
		}
		c.metric(nil, it.Key, it.Step, it.Value, it.Time, index)
	case ItemParam, ItemTag:
		c.text(it.Kind, it.Key, it.Text, index)
	case ItemArtifact:
		return c.artifact(staged, next, index)
	default:
		c.reject(it, index, ErrInvalidValue.Errorf("item %d: unknown kind %d", index, it.Kind))
	}
	return next
}

// stageItems copies the files of the artifact items among items (their
// Text, as LogArtifact does), before the call takes any lock; their
// results come in the order of the items.
func (r *Run) stageItems(items []Item, now time.Time) *stager {
	s := &stager{area: &r.staging, now: now}
	_, ok := r.backend.(ArtifactBackend)
	for i := range items {
		it := &items[i]
		switch {
		case it.Kind != ItemArtifact:
		case !ok:
			s.refuse(it.Text, it.Key, CodeNotImplemented, ErrNotImplemented.New("the backend stores no artifacts (it is not an mlerr.ArtifactBackend)"))
		case it.Text == "":
			s.refuse("", it.Key, CodeInvalidParameterValue, ErrInvalidValue.New("an artifact item names no local file (Text) to log again"))
		default:
			s.copy(it.Text, it.Key)
		}
	}
	return s
}

// artifact queues the i-th file the stager has (or reports why it was
// refused) as the call's entry at index, and returns the next one's number.
func (c *logCall) artifact(s *stager, i, index int) int {
	st := &s.out[i]
	if st.fail != nil {
		f := *st.fail
		f.Index = index
		c.rej = append(c.rej, f)
		return i + 1
	}
	c.p.add(&st.item)
	return i + 1
}
