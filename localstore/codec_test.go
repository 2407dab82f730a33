package localstore

import (
	"math"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/mlerr/mlerr"
)

// sameItem compares items bit for bit (NaN payloads, -0) and times as
// instants.
func sameItem(t *testing.T, want, got mlerr.Item, msg ...any) {
	t.Helper()
	assert.Equal(t, want.Kind, got.Kind, msg...)
	assert.Equal(t, want.Key, got.Key, msg...)
	assert.Equal(t, math.Float64bits(want.Value), math.Float64bits(got.Value), msg...)
	assert.Equal(t, want.Text, got.Text, msg...)
	assert.Equal(t, want.Step, got.Step, msg...)
	assert.True(t, want.Time.Equal(got.Time), "time %v != %v %v", want.Time, got.Time, msg)
	assert.Equal(t, want.Time.IsZero(), got.Time.IsZero(), msg...)
}

func TestCodecRoundTrip(t *testing.T) {
	nanPayload := math.Float64frombits(0x7ff8_0000_dead_beef)
	t0 := time.Date(2025, 3, 4, 5, 6, 7, 123456789, time.FixedZone("X", 3600))
	tests := []struct {
		name  string
		seq   uint64
		items []mlerr.Item
	}{
		{"empty batch", 1, nil},
		{"metric", 2, []mlerr.Item{{Kind: mlerr.ItemMetric, Key: "loss", Value: 0.25, Step: 3, Time: t0}}},
		{"non-finite values", 3, []mlerr.Item{
			{Kind: mlerr.ItemMetric, Key: "a", Value: math.NaN()},
			{Kind: mlerr.ItemMetric, Key: "a", Value: nanPayload, Step: 1},
			{Kind: mlerr.ItemMetric, Key: "b", Value: math.Inf(1), Step: -5},
			{Kind: mlerr.ItemMetric, Key: "b", Value: math.Inf(-1), Step: math.MaxInt64},
			{Kind: mlerr.ItemMetric, Key: "c", Value: math.Copysign(0, -1), Step: math.MinInt64},
			{Kind: mlerr.ItemMetric, Key: "c", Value: math.SmallestNonzeroFloat64},
			{Kind: mlerr.ItemMetric, Key: "c", Value: math.MaxFloat64},
		}},
		{"times", 4, []mlerr.Item{
			{Kind: mlerr.ItemMetric, Key: "t", Time: time.Unix(0, 0)},
			{Kind: mlerr.ItemMetric, Key: "t", Time: time.Unix(-1, 999999999)},
			{Kind: mlerr.ItemMetric, Key: "t", Time: time.Date(1, 1, 1, 0, 0, 0, 1, time.UTC)},
			{Kind: mlerr.ItemMetric, Key: "t", Time: time.Date(9999, 12, 31, 23, 59, 59, 999999999, time.UTC)},
		}},
		{"params and tags", math.MaxUint64, []mlerr.Item{
			{Kind: mlerr.ItemParam, Key: "lr", Text: "0.001"},
			{Kind: mlerr.ItemTag, Key: "mlflow.note", Text: "héllo\x00world"},
			{Kind: mlerr.ItemTag, Key: "", Text: ""},
			{Kind: mlerr.ItemParam, Key: "lr", Text: string(make([]byte, 70000))},
		}},
	}
	keys := map[string]uint64{}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			p := appendBatch(nil, tt.seq, tt.items, keys)
			seq, got, err := decodeBatch(p)
			require.NoError(t, err)
			assert.Equal(t, tt.seq, seq)
			require.Len(t, got, len(tt.items))
			for i := range got {
				sameItem(t, tt.items[i], got[i], i)
			}
			cseq, c, err := countBatch(p)
			require.NoError(t, err)
			assert.Equal(t, tt.seq, cseq)
			assert.Equal(t, len(tt.items), c.Items())
		})
	}
}

func TestCodecKeyTableSavesSpace(t *testing.T) {
	items := make([]mlerr.Item, 100)
	for i := range items {
		items[i] = mlerr.Item{Kind: mlerr.ItemMetric, Key: "train/loss/with/a/long/name", Value: float64(i), Step: int64(i)}
	}
	p := appendBatch(nil, 1, items, map[string]uint64{})
	assert.Less(t, len(p), 100*16, "a repeated key is stored once per batch")
}

func TestDecodeRejectsBadPayloads(t *testing.T) {
	good := appendBatch(nil, 7, []mlerr.Item{
		{Kind: mlerr.ItemMetric, Key: "k", Value: 1, Step: 1, Time: time.Unix(5, 0)},
		{Kind: mlerr.ItemMetric, Key: "k", Value: 2},
	}, map[string]uint64{})
	mutate := func(f func(p []byte) []byte) []byte { return f(append([]byte(nil), good...)) }
	tests := []struct {
		name string
		p    []byte
	}{
		{"empty", nil},
		{"truncated", good[:len(good)-1]},
		{"trailing byte", append(append([]byte(nil), good...), 0)},
		{"huge count", []byte{1, 0xff, 0xff, 0xff, 0xff, 0x0f}},
		{"bad kind", mutate(func(p []byte) []byte { p[2] = 9; return p })},
		{"unknown flag", mutate(func(p []byte) []byte { p[3] |= 0x80; return p })},
		{"key ref out of table", []byte{1, 1, byte(mlerr.ItemMetric), 0, 5}},
		{"nanoseconds out of range", appendBatchRaw(t)},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, _, err := decodeBatch(tt.p)
			assert.Error(t, err)
			_, _, err = countBatch(tt.p)
			assert.Error(t, err)
		})
	}
}

// appendBatchRaw builds an item whose time has 1e9 nanoseconds.
func appendBatchRaw(t *testing.T) []byte {
	t.Helper()
	return []byte{1, 1, byte(mlerr.ItemMetric), flagTime, 0, 1, 'k', 2, 0x80, 0x94, 0xeb, 0xdc, 0x03}
}

func FuzzDecodeBatch(f *testing.F) {
	f.Add(appendBatch(nil, 1, []mlerr.Item{{Kind: mlerr.ItemMetric, Key: "loss", Value: math.NaN(), Step: 2, Time: time.Unix(3, 4)}}, map[string]uint64{}))
	f.Add(appendBatch(nil, 9, []mlerr.Item{{Kind: mlerr.ItemParam, Key: "p", Text: "v"}, {Kind: mlerr.ItemTag, Key: "p", Text: "w"}}, map[string]uint64{}))
	f.Add([]byte{})
	f.Add([]byte{1, 0xff, 0xff, 0xff, 0x0f})
	f.Fuzz(func(t *testing.T, p []byte) {
		seq, items, err := decodeBatch(p)
		cseq, c, cerr := countBatch(p)
		if (err == nil) != (cerr == nil) {
			t.Fatalf("decodeBatch err %v, countBatch err %v", err, cerr)
		}
		if err != nil {
			return
		}
		if seq != cseq || c.Items() != len(items) {
			t.Fatalf("decode and count disagree")
		}
		// A payload that decodes re-encodes to items that decode the same.
		again := appendBatch(nil, seq, items, map[string]uint64{})
		seq2, items2, err := decodeBatch(again)
		if err != nil || seq2 != seq || len(items2) != len(items) {
			t.Fatalf("re-encoding failed: %v", err)
		}
		for i := range items {
			a, b := items[i], items2[i]
			if a.Kind != b.Kind || a.Key != b.Key || a.Text != b.Text || a.Step != b.Step ||
				math.Float64bits(a.Value) != math.Float64bits(b.Value) || !a.Time.Equal(b.Time) {
				t.Fatalf("item %d changed: %+v -> %+v", i, a, b)
			}
		}
	})
}
