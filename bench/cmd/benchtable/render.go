package main

import (
	"fmt"
	"io"
	"math"
	"slices"
	"strconv"
	"strings"
)

// render writes one section per group that has benchmarks in st, then the
// list of every pairing where mlerr is slower than a peer library.
func render(w io.Writer, st stats, gs []group) error {
	var slower []string
	for _, g := range gs {
		rows, cells := collect(st, g)
		if len(rows) == 0 {
			continue
		}
		fmt.Fprintf(w, "### %s\n\n%s\n\n", g.Title, g.Note)
		fmt.Fprintf(w, "mlerr ÷ peer, time per call (median of the runs ± its 95%% confidence interval; below 1: mlerr is faster)\n\n")
		header(w, "job", g.Peers)
		for _, row := range rows {
			fmt.Fprintf(w, "| %s |", row)
			for _, p := range g.Peers {
				m, ok := cells[row+"/"+p]
				if !ok {
					fmt.Fprint(w, " – |")
					continue
				}
				r, ok := m["mlerr/peer"]
				if !ok {
					fmt.Fprint(w, " – |")
					continue
				}
				fmt.Fprintf(w, " %s |", ratioCell(r))
				if r.Value > 1 && !g.Baselines[p] {
					slower = append(slower, fmt.Sprintf("%s %s vs %s: %s", g.Title, row, p, ratioCell(r)))
				}
			}
			fmt.Fprintln(w)
		}
		fmt.Fprintf(w, "\nAllocations per call, mlerr vs each peer (bytes in parentheses)\n\n")
		header(w, "job", append([]string{"mlerr"}, g.Peers...))
		for _, row := range rows {
			fmt.Fprintf(w, "| %s |", row)
			ours := ""
			for _, p := range g.Peers {
				if m, ok := cells[row+"/"+p]; ok && ours == "" {
					ours = allocCell(m, "mlerr")
				}
			}
			fmt.Fprintf(w, " %s |", ours)
			for _, p := range g.Peers {
				if m, ok := cells[row+"/"+p]; ok {
					fmt.Fprintf(w, " %s |", allocCell(m, "peer"))
				} else {
					fmt.Fprint(w, " – |")
				}
			}
			fmt.Fprintln(w)
		}
		fmt.Fprintln(w)
	}
	fmt.Fprintf(w, "### Where mlerr is slower than a peer\n\n")
	if len(slower) == 0 {
		fmt.Fprintln(w, "Nowhere in this run.")
		return nil
	}
	for _, s := range slower {
		fmt.Fprintf(w, "- %s\n", s)
	}
	return nil
}

// collect returns the group's jobs in the order of their first benchmark
// name (sorted), and the metrics of each "job/peer".
func collect(st stats, g group) (rows []string, cells map[string]map[string]stat) {
	cells = map[string]map[string]stat{}
	names := make([]string, 0, len(st))
	for name := range st {
		names = append(names, name)
	}
	slices.SortFunc(names, compareNames)
	for _, name := range names {
		rest, ok := strings.CutPrefix(name, g.Prefix)
		if !ok {
			continue
		}
		i := strings.LastIndex(rest, "/")
		if i < 0 || !slices.Contains(g.Peers, rest[i+1:]) {
			continue
		}
		row := rest[:i]
		if !slices.Contains(rows, row) {
			rows = append(rows, row)
		}
		cells[rest] = st[name]
	}
	return rows, cells
}

// compareNames orders names by their elements, numbers in numeric order
// ("n=100" before "n=10000", "depth=1" before "depth=5"), and otherwise
// puts the jobs in the order of jobOrder: Create, Wrap, Is, CodeOf,
// Encode, Decode; Build, Is, Error; Success, ThreeFailures.
func compareNames(a, b string) int {
	ea, eb := strings.Split(a, "/"), strings.Split(b, "/")
	for i := 0; i < len(ea) && i < len(eb); i++ {
		if c := compareElem(ea[i], eb[i]); c != 0 {
			return c
		}
	}
	return len(ea) - len(eb)
}

var jobOrder = []string{"Create", "Wrap", "Build", "Is", "CodeOf", "Encode", "Decode", "Error", "Success", "ThreeFailures"}

func compareElem(a, b string) int {
	if a == b {
		return 0
	}
	ia, ib := slices.Index(jobOrder, a), slices.Index(jobOrder, b)
	if ia >= 0 && ib >= 0 {
		return ia - ib
	}
	ka, va, oka := strings.Cut(a, "=")
	kb, vb, okb := strings.Cut(b, "=")
	if oka && okb && ka == kb {
		na, erra := strconv.Atoi(va)
		nb, errb := strconv.Atoi(vb)
		if erra == nil && errb == nil {
			return na - nb
		}
	}
	return strings.Compare(a, b)
}

func header(w io.Writer, first string, cols []string) {
	fmt.Fprintf(w, "| %s |", first)
	for _, c := range cols {
		fmt.Fprintf(w, " %s |", c)
	}
	fmt.Fprint(w, "\n|---|")
	for range cols {
		fmt.Fprint(w, "---:|")
	}
	fmt.Fprintln(w)
}

// ratioCell formats a ratio with three significant digits and its interval.
func ratioCell(s stat) string {
	v := strconv.FormatFloat(s.Value, 'g', 3, 64)
	if strings.ContainsAny(v, "e") {
		v = strconv.FormatFloat(s.Value, 'f', -1, 64)
	}
	if s.CI == "" || s.CI == "∞" {
		return v
	}
	return v + " ±" + s.CI
}

// allocCell formats a side's allocations and bytes per call.
func allocCell(m map[string]stat, side string) string {
	a, okA := m[side+"-allocs/op"]
	b, okB := m[side+"-B/op"]
	if !okA {
		return "?"
	}
	// The counts are means over many calls: 2.001 is 2 with a rare
	// allocation of the runtime in the loop.
	var s string
	if a.Value >= 10 || math.Abs(a.Value-math.Round(a.Value)) < 0.05 {
		s = strconv.FormatFloat(math.Round(a.Value), 'f', 0, 64)
	} else {
		s = strconv.FormatFloat(a.Value, 'f', 2, 64)
	}
	if okB {
		s += " (" + bytesText(b.Value) + ")"
	}
	return s
}

func bytesText(b float64) string {
	switch {
	case b >= 1<<20:
		return strconv.FormatFloat(b/(1<<20), 'f', 1, 64) + " MiB"
	case b >= 10*1024:
		return strconv.FormatFloat(b/1024, 'f', 0, 64) + " KiB"
	default:
		return strconv.FormatFloat(b, 'f', 0, 64) + " B"
	}
}
