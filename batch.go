package mlerr

import (
	"cmp"
	"reflect"
	"slices"
	"strconv"
	"strings"
	"time"
)

// Failure is one item of a batch that failed: the item itself, where it was
// in the original batch, why it failed (in words and as a code), when, and
// the error that made it fail.
type Failure[T any] struct {
	// Item is the item that failed.
	Item T
	// Index is the item's position in the original batch (0-based).
	Index int
	// Reason says in words why the item failed, such as "asset not found".
	// ByReason and Error group failures by it, so it should name the cause
	// rather than the item.
	Reason string
	// Code is the failure's MLflow code.
	Code Code
	// Time is when the item failed.
	Time time.Time
	// Cause is the error that made the item fail, or nil.
	Cause error
}

// Retryable reports whether the failure's code may succeed when tried again
// (Code.Retryable). As a method expression, Failure[T].Retryable is a filter
// for RetryFailedWhere and BatchError.Where.
func (f Failure[T]) Retryable() bool { return f.Code.Retryable() }

// BatchError reports the items of a batch that failed while the others
// succeeded.
//
// The convention: an operation that partly succeeds returns its partial
// result AND a *BatchError, so nothing that succeeded is lost:
//
//	stored, err := upload(ctx, items) // stored: what succeeded, kept in any case
//	var be *mlerr.BatchError[Item]
//	if errors.As(err, &be) {
//		again, err := mlerr.RetryFailed(ctx, be, func(ctx context.Context, failed []Item) error {
//			_, err := upload(ctx, failed)
//			return err
//		})
//		stored = append(stored, again...)
//		...
//	}
//
// Inside such an operation, return NewBatchError(len(items), failures).Err():
// it is nil when nothing failed.
//
// errors.Is and errors.As reach every failure's cause (see Unwrap), and
// errors.Is(err, code) reports whether any failure has that code. CodeOf
// returns the batch's overall code (see Code).
//
// Build one with NewBatchError or a Collector, which fill in what a failure
// leaves out. A BatchError is not safe for concurrent modification; its
// methods only read it.
type BatchError[T any] struct {
	// Failures are the items that failed, in the order of their Index.
	Failures []Failure[T]
	// Total is the number of items in the original batch, successes
	// included.
	Total int
}

// NewBatchError returns the error for a batch of total items of which the
// given ones failed, or nil when failures is empty. Return it as an error
// with Err, which keeps that nil a nil error.
//
// It takes ownership of failures and completes each failure: a zero Code
// becomes CodeOf(Cause) (INTERNAL_ERROR without a cause), an empty Reason
// becomes the cause's message (or the code's name without a cause), and a
// zero Time becomes the time of the call. Failures are sorted by Index
// (stably), and Total is raised, if need be, to len(failures) and to the
// largest Index plus one. It allocates only the *BatchError: its cost
// follows the number of failures, never the size of the batch.
func NewBatchError[T any](total int, failures []Failure[T]) *BatchError[T] {
	if len(failures) == 0 {
		return nil
	}
	completeFailures(failures)
	if !slices.IsSortedFunc(failures, byIndex[T]) {
		slices.SortStableFunc(failures, byIndex[T])
	}
	total = max(total, len(failures), failures[len(failures)-1].Index+1)
	return &BatchError[T]{Failures: failures, Total: total}
}

// byIndex orders failures by their Index.
func byIndex[T any](a, b Failure[T]) int { return cmp.Compare(a.Index, b.Index) }

// completeFailures fills in what each failure leaves out: its code and
// reason (from its cause), its time (the time of the call, read once).
func completeFailures[T any](failures []Failure[T]) {
	var now time.Time
	for i := range failures {
		f := &failures[i]
		if f.Code == 0 || f.Reason == "" { // no call for a complete failure
			completeFailure(f)
		}
		if f.Time.IsZero() {
			now = nowOnce(now)
			f.Time = now
		}
	}
}

// nowOnce returns now, or the time of the call when now is zero: the clock
// is read once, when first needed.
func nowOnce(now time.Time) time.Time {
	if now.IsZero() {
		return time.Now()
	}
	return now
}

// completeFailure derives a failure's missing code and reason from its cause.
func completeFailure[T any](f *Failure[T]) {
	if f.Code == 0 {
		f.Code = failureCodeOf(f.Cause)
	}
	if f.Reason == "" {
		f.Reason = failureReasonOf(f.Cause, f.Code)
	}
}

// failureCodeOf is the code of a failure that gives none: CodeOf its cause,
// INTERNAL_ERROR without one.
func failureCodeOf(cause error) Code {
	var c Code
	if e, ok := cause.(*Error); ok { // the common case, without a walk
		c = e.code
	} else {
		c = CodeOf(cause)
	}
	if c == 0 {
		return CodeInternalError
	}
	return c
}

// failureReasonOf is the reason of a failure that gives none: the message of
// the first *Error in the cause's chain (so a *RetryError or a fmt.Errorf
// wrapping does not make every reason unique), the text of another cause,
// else the code's name.
func failureReasonOf(cause error, code Code) string {
	if e := AsError(cause); e != nil && e.message != "" {
		return e.message
	}
	return cmp.Or(errorString(cause), code.String())
}

// errorString is err's text, "" for a nil err.
func errorString(err error) string {
	if err == nil {
		return ""
	}
	return err.Error()
}

// maxBatchReasonsInText bounds the reasons Error lists; the others are counted.
const maxBatchReasonsInText = 5

// Error summarises the failures, counting them per reason, most frequent
// first (ties: the reason that occurs first in the batch):
//
//	3 of 100 items failed: 2 x asset not found, 1 x invalid format
//
// At most five reasons are listed; the rest are counted as "and N other
// reasons".
func (e *BatchError[T]) Error() string {
	if e == nil {
		return "<nil>"
	}
	var b strings.Builder
	b.WriteString(strconv.Itoa(len(e.Failures)))
	b.WriteString(" of ")
	writeCount(&b, e.Total, "item")
	b.WriteString(" failed: ")
	writeReasons(&b, e.reasonCounts())
	return b.String()
}

// writeCount writes n and a noun, plural unless n is 1: "1 item", "3 items".
func writeCount(b *strings.Builder, n int, noun string) {
	b.WriteString(strconv.Itoa(n))
	b.WriteByte(' ')
	b.WriteString(noun)
	if n != 1 {
		b.WriteByte('s')
	}
}

// writeReasons writes "2 x asset not found, 1 x invalid format": each
// reason with its count, the first maxBatchReasonsInText of them, then how
// many others there are.
func writeReasons(b *strings.Builder, groups []batchReasonCount) {
	for i, g := range groups {
		if i == maxBatchReasonsInText {
			b.WriteString(", and ")
			b.WriteString(strconv.Itoa(len(groups) - i))
			b.WriteString(" other reasons")
			return
		}
		if i > 0 {
			b.WriteString(", ")
		}
		b.WriteString(strconv.Itoa(g.count))
		b.WriteString(" x ")
		b.WriteString(g.reason)
	}
}

// batchReasonCount is one reason of a batch and how many failures give it.
type batchReasonCount struct {
	reason string
	count  int
	first  int // position of the reason's first failure
}

// reasonCounts groups the failures by reason, most frequent first, ties in
// order of first occurrence.
func (e *BatchError[T]) reasonCounts() []batchReasonCount {
	pos := make(map[string]int)
	var groups []batchReasonCount
	for i := range e.Failures {
		r := e.Failures[i].Reason
		if j, ok := pos[r]; ok {
			groups[j].count++
			continue
		}
		pos[r] = len(groups)
		groups = append(groups, batchReasonCount{reason: r, count: 1, first: i})
	}
	slices.SortStableFunc(groups, func(a, b batchReasonCount) int { return b.count - a.count })
	return groups
}

// Code returns the batch's overall code, which is what CodeOf returns for it.
// When every failure has the same code, it is that code. Otherwise it is the
// most frequent code; between codes equally frequent, a code that is not
// retryable wins over one that is (so that a classifier never retries the
// whole batch on a tie with caller faults), then the code that occurs first.
// A nil or empty BatchError has the zero code.
func (e *BatchError[T]) Code() Code {
	if e == nil || len(e.Failures) == 0 {
		return 0
	}
	if c, same := e.sameCode(); same {
		return c
	}
	return mostFrequentCode(e.Failures)
}

// sameCode returns the code of the first failure, and whether every failure
// has it.
func (e *BatchError[T]) sameCode() (Code, bool) {
	first := e.Failures[0].Code
	for i := 1; i < len(e.Failures); i++ {
		if e.Failures[i].Code != first {
			return first, false
		}
	}
	return first, true
}

// codeCount is one code of a batch and how many failures have it.
type codeCount struct {
	code  Code
	count int
}

// mostFrequentCode returns the most frequent code of failures; between codes
// equally frequent, one that is not retryable, then the first to occur.
func mostFrequentCode[T any](failures []Failure[T]) Code {
	counts := countCodes(failures)
	best := counts[0]
	for _, c := range counts[1:] {
		if c.beats(best) {
			best = c
		}
	}
	return best.code
}

// beats reports whether c wins over best, which occurs before it: it is
// more frequent, or as frequent and not retryable where best is.
func (c codeCount) beats(best codeCount) bool {
	return c.count > best.count || c.count == best.count && best.code.Retryable() && !c.code.Retryable()
}

// countCodes counts the failures of each code, in order of first occurrence
// (codes are few: a linear search beats a map).
func countCodes[T any](failures []Failure[T]) []codeCount {
	var counts []codeCount
	for i := range failures {
		c := failures[i].Code
		j := slices.IndexFunc(counts, func(cc codeCount) bool { return cc.code == c })
		if j < 0 {
			counts = append(counts, codeCount{c, 1})
		} else {
			counts[j].count++
		}
	}
	return counts
}

// Failed returns the items that failed, in the order of their Index.
func (e *BatchError[T]) Failed() []T {
	if e == nil {
		return nil
	}
	return itemsOf(e.Failures)
}

// itemsOf returns the items of failures, in their order.
func itemsOf[T any](failures []Failure[T]) []T {
	items := make([]T, len(failures))
	for i := range failures {
		items[i] = failures[i].Item
	}
	return items
}

// ByReason groups the failed items by Reason, each group in the order of
// the items' Index.
func (e *BatchError[T]) ByReason() map[string][]T {
	if e == nil {
		return nil
	}
	m := make(map[string][]T)
	for i := range e.Failures {
		f := &e.Failures[i]
		m[f.Reason] = append(m[f.Reason], f.Item)
	}
	return m
}

// FailureRate returns the share of the batch that failed, from 0 to 1:
// len(Failures)/Total. It is 0 for a nil BatchError or an empty batch. The
// "more than 10% failed: stop" test is be.FailureRate() > 0.10.
func (e *BatchError[T]) FailureRate() float64 {
	if e == nil || e.Total <= 0 {
		return 0
	}
	return float64(len(e.Failures)) / float64(e.Total)
}

// Err returns e as an error, or nil when e is nil. A nil *BatchError stored
// in an error is not a nil error, so return NewBatchError(...).Err() from a
// function whose result is an error:
//
//	return stored, mlerr.NewBatchError(len(items), failures).Err()
func (e *BatchError[T]) Err() error {
	if e == nil {
		return nil
	}
	return e
}

// Unwrap returns every failure's cause, in the order of the failures, so
// that errors.Is and errors.As reach each of them. A failure without a cause
// contributes its Code.
func (e *BatchError[T]) Unwrap() []error {
	if e == nil {
		return nil
	}
	errs := make([]error, len(e.Failures))
	for i := range e.Failures {
		errs[i] = e.Failures[i].err()
	}
	return errs
}

// err is the failure's cause, or its Code when it has none.
func (f *Failure[T]) err() error {
	if f.Cause != nil {
		return f.Cause
	}
	return f.Code
}

// Is reports whether target is a Code that one of the failures has, so that
// errors.Is(err, code) holds for a failure whose code was given without a
// cause carrying it; or whether target is itself one of the failures' causes
// (compared with ==), which answers errors.Is(err, cause) without the
// allocation of Unwrap. Causes that only wrap target are found by errors.Is
// through Unwrap.
func (e *BatchError[T]) Is(target error) bool {
	switch c, isCode := target.(Code); {
	case e == nil:
		return false
	case isCode:
		return e.hasCode(c)
	case !isComparable(target):
		return false
	}
	return e.hasCause(target)
}

// isComparable reports whether err can be compared with ==: it is not nil,
// and its dynamic type is comparable.
func isComparable(err error) bool {
	return err != nil && reflect.TypeOf(err).Comparable()
}

func (e *BatchError[T]) hasCode(c Code) bool {
	for i := range e.Failures {
		if e.Failures[i].Code == c {
			return true
		}
	}
	return false
}

// hasCause reports whether target (comparable) is one of the causes.
func (e *BatchError[T]) hasCause(target error) bool {
	for i := range e.Failures {
		if e.Failures[i].Cause == target {
			return true
		}
	}
	return false
}

// Where returns the failures for which keep is true as a new BatchError
// with the same Total, or nil when there are none. The failures are copied;
// their items and causes are shared.
func (e *BatchError[T]) Where(keep func(Failure[T]) bool) *BatchError[T] {
	if e == nil {
		return nil
	}
	kept := slices.DeleteFunc(slices.Clone(e.Failures), func(f Failure[T]) bool { return !keep(f) })
	if len(kept) == 0 {
		return nil
	}
	return &BatchError[T]{Failures: kept, Total: e.Total}
}

// Retryable returns the failures whose code is retryable, or nil when there
// are none: e.Where(Failure[T].Retryable).
func (e *BatchError[T]) Retryable() *BatchError[T] {
	return e.Where(Failure[T].Retryable)
}
