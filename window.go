package mlerr

import (
	"net/http"
	"sync"
)

// The bounds of Limits.InFlight.
const (
	// defaultInFlight is 1: many ranks reach the server's raw limit with one
	// batch in flight each, more in flight per rank only loads the server's
	// connection pool, and with one the batches arrive in the order they were
	// logged. A single-process job gets 1.2-2x its rate with 4 (docs/
	// performance.md, "Default in-flight K").
	defaultInFlight = 1
	maxInFlight     = 64
	// windowGrowth is how many acknowledged writes in a row raise the
	// window by one batch.
	windowGrowth = 8
)

// window is the in-flight window of the runs that share it: how many
// batches each may have in flight, lowered by the server's backpressure and
// raised again while it is healthy (AIMD). Runs whose retry policies share a
// Budget share the Budget's window; a run without a Budget has its own.
//
// A 429 or 503 answer halves it (to at least 1), once per round: a write
// sent before the latest halving does not halve it again, so K writes
// refused together count as one signal. windowGrowth acknowledged writes
// raise it by one, up to the limit of the run that reports them. Its zero
// value is a window not lowered yet (maxInFlight). Safe for concurrent use.
type window struct {
	mu    sync.Mutex
	size  int    // batches that may be in flight; 0: maxInFlight
	ok    int    // writes acknowledged since the last change
	epoch uint64 // halvings so far
}

// get returns the window and the epoch a write sent now belongs to.
func (w *window) get() (size int, epoch uint64) {
	w.mu.Lock()
	defer w.mu.Unlock()
	return w.sizeLocked(), w.epoch
}

func (w *window) sizeLocked() int {
	if w.size == 0 {
		return maxInFlight
	}
	return w.size
}

// pressure halves the window as seen by a run of limit k, unless it was
// halved since epoch (when the write that met the backpressure was sent).
// It reports whether it did.
func (w *window) pressure(k int, epoch uint64) bool {
	w.mu.Lock()
	defer w.mu.Unlock()
	if epoch != w.epoch {
		return false
	}
	w.size = max(1, min(w.sizeLocked(), k)/2)
	w.ok = 0
	w.epoch++
	return true
}

// success counts an acknowledged write of a run of limit k: every
// windowGrowth of them raise the window by one, up to k.
func (w *window) success(k int) {
	w.mu.Lock()
	defer w.mu.Unlock()
	if w.sizeLocked() >= k {
		return
	}
	if w.ok++; w.ok >= windowGrowth {
		w.size++
		w.ok = 0
	}
}

// isBackpressure reports an answer that asks the client to slow down: 429
// (Too Many Requests), 503 (Service Unavailable), or any answer the backend
// calls TEMPORARILY_UNAVAILABLE (the mlflow package's overloaded database,
// answered 400 by MLflow).
func isBackpressure(err error) bool {
	switch HTTPStatusOf(err) {
	case http.StatusTooManyRequests, http.StatusServiceUnavailable:
		return true
	case 0:
		return false
	}
	return CodeOf(err) == CodeTemporarilyUnavailable
}
