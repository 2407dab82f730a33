package main

import (
	"strings"
	"testing"
)

const sample = `goos: linux
,bench.txt,
,mlerr/peer,CI
Errors/Is/depth=5/std-2,1.25,4%
Errors/Create/grpc-status-2,0.5,3%
Errors/Is/depth=1/std-2,0.9,∞
Errors/Create/std-2,1.6,19%
MultiError/Build/n=10000/errors.Join-2,12.9,30%
MultiError/Build/n=100/errors.Join-2,3.1,5%
Ratio/Success/direct-2,2.0,1%
Ratio/Success/retry-go-2,0.65,3%
geomean,1.1,

,bench.txt,
,mlerr-allocs/op,CI
Errors/Create/std-2,1,0%
Errors/Create/grpc-status-2,1,0%

,bench.txt,
,peer-allocs/op,CI
Errors/Create/std-2,1,0%
Errors/Create/grpc-status-2,3,0%
MultiError/Build/n=100/errors.Join-2,2.0004,0%
MultiError/Build/n=10000/errors.Join-2,0.51,0%

,bench.txt,
,peer-B/op,CI
Errors/Create/grpc-status-2,112,0%
`

func TestParseAndRender(t *testing.T) {
	st, err := parseCSV(strings.NewReader(sample))
	if err != nil {
		t.Fatal(err)
	}
	if got := st["Errors/Create/std"]["mlerr/peer"]; got.Value != 1.6 || got.CI != "19%" {
		t.Fatalf("Errors/Create/std ratio = %+v", got)
	}
	if _, ok := st["geomean"]; ok {
		t.Fatal("geomean read as a benchmark")
	}
	var b strings.Builder
	if err := render(&b, st, groups); err != nil {
		t.Fatal(err)
	}
	out := b.String()
	for _, want := range []string{
		"| Create | 1.6 ±19% | 0.5 ±3% | – | – |",
		"| Create | 1 | 1 | 3 (112 B) | – | – |",
		"| Is/depth=1 | 0.9 | – | – | – |",
		"- Errors Create vs std: 1.6 ±19%",
		"- Errors Is/depth=5 vs std: 1.25 ±4%",
		"- Multi-error Build/n=100 vs errors.Join: 3.1 ±5%",
		"| Success | 2 ±1% | – | 0.65 ±3% | – | – |",
		"| Build/n=100 | ? | 2 | – | – |",
		"| Build/n=10000 | ? | 0.51 | – | – |",
	} {
		if !strings.Contains(out, want) {
			t.Errorf("output lacks %q:\n%s", want, out)
		}
	}
	// Jobs in the benchmarks' order, sizes and depths in numeric order.
	order := []string{"| Create |", "| Is/depth=1 |", "| Is/depth=5 |", "| Build/n=100 |", "| Build/n=10000 |"}
	last := -1
	for _, s := range order {
		i := strings.Index(out, s)
		if i <= last {
			t.Errorf("%q out of order", s)
		}
		last = i
	}
	if strings.Contains(out, "vs direct") {
		t.Error("a baseline column is listed as a slower peer")
	}
}

func TestParseErrors(t *testing.T) {
	for _, in := range []string{
		"Errors/Create/std-2,1.6,19%\n",                      // no unit row
		",x,\n,mlerr/peer,CI\nErrors/Create/std-2,fast,1%\n", // not a number
	} {
		if _, err := parseCSV(strings.NewReader(in)); err == nil {
			t.Errorf("%q: no error", in)
		}
	}
}
