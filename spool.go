package mlerr

// The Spool is user code called with the run's mutex held: a panic in it
// must not leave the mutex locked, so each call turns a panic into an error.

// pushSpool pushes items to the spool, turning a panic of the spool (user
// code, called with the run's mutex held) into an error.
func pushSpool(s Spool, items []Item) (err error) {
	defer func() {
		if p := recover(); p != nil {
			err = ErrSynchronizationStopped.Errorf("the spool panicked in Push: %v", p)
		}
	}()
	return s.Push(items)
}

// peekSpool is Spool.Peek with a panic turned into an error.
func peekSpool(s Spool, max int) (items []Item, err error) {
	defer func() {
		if p := recover(); p != nil {
			err = ErrSynchronizationStopped.Errorf("the spool panicked in Peek: %v", p)
		}
	}()
	return s.Peek(max)
}

// ackSpool is Spool.Ack with a panic turned into an error.
func ackSpool(s Spool, n int) (err error) {
	defer func() {
		if p := recover(); p != nil {
			err = ErrSynchronizationStopped.Errorf("the spool panicked in Ack: %v", p)
		}
	}()
	return s.Ack(n)
}
