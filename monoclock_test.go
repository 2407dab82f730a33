package mlerr

import (
	"testing"
	"time"
)

func TestMonoClock(t *testing.T) {
	c := newMonoClock()
	prev := c.Now()
	for range 1000 {
		now := c.Now()
		if now.Before(prev) {
			t.Fatalf("went backwards: %v then %v", prev, now)
		}
		prev = now
	}
	if d := time.Since(prev); d < -time.Second || d > time.Second {
		t.Fatalf("far from the wall clock: %v", d)
	}
	// An old base is replaced by a fresh wall-clock reading.
	stale := &monoBase{wall: time.Now().Add(-time.Hour).UnixNano(), mono: time.Now().Add(-2 * monoRebase)}
	c.base.Store(stale)
	now := c.Now()
	if c.base.Load() == stale {
		t.Fatal("the base was not renewed")
	}
	if d := time.Since(now); d > time.Second || d < -time.Second {
		t.Fatalf("after a rebase the time is off by %v", d)
	}
	if now.Location() != time.Local {
		t.Fatalf("location %v", now.Location())
	}
}
