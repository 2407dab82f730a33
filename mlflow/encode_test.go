package mlflow

import (
	"encoding/json"
	"math"
	"testing"
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
