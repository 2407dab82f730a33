package bench

import "fmt"

// side is one library doing one job: run does it once (the benchmarked
// call), check does it once more and says what is wrong with the result, if
// anything, so that a test proves each side really does the job it is timed
// on.
type side struct {
	run   func()
	check func() error
}

// sideOf makes a side from a call and a test of its result. The result of
// each timed call is kept in a variable the closure owns, so the compiler
// cannot drop the call.
func sideOf[T any](f func() T, ok func(T) error) side {
	var last T
	return side{
		run:   func() { last = f() },
		check: func() error { last = f(); return ok(last) },
	}
}

// want returns a result test that wants exactly v.
func want[T comparable](v T) func(T) error {
	return func(got T) error {
		if got != v {
			return fmt.Errorf("got %v, want %v", got, v)
		}
		return nil
	}
}

// pairing is one benchmark of compare: mlerr's side of a job against one
// peer's side of the same job.
type pairing struct {
	name string // "Op/peer", the sub-benchmark's name
	ours side
	peer side
}
