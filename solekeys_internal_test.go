package mlerr

import (
	"fmt"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestSoleKeys(t *testing.T) {
	var s soleKeys
	_, _, _, ok := s.find(map[string]float64{"loss": 1})
	assert.False(t, ok, "nothing remembered yet")

	loss := &keyState{key: "loss"}
	s.remember(loss)
	k, v, ks, ok := s.find(map[string]float64{"loss": 2})
	require.True(t, ok)
	assert.Equal(t, "loss", k)
	assert.Equal(t, 2.0, v)
	assert.Same(t, loss, ks)

	_, _, _, ok = s.find(map[string]float64{"acc": 2})
	assert.False(t, ok, "a one-entry map with another key misses")

	// Four keys fit; a fifth evicts the oldest.
	states := map[string]*keyState{"loss": loss}
	for _, key := range []string{"acc", "lr", "tput"} {
		states[key] = &keyState{key: key}
		s.remember(states[key])
	}
	for key, want := range states {
		_, _, ks, ok := s.find(map[string]float64{key: 0})
		require.True(t, ok, key)
		assert.Same(t, want, ks, key)
	}
	s.remember(&keyState{key: "grad"})
	_, _, _, ok = s.find(map[string]float64{"loss": 0})
	assert.False(t, ok, "the oldest was evicted")
	_, _, _, ok = s.find(map[string]float64{"acc": 0})
	assert.True(t, ok)
}

// FuzzSoleKeys: whatever was remembered, find on a one-entry map gives the
// map's own entry or nothing, never another key's state.
func FuzzSoleKeys(f *testing.F) {
	f.Add([]byte{0, 1, 2, 3, 4, 0, 1})
	f.Fuzz(func(t *testing.T, ops []byte) {
		var s soleKeys
		states := map[string]*keyState{}
		for _, op := range ops {
			key := fmt.Sprintf("k%d", op%8)
			if op&0x80 != 0 {
				if states[key] == nil {
					states[key] = &keyState{key: key}
				}
				s.remember(states[key])
				continue
			}
			k, v, ks, ok := s.find(map[string]float64{key: float64(op)})
			if ok && (k != key || v != float64(op) || ks != states[key]) {
				t.Fatalf("find(%q) = %q, %v, %p; want the map's entry and its state %p", key, k, v, ks, states[key])
			}
		}
	})
}

// BenchmarkSoleKeys compares the two ways of reading a one-entry map's
// entry: a range (with its random start) and a probe for a remembered key.
// The figure is in soleKeys' comment.
func BenchmarkSoleKeys(b *testing.B) {
	m := map[string]float64{"loss": 1}
	b.Run("range", func(b *testing.B) {
		var sum float64
		for b.Loop() {
			for _, v := range m {
				sum += v
			}
		}
		_ = sum
	})
	b.Run("remembered", func(b *testing.B) {
		var s soleKeys
		s.remember(&keyState{key: "loss"})
		var sum float64
		for b.Loop() {
			_, v, _, _ := s.find(m)
			sum += v
		}
		_ = sum
	})
	b.Run("remembered-4th", func(b *testing.B) {
		var s soleKeys
		for _, k := range []string{"loss", "acc", "lr", "tput"} {
			s.remember(&keyState{key: k})
		}
		m := map[string]float64{"tput": 1}
		var sum float64
		for b.Loop() {
			_, v, _, _ := s.find(m)
			sum += v
		}
		_ = sum
	})
}
