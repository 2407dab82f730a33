package mlerr

// soleKeys remembers the keys of recent one-entry log calls, with their
// state. A range over a map starts at a random position, and drawing it
// costs several times a lookup (BenchmarkSoleKeys: a range over a
// one-entry map 25-30 ns, a lookup of a remembered key 5-8 ns, on the
// project's 2-core machine); and finding the key's state costs a second
// lookup, in the run's key table. A training loop that logs one metric per
// call logs the same few keys over and over, so a one-entry map is first
// probed for the keys remembered here: a one-entry map that holds one of
// them holds no other, and its state comes with it. The probes are exact
// (map lookups), never hints that could be wrong; a miss falls back to the
// range, and remembers the key, evicting the oldest.
//
// The log side's mutex guards it, with the admitter whose states it holds.
type soleKeys struct {
	keys [soleKeysSize]soleKey
	next int // the entry to overwrite next
	last int // the entry found last: probed first, then those after it
}

type soleKey struct {
	key string
	ks  *keyState
}

// soleKeysSize is the number of keys remembered: enough for a loop that
// logs loss, accuracy, learning rate and a throughput figure in separate
// calls, few enough that a miss (every probe fails) stays cheap.
const soleKeysSize = 4

// find returns the entry of the one-entry map m when its key is
// remembered, with the key's state. It probes the entry found last first,
// then the ones after it: a loop that logs one key finds it at once, a loop
// that logs a few keys in turn at the second probe.
func (s *soleKeys) find(m map[string]float64) (key string, v float64, ks *keyState, ok bool) {
	for n := range soleKeysSize {
		i := (s.last + n) % soleKeysSize
		e := &s.keys[i]
		if e.ks == nil {
			continue
		}
		if v, ok := m[e.key]; ok {
			s.last = i
			return e.key, v, e.ks, true
		}
	}
	return "", 0, nil, false
}

// byKey returns the state of key when it is remembered, else nil.
func (s *soleKeys) byKey(key string) *keyState {
	for n := range soleKeysSize {
		i := (s.last + n) % soleKeysSize
		if e := &s.keys[i]; e.ks != nil && e.key == key {
			s.last = i
			return e.ks
		}
	}
	return nil
}

// remember records the state of a key logged alone in a call.
func (s *soleKeys) remember(ks *keyState) {
	s.keys[s.next] = soleKey{key: ks.key, ks: ks}
	s.next = (s.next + 1) % soleKeysSize
}
