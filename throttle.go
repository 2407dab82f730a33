package mlerr

import (
	"fmt"
	"time"
)

// maxSummaryItems bounds the lost items a throttled summary lists; beyond it
// they are counted in its "lost_items" detail.
const maxSummaryItems = 10000

// throttleKey is "one kind of event": the callback, and the kind and code of
// its error.
type throttleKey struct {
	to   which
	kind *Kind
	code Code
}

// throttleState counts one kind of event in the current window.
type throttleState struct {
	start      time.Time // when the window began
	delivered  int       // events delivered in the window
	suppressed int       // events held back in the window
	last       error     // the latest event held back
	lost       []Failure[Item]
	lostTotal  int
}

// throttle lets through at most burst events of one kind per window and
// turns the others into one summary event per window. The Run's mutex
// guards it.
type throttle struct {
	burst  int           // <= 0: no throttling
	window time.Duration // length of a window
	states map[throttleKey]*throttleState
}

// admit decides for an event of to: deliver reports whether it goes to its
// callback now; summary, when not nil, is an event standing for the events
// held back in the window that just ended, to deliver before it.
func (t *throttle) admit(to which, err error, now time.Time) (deliver bool, summary error) {
	if t.burst <= 0 {
		return true, nil
	}
	key := throttleKeyOf(to, err)
	st := t.state(key, now)
	if st.windowEnded(now, t.window) {
		summary = st.restart(key, t.window, now)
	}
	if st.delivered < t.burst {
		st.delivered++
		return true, summary
	}
	st.hold(err)
	return false, summary
}

// throttleKeyOf is the kind of event err is for the callback to: its code
// and, for an *Error, its kind.
func throttleKeyOf(to which, err error) throttleKey {
	key := throttleKey{to: to, code: CodeOf(err)}
	if e := AsError(err); e != nil {
		key.kind = e.Kind()
	}
	return key
}

// state returns the count of the events of key, starting one at now for
// the first event.
func (t *throttle) state(key throttleKey, now time.Time) *throttleState {
	if st := t.states[key]; st != nil {
		return st
	}
	if t.states == nil {
		t.states = make(map[throttleKey]*throttleState)
	}
	st := &throttleState{start: now}
	t.states[key] = st
	return st
}

// restart ends the window at now, starting the next one, and returns the
// summary of the events it held back (nil when none were).
func (st *throttleState) restart(key throttleKey, window time.Duration, now time.Time) error {
	summary := st.summary(key, window)
	st.start, st.delivered = now, 0
	return summary
}

// hold counts an event held back, keeping its lost items.
func (st *throttleState) hold(err error) {
	st.suppressed++
	st.last = err
	lost := lostFailures(err)
	st.lostTotal += len(lost)
	st.keepLost(lost)
}

// keepLost keeps the lost items that fit in the summary's
// maxSummaryItems, indexed by their positions in it.
func (st *throttleState) keepLost(lost []Failure[Item]) {
	room := maxSummaryItems - len(st.lost)
	if room <= 0 {
		return
	}
	base := len(st.lost)
	st.lost = append(st.lost, lost[:min(len(lost), room)]...)
	for i := base; i < len(st.lost); i++ {
		st.lost[i].Index = i // positions in the summary, in order
	}
}

// summary returns the event that stands for the held-back events and resets
// the count, or nil when none were held back.
func (st *throttleState) summary(key throttleKey, window time.Duration) error {
	if st.suppressed == 0 {
		return nil
	}
	var e *Error
	if st.lostTotal > 0 {
		msg := fmt.Sprintf("and %d more like it in %s (throttled), losing %d items; the last: %v",
			st.suppressed, window, st.lostTotal, st.last)
		e = newError(key.code, key.kind, msg, NewBatchError(st.lostTotal, st.lost)).WithDetail("lost_items", st.lostTotal)
	} else {
		msg := fmt.Sprintf("and %d more like it in %s (throttled); the last: %v", st.suppressed, window, st.last)
		e = newError(key.code, key.kind, msg, st.last)
	}
	e = e.WithDetail("suppressed", st.suppressed)
	st.suppressed, st.last, st.lost, st.lostTotal = 0, nil, nil, 0
	return e
}

// due returns the summaries of the windows that have ended by now, or of
// every window with held-back events when all is true.
func (t *throttle) due(now time.Time, all bool) []event {
	var evs []event
	for key, st := range t.states {
		if st.summaryDue(now, t.window, all) {
			evs = append(evs, event{key.to, st.restart(key, t.window, now), now})
		}
	}
	return evs
}

// windowEnded reports whether st's window has ended by now.
func (st *throttleState) windowEnded(now time.Time, window time.Duration) bool {
	return now.Sub(st.start) >= window
}

// summaryDue reports whether st's summary is due by now: events were held
// back, and the window has ended or all summaries are asked for.
func (st *throttleState) summaryDue(now time.Time, window time.Duration, all bool) bool {
	return st.suppressed > 0 && (all || st.windowEnded(now, window))
}

// lostFailures returns the failures of the first *BatchError[Item] in err's
// chain.
func lostFailures(err error) []Failure[Item] {
	be := findBatchError(err)
	if be == nil {
		return nil
	}
	return be.Failures
}
