package mlerr

import "unsafe"

// keyCache remembers where the key strings of recent log calls live. A
// training loop logs the same keys every step, from a map it reuses or from
// string literals, so it hands the same string data each time: comparing
// the data pointer and length then finds the key's state without hashing
// the key and probing the map. Strings are immutable, so the same pointer
// and length mean the same key; an entry holds its string alive, so the
// memory cannot be reused for another one. A key may sit in either slot of
// a pair (two-way), so that two keys of one call whose data hash to the
// same pair do not evict each other at every call. The Run's mutex guards
// it.
type keyCache [keyCacheSize]keyCacheEntry

type keyCacheEntry struct {
	p  *byte
	n  int
	ks *keyState
}

const keyCacheSize = 64 // a power of two

// lookup returns the state of key, or nil when the key is new. Called with
// mu held.
func (r *Run) lookup(key string) *keyState {
	p := unsafe.StringData(key)
	if p == nil {
		return r.keys[key]
	}
	h := uint64(uintptr(unsafe.Pointer(p))) * 0x9E3779B97F4A7C15
	pair := r.kcache[h>>(64-6)&(keyCacheSize-2):][:2]
	for i := range pair {
		if e := &pair[i]; e.p == p && e.n == len(key) {
			return e.ks
		}
	}
	ks := r.keys[key]
	if ks != nil {
		// The newest key goes first; the one it displaces, second.
		if pair[0].p != nil {
			pair[1] = pair[0]
		}
		pair[0] = keyCacheEntry{p, len(key), ks}
	}
	return ks
}

// soleKeys remembers, for the maps of recent one-entry log calls, their
// key. A range over a map starts at a random position, and drawing it costs
// several times a lookup; a training loop that logs one metric per call,
// from the same map (or from a literal built in the same place each
// iteration), can instead look up the key it used last time: a one-entry
// map that has that key has no other. Entries are hints: a map freed and
// another made at its address, or a map whose key changed, just misses.
// The Run's mutex guards it.
type soleKeys [soleKeysSize]struct {
	m   uintptr // the map's address; not a pointer, so it keeps no map alive
	key string
}

const soleKeysSize = 8 // a power of two

// mapAddr returns the address of the map m refers to.
func mapAddr[V any](m map[string]V) uintptr {
	return uintptr(*(*unsafe.Pointer)(unsafe.Pointer(&m)))
}

func (s *soleKeys) slot(addr uintptr) int {
	return int(uint64(addr) * 0x9E3779B97F4A7C15 >> (64 - 3) & (soleKeysSize - 1))
}

// soleEntry returns the entry of a one-entry map m when the key remembered
// for m's address is in m. Called with mu held.
func soleEntry[V any](s *soleKeys, m map[string]V) (key string, v V, ok bool) {
	if len(m) != 1 {
		return "", v, false
	}
	addr := mapAddr(m)
	e := &s[s.slot(addr)]
	if e.m != addr {
		return "", v, false
	}
	v, ok = m[e.key]
	return e.key, v, ok
}

// remember records key as the entry of the one-entry map m. Called with mu
// held.
func (s *soleKeys) remember(addr uintptr, key string) {
	e := &s[s.slot(addr)]
	e.m, e.key = addr, key
}
