package mlerr

import "unsafe"

// keyCache remembers where the key strings of recent log calls live. A
// training loop logs the same keys every step, from a map it reuses or from
// string literals, so it hands the same string data each time: comparing
// the data pointer and length then finds the key's state without hashing
// the key and probing the map. Strings are immutable, so the same pointer
// and length mean the same key; an entry holds its string alive, so the
// memory cannot be reused for another one. The Run's mutex guards it.
type keyCache [keyCacheSize]struct {
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
	h := uint64(uintptr(unsafe.Pointer(p)))*0x9E3779B97F4A7C15 + uint64(len(key))
	e := &r.kcache[h>>(64-6)&(keyCacheSize-1)]
	if e.p == p && e.n == len(key) {
		return e.ks
	}
	ks := r.keys[key]
	if ks != nil {
		e.p, e.n, e.ks = p, len(key), ks
	}
	return ks
}
