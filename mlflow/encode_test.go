package mlflow

import (
	"encoding/json"
	"fmt"
	"math"
	"testing"
	"time"

	"github.com/mlerr/mlerr"
)

// The hand-written log-batch body is valid JSON that decodes to what was
// encoded, whatever the keys, values and numbers.
func FuzzEncodeLogBatch(f *testing.F) {
	f.Add("run", "loss", 0.5, int64(1700000000000), int64(3), "lr", "0.1", "note", "x")
	f.Add("r\"1", "a/b c:d", math.NaN(), int64(0), int64(-1), "k\\", "v\n\t\x00", "ünï", "\xff\xfe")
	f.Add("", "", math.Inf(1), int64(math.MaxInt64), int64(math.MinInt64), "", "", "", "")
	f.Add("x", "y", math.Inf(-1), int64(1), int64(2), "\u2028", "</script>", "a", "b")
	f.Add("x", "y", 1e-300, int64(1), int64(2), "p", "q", "t", "u")
	f.Add("x", "y", -1e21, int64(1), int64(2), "p", "q", "t", "u")
	f.Fuzz(func(t *testing.T, runID, key string, value float64, ts, step int64, pk, pv, tk, tv string) {
		metrics := []Metric{{key, value, ts, step}, {key, value, ts + 1, step}, {"other", 1, 0, 0}}
		body := encodeLogBatch(runID, metrics, []Param{{pk, pv}}, []RunTag{{tk, tv}})
		if !json.Valid(body) {
			t.Fatalf("invalid JSON: %s", body)
		}
		var got struct {
			RunID   string   `json:"run_id"`
			Metrics []Metric `json:"metrics"`
			Params  []Param  `json:"params"`
			Tags    []RunTag `json:"tags"`
		}
		if err := json.Unmarshal(body, &got); err != nil {
			t.Fatalf("%v: %s", err, body)
		}
		// encoding/json turns invalid UTF-8 into U+FFFD both ways.
		want := func(s string) string {
			var out string
			b, _ := json.Marshal(s)
			_ = json.Unmarshal(b, &out)
			return out
		}
		if got.RunID != want(runID) || len(got.Metrics) != 3 || len(got.Params) != 1 || len(got.Tags) != 1 {
			t.Fatalf("decoded %+v from %s", got, body)
		}
		for i, m := range got.Metrics {
			w := metrics[i]
			if m.Key != want(w.Key) || m.Timestamp != w.Timestamp || m.Step != w.Step ||
				!(m.Value == w.Value || math.IsNaN(m.Value) && math.IsNaN(w.Value)) {
				t.Fatalf("metric %d: got %+v, want %+v (%s)", i, m, w, body)
			}
		}
		if got.Params[0] != (Param{want(pk), want(pv)}) || got.Tags[0] != (RunTag{want(tk), want(tv)}) {
			t.Fatalf("params/tags: %+v %+v (%s)", got.Params, got.Tags, body)
		}
	})
}

func TestEncodeLogBatchShape(t *testing.T) {
	got := string(encodeLogBatch("r1", []Metric{{"a", 1.5, 2, 3}, {"a", math.NaN(), 4, 5}}, nil, []RunTag{{"t", "v"}}))
	want := `{"run_id":"r1","metrics":[{"key":"a","value":1.5,"timestamp":2,"step":3},{"key":"a","value":"NaN","timestamp":4,"step":5}],"tags":[{"key":"t","value":"v"}]}`
	if got != want {
		t.Fatalf("got  %s\nwant %s", got, want)
	}
}

// encodeItems writes, from the items, the same body encodeLogBatch writes
// from the converted metrics, params and tags: shared and changing times and
// steps (the tail copied from the point before must change with either),
// the zero time, special values, keys that need escaping.
func TestEncodeItemsMatchesEncodeLogBatch(t *testing.T) {
	t0 := time.UnixMilli(1767225600123)
	m := func(key string, v float64, step int64, at time.Time) mlerr.Item {
		return mlerr.Item{Kind: mlerr.ItemMetric, Key: key, Value: v, Step: step, Time: at}
	}
	p := mlerr.Item{Kind: mlerr.ItemParam, Key: "lr", Text: "0.1"}
	tag := mlerr.Item{Kind: mlerr.ItemTag, Key: "note", Text: "a \"b\"\n"}
	cases := []struct {
		name  string
		items []mlerr.Item
	}{
		{"one step, one time", []mlerr.Item{m("a", 1, 3, t0), m("b", 2, 3, t0), m("c", 3, 3, t0)}},
		{"the step changes", []mlerr.Item{m("a", 1, 3, t0), m("a", 1, 4, t0), m("a", 1, 4, t0)}},
		{"the time changes", []mlerr.Item{m("a", 1, 3, t0), m("a", 1, 3, t0.Add(time.Millisecond)), m("a", 1, 3, t0)}},
		{"the same instant in another zone", []mlerr.Item{m("a", 1, 3, t0), m("b", 1, 3, t0.UTC())}},
		{"under a millisecond apart", []mlerr.Item{m("a", 1, 3, t0), m("b", 1, 3, t0.Add(time.Microsecond))}},
		{"zero time, then a time", []mlerr.Item{m("a", 1, 0, time.Time{}), m("b", 1, 0, t0), m("c", 1, 0, time.Time{})}},
		{"extreme steps, special values", []mlerr.Item{m("a", math.NaN(), math.MinInt64, t0), m("a", math.Inf(1), math.MaxInt64, t0),
			m("a", math.Inf(-1), -1, t0), m("a", -1e21, 0, t0), m("a", 1e-300, 0, t0)}},
		{"escaped and unicode keys", []mlerr.Item{m("ünï", 1, 1, t0), m("a\"b", 1, 1, t0), m("\xff", 1, 1, t0)}},
		{"metrics, params and tags", []mlerr.Item{m("a", 1, 1, t0), p, tag, m("b", 2, 1, t0)}},
		{"params and tags only", []mlerr.Item{p, tag}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			var mIdx, pIdx, tIdx []int
			var metrics []Metric
			var params []Param
			var tags []RunTag
			for i, it := range tc.items {
				switch it.Kind {
				case mlerr.ItemMetric:
					mIdx = append(mIdx, i)
					metrics = append(metrics, Metric{it.Key, it.Value, millis(it.Time), it.Step})
				case mlerr.ItemParam:
					pIdx = append(pIdx, i)
					params = append(params, Param{it.Key, it.Text})
				case mlerr.ItemTag:
					tIdx = append(tIdx, i)
					tags = append(tags, RunTag{it.Key, it.Text})
				}
			}
			got := string(encodeItems("r1", tc.items, mIdx, pIdx, tIdx))
			want := string(encodeLogBatch("r1", metrics, params, tags))
			if got != want {
				t.Fatalf("got  %s\nwant %s", got, want)
			}
		})
	}
}

// BenchmarkEncodeBatch1000 is the client's CPU per batch before HTTP: the
// checks, the split and the body of 1000 points, 100 keys at 10 steps (ten
// LogMetrics calls' worth, each call's points sharing a time and a step).
func BenchmarkEncodeBatch1000(b *testing.B) {
	items := make([]mlerr.Item, 0, 1000)
	t0 := time.UnixMilli(1767225600123)
	for s := range 10 {
		for k := range 100 {
			items = append(items, mlerr.Item{Kind: mlerr.ItemMetric, Key: fmt.Sprintf("metric_%03d", k),
				Value: float64(k) + 1/float64(s+1), Step: int64(s), Time: t0.Add(time.Duration(s) * time.Millisecond)})
		}
	}
	b.ReportAllocs()
	for b.Loop() {
		w := writer{batch: mlerr.Batch{RunID: "r", Seq: 1, Items: items}}
		for _, c := range w.plan() {
			_ = encodeItems("r", items, c.mIdx, c.pIdx, c.tIdx)
		}
	}
}
