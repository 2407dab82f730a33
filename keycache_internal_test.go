package mlerr

import (
	"strconv"
	"testing"
	"unsafe"
)

// TestKeyCacheTwoWay: two keys whose data fall in the same pair of slots
// both stay cached, and every key is found with its own state.
func TestKeyCacheTwoWay(t *testing.T) {
	r := &Run{keys: map[string]*keyState{}}
	pairOf := func(key string) uint64 {
		return uint64(uintptr(unsafe.Pointer(unsafe.StringData(key)))) * 0x9E3779B97F4A7C15 >> (64 - 6) & (keyCacheSize - 2)
	}
	var keys []string
	byPair := map[uint64]string{}
	var a, b string
	for i := 0; a == ""; i++ {
		k := "metric_" + strconv.Itoa(i)
		keys = append(keys, k)
		r.keys[k] = &keyState{key: k}
		if other, ok := byPair[pairOf(k)]; ok {
			a, b = other, k
		}
		byPair[pairOf(k)] = k
	}
	for _, k := range keys {
		if ks := r.lookup(k); ks == nil || ks.key != k {
			t.Fatalf("lookup(%q) = %v", k, ks)
		}
	}
	// Warm the pair with a and b, then take them out of the map: a lookup
	// that still finds them is a cache hit.
	r.lookup(a)
	r.lookup(b)
	ksA, ksB := r.keys[a], r.keys[b]
	delete(r.keys, a)
	delete(r.keys, b)
	for range 3 {
		if r.lookup(a) != ksA || r.lookup(b) != ksB {
			t.Fatalf("keys %q and %q of one pair evict each other", a, b)
		}
	}
	// A key the run never saw is not found, cached or not.
	if ks := r.lookup("never"); ks != nil {
		t.Fatalf("lookup of a new key = %v", ks)
	}
}
