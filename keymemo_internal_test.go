package mlerr

import (
	"fmt"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
)

func TestKeyMemo(t *testing.T) {
	state := func(k string) *keyState { return &keyState{key: k} }
	tests := []struct {
		name     string
		remember []string
		find     string
		hit      bool // a state is found, of the key looked up
	}{
		{name: "empty memo", find: "loss"},
		{name: "remembered", remember: []string{"loss"}, find: "loss", hit: true},
		{name: "another key", remember: []string{"loss"}, find: "acc"},
		{name: "same slot, other key", remember: []string{"aXcde"}, find: "aYcde"},
		{name: "a prefix is not the key", remember: []string{"loss/train"}, find: "loss/trai"},
		{name: "the empty key", remember: []string{""}, find: "", hit: true},
		{name: "two keys of one set", remember: []string{"aXcde", "aYcde"}, find: "aXcde", hit: true},
		{name: "the third evicts the oldest", remember: []string{"aXcde", "aYcde", "aZcde"}, find: "aXcde"},
		{name: "the third keeps the newer", remember: []string{"aXcde", "aYcde", "aZcde"}, find: "aYcde", hit: true},
		{name: "remembered again, no eviction", remember: []string{"aXcde", "aYcde", "aYcde"}, find: "aXcde", hit: true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var m keyMemo
			for _, k := range tt.remember {
				m.remember(state(k))
			}
			got := m.find(tt.find)
			if !tt.hit {
				assert.Nil(t, got)
				return
			}
			if assert.NotNil(t, got) {
				assert.Equal(t, tt.find, got.key)
			}
		})
	}
}

// TestKeyMemoSlots: the usual families of keys get slots of their own, so
// that a loop logging them together finds each in the memo.
func TestKeyMemoSlots(t *testing.T) {
	families := map[string][]string{
		"numbered":  keysOf("train/metric_%d", 10),
		"per layer": keysOf("grad_norm/layer.%d", 8),
		"names":     {"loss", "accuracy", "lr", "throughput", "val/loss", "val/accuracy", "epoch", "grad_norm"},
	}
	for name, keys := range families {
		t.Run(name, func(t *testing.T) {
			var m keyMemo
			for _, k := range keys {
				m.remember(&keyState{key: k})
			}
			for _, k := range keys {
				assert.NotNil(t, m.find(k), "%s evicted", k)
			}
		})
	}
}

func keysOf(format string, n int) []string {
	keys := make([]string, n)
	for i := range keys {
		keys[i] = fmt.Sprintf(format, i)
	}
	return keys
}

// TestKeyMemoSetInRange covers lengths and bytes the mix can meet.
func TestKeyMemoSetInRange(t *testing.T) {
	var m keyMemo
	for n := 0; n < 300; n++ {
		for _, c := range []string{"\x00", "a", "\xff", "é"} {
			k := strings.Repeat(c, n)
			s := m.set(k)
			assert.True(t, s >= 0 && s+1 < keyMemoSize && s%2 == 0, "len %d %q: set %d", n, c, s)
		}
	}
}
