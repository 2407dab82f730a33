package mlerr

import "time"

// solePoint is the fast path of a log call of one metric point, the call
// a training loop makes most: a point of a key remembered by soleKeys
// (found in the one-entry map m, or given as key when m is nil), admitted
// by the rules and queued, under DropOldest (which makes room as the
// general path does, now being the call's time) or under DropNewest with
// room in the queue. It reports false, having changed nothing, in every
// other case: the run closed, another policy, a key not remembered, a
// point the admitter does not admit as it is (a rejection, a duplicate),
// a full queue under DropNewest. The caller then takes the general path,
// which decides again from the start and does all the reporting.
//
// BenchmarkLogMetrics1Key, on the project's 2-core machine, in one run
// (medians of 8 rounds): 2.52x BenchmarkBaselineMutexAppendNow without this
// path, 2.04x with it.
func (r *Run) solePoint(m map[string]float64, key string, v float64, step int64, ts, now time.Time) bool {
	o := r.out
	if !o.policy.dropping() {
		return false
	}
	o.mu.Lock()
	defer o.mu.Unlock()
	var ks *keyState
	if m != nil {
		key, v, ks, _ = r.log.sole.find(m)
	} else {
		ks = r.log.sole.byKey(key)
	}
	size := len(key) + itemOverhead
	if ks == nil || o.closed || o.policy.mode == fullDropNewest && o.q.full(size) {
		return false
	}
	if !r.log.adm.advance(ks, step, v, ts.UnixNano()) {
		if _, verdict, _ := r.log.adm.metric(ks, key, step, v, ts.UnixNano()); verdict != admitted {
			return false
		}
	}
	// pusher.slot's steps for the two dropping policies, written out:
	// through a pusher and slot's switch the call costs ~7 ns more
	// (BenchmarkLogMetrics1Key, 12 interleaved rounds: 1.39x against 1.29x).
	// A change to slot's accounting belongs here too.
	o.logged++
	if o.policy.mode == fullDropOldest && o.q.full(size) {
		o.dropOldest(size, now)
	}
	o.enqueued++
	setPoint(o.q.pushSlot(size, ItemMetric), ks.key, v, step, ts)
	o.wakeIfReady()
	return true
}

// setPoint writes a metric point into an item's slot, field by field. An
// Item literal assigned through the pointer is built in a temporary on the
// stack (zeroed, filled, then copied whole, with wide loads that cannot be
// forwarded from the narrow stores just made): the write of the point was
// about a tenth of a one-point call in the profile of
// BenchmarkLogMetrics1Key.
func setPoint(s *Item, key string, v float64, step int64, ts time.Time) {
	s.Kind, s.Key, s.Value, s.Text, s.Step, s.Time = ItemMetric, key, v, "", step, ts
}
