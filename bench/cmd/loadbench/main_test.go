package main

import (
	"encoding/json"
	"strings"
	"testing"
)

// A raw body is 1000 distinct points of the workload, valid JSON.
func TestRawBody(t *testing.T) {
	var got struct {
		RunID   string `json:"run_id"`
		Metrics []struct {
			Key   string  `json:"key"`
			Value float64 `json:"value"`
			Step  int64   `json:"step"`
		} `json:"metrics"`
	}
	if err := json.Unmarshal(rawBody("r1", 20, 100), &got); err != nil {
		t.Fatal(err)
	}
	seen := map[string]bool{}
	for _, m := range got.Metrics {
		k := int(m.Key[len(m.Key)-1]-'0') + 10*int(m.Key[len(m.Key)-2]-'0')
		if m.Step < 20 || m.Step >= 30 || m.Value != float64(k)+1/float64(m.Step+1) {
			t.Fatalf("point %+v is not the workload's", m)
		}
		seen[m.Key+"@"+string(rune(m.Step))] = true
	}
	if got.RunID != "r1" || len(got.Metrics) != 1000 || len(seen) != 1000 {
		t.Fatalf("run %q, %d metrics, %d distinct", got.RunID, len(got.Metrics), len(seen))
	}
}

// compute sums ranks up: the span from the first start to the last
// acknowledgement, CPU per point, worst latencies, failed ranks left out.
func TestCompute(t *testing.T) {
	ok := func(start, acked, cpu, p99, rss float64, netErrs int) *child {
		c := &child{PeakRSS: rss, Out: childOut{RunID: "r", StartUnix: start, AckedUnix: acked, CPUS: cpu, CallP99: p99, CallMax: 2 * p99}}
		for range netErrs {
			c.Out.Events = append(c.Out.Events, struct {
				Callback string `json:"callback"`
			}{"OnNetworkError"})
		}
		return c
	}
	g := &group{Ranks: 3, Keys: 10, Steps: 100, Kids: []*child{
		ok(100, 102, 0.001, 50, 20, 1), ok(100.5, 104, 0.002, 80, 30, 2), {Exit: 1},
	}}
	s := g.compute()
	want := stats{Points: 3000, SpanS: 4, PointsPerS: 750, CPUPerPointUS: 1, P99MedianUS: 80, P99MaxUS: 80,
		CallMaxUS: 160, RSSMaxMiB: 30, RSSMedianMiB: 30, Failed: 1, NetErrMin: 1, NetErrMax: 2,
		FirstStartUnix: 100, LastAckedUnix: 104}
	s.MedianCallP50US, s.LoopMaxS = 0, 0
	if s != want {
		t.Fatalf("got  %+v\nwant %+v", s, want)
	}
}

func TestWindow(t *testing.T) {
	v := []int64{1, 2, 3, 4}
	cases := []struct {
		from, to int
		want     int64
	}{{0, 4, 10}, {1, 3, 5}, {-2, 1, 1}, {3, 99, 4}, {5, 9, 0}, {2, 2, 0}}
	for _, tc := range cases {
		if got := sum(window(v, tc.from, tc.to)); got != tc.want {
			t.Errorf("window(%d, %d): sum %d, want %d", tc.from, tc.to, got, tc.want)
		}
	}
}

// render shows a group that could not run with its reason, and the CPU
// ratio against the Python sync client.
func TestRender(t *testing.T) {
	r := &results{Label: "test", RawBest: rawLevel{Keys: 10, Concurrency: 4, PointsPerS: 1000}, Raw: []rawLevel{{Keys: 10, Concurrency: 4, PointsPerS: 1000}}}
	r.Groups = []*group{
		{Row: 2, Client: "mlerr", Ranks: 1, InFlight: 1, Keys: 10, Stats: stats{Points: 100, SpanS: 1, PointsPerS: 900, CPUPerPointUS: 0.5}},
		{Row: 2, Client: "mlerr", Ranks: 1, InFlight: 2, Unavailable: "no Limits.InFlight"},
		{Row: 6, Client: "python-sync", Ranks: 1, InFlight: 1, Stats: stats{Points: 100, SpanS: 1, PointsPerS: 800, CPUPerPointUS: 20}},
	}
	md := render(r)
	for _, want := range []string{"| mlerr | 1 | 1.0 s | 900 | 0.90 |", "not measured: no Limits.InFlight", "| 2 | 1 | 1 | 0.500 µs | 20.00 µs (R=1) | 40.0x |"} {
		if !strings.Contains(md, want) {
			t.Errorf("no %q in\n%s", want, md)
		}
	}
}
