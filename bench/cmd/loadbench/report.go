package main

import (
	"fmt"
	"math"
	"strings"
)

// render writes the results as Markdown tables.
func render(r *results) string {
	var b strings.Builder
	w := func(format string, args ...any) { fmt.Fprintf(&b, format+"\n", args...) }
	w("#### %s", r.Label)
	w("")
	w("Measured %s, load average %s at the start and %s at the end, %.0f s in all.", r.Started, r.LoadStart, r.LoadEnd, r.Seconds)
	if r.Command != "" {
		w("Reproduce: `%s`", r.Command)
	}
	w("")
	renderRaw(w, r)
	renderOne(w, r)
	renderRanks(w, r)
	renderOutage(w, r)
	renderRate(w, r)
	renderCPU(w, r)
	return b.String()
}

type writer func(format string, args ...any)

func renderRaw(w writer, r *results) {
	if len(r.Raw) == 0 {
		return
	}
	w("Row 1, the raw limit: prepared 1000-metric log-batch POSTs, one run per connection, for each request shape.")
	w("")
	w("| request | concurrency | points/s | requests (failed) | vs best of its shape |")
	w("|---|---:|---:|---:|---:|")
	for _, l := range r.Raw {
		best := r.RawBest
		if l.Keys != best.Keys {
			best = r.RawBestOne
		}
		w("| %d keys x %d steps | %d | %.0f | %d (%d) | %.2f |", l.Keys, 1000/max(l.Keys, 1), l.Concurrency, l.PointsPerS, l.Requests, l.Failed,
			l.PointsPerS/best.PointsPerS)
	}
	w("")
	w("The raw limit: **%.0f points/s** with the ranks' requests (%d keys x %d steps, concurrency %d); the ceiling of rows 3-5.",
		r.RawBest.PointsPerS, r.RawBest.Keys, 1000/max(r.RawBest.Keys, 1), r.RawBest.Concurrency)
	if r.RawBestOne.Keys != r.RawBest.Keys && r.RawBestOne.PointsPerS > 0 {
		w("With row 2's (%d keys x %d steps): **%.0f points/s** (concurrency %d), its ceiling.",
			r.RawBestOne.Keys, 1000/max(r.RawBestOne.Keys, 1), r.RawBestOne.PointsPerS, r.RawBestOne.Concurrency)
	}
	w("")
}

// ratio is v against the raw limit of requests shaped as g's: row 1's,
// and the probe's just before g when there is one.
func (r *results) ratio(g *group, v float64) string {
	best := r.bestFor(g)
	if best.PointsPerS == 0 {
		return "-"
	}
	s := fmt.Sprintf("%.2f", v/best.PointsPerS)
	if g.Probe != nil && g.Probe.PointsPerS > 0 {
		s += fmt.Sprintf(" (%.2f)", v/g.Probe.PointsPerS)
	}
	return s
}

// pySync is the Python sync client's logging CPU per point for a group of
// ranks ranks (0 when it did not run).
func (r *results) pySync(ranks int) float64 {
	for _, g := range r.Groups {
		if g.Client == "python-sync" && g.Ranks == ranks && g.Unavailable == "" {
			return g.Stats.CPUPerPointUS
		}
	}
	return 0
}

func (r *results) vsPy(g *group, ranks int) string {
	py := r.pySync(ranks)
	if py == 0 || g.Stats.CPUPerPointUS == 0 {
		return "-"
	}
	return fmt.Sprintf("%.1fx", py/g.Stats.CPUPerPointUS)
}

func heldCell(g *group) string {
	missing := g.Stats.Points - g.Held.Distinct
	dup := g.Held.Rows - g.Held.Distinct
	s := fmt.Sprintf("%d", g.Held.Distinct)
	if missing != 0 || dup != 0 || g.Held.Wrong != 0 || g.Held.Failed != 0 {
		s += fmt.Sprintf(" (%d missing, %d duplicated, %d wrong, %d reads failed)", missing, dup, g.Held.Wrong, g.Held.Failed)
	}
	return s
}

func us(v float64) string {
	switch {
	case v >= 1e6:
		return fmt.Sprintf("%.2f s", v/1e6)
	case v >= 1e3:
		return fmt.Sprintf("%.1f ms", v/1e3)
	}
	return fmt.Sprintf("%.0f µs", v)
}

func renderOne(w writer, r *results) {
	gs := r.groupsWhere(func(g *group) bool { return (g.Row == 2 || g.Row == 6) && g.Ranks == 1 })
	if len(gs) == 0 {
		return
	}
	w("Rows 2 and 6, one run: %d keys x %d steps, to every point acknowledged.", gs[0].Keys, gs[0].Steps)
	w("")
	w("| client | in flight | to all acked | points/s | vs raw limit (vs the probe just before) | CPU/point logging | CPU/point process | Python sync CPU ÷ this | call p99 | call max | peak RSS | points on the server |")
	w("|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|")
	for _, g := range gs {
		if g.Unavailable != "" {
			w("| %s | %d | not measured: %s | | | | | | | | | |", g.Client, g.InFlight, g.Unavailable)
			continue
		}
		s := g.Stats
		w("| %s | %d | %.1f s | %.0f | %s | %.2f µs | %.2f µs | %s | %s | %s | %.0f MiB | %s |", g.Client, g.InFlight,
			s.SpanS, s.PointsPerS, r.ratio(g, s.PointsPerS), s.CPUPerPointUS, s.ProcPerPointUS, r.vsPy(g, 1),
			us(s.P99MaxUS), us(s.CallMaxUS), s.RSSMaxMiB, heldCell(g))
	}
	w("")
}

func renderRanks(w writer, r *results) {
	gs := r.groupsWhere(func(g *group) bool { return g.Row == 3 || (g.Row == 6 && g.Ranks > 1) })
	if len(gs) == 0 {
		return
	}
	w("Rows 3 and 6, R ranks (separate processes, one run each, %d keys x %d steps each), started at once.", gs[0].Keys, gs[0].Steps)
	w("")
	w("| client | R | in flight | points | first start to last ack | aggregate points/s | vs raw limit (vs the probe just before) | CPU/point logging | Python sync CPU ÷ this | call p99 (median rank, worst rank) | call max | peak RSS per rank (median, max) | points on the server | failed ranks |")
	w("|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|")
	for _, g := range gs {
		if g.Unavailable != "" {
			w("| %s | %d | %d | not measured: %s | | | | | | | | | | |", g.Client, g.Ranks, g.InFlight, g.Unavailable)
			continue
		}
		s := g.Stats
		w("| %s | %d | %d | %d | %.1f s | %.0f | %s | %.2f µs | %s | %s, %s | %s | %.0f, %.0f MiB | %s | %d |", g.Client, g.Ranks, g.InFlight,
			s.Points, s.SpanS, s.PointsPerS, r.ratio(g, s.PointsPerS), s.CPUPerPointUS, r.vsPy(g, r.pyRanksFor(g)),
			us(s.P99MedianUS), us(s.P99MaxUS), us(s.CallMaxUS), s.RSSMedianMiB, s.RSSMaxMiB, heldCell(g), s.Failed)
	}
	w("")
}

// pyRanksFor is the rank count of the Python sync group to compare g
// with: the same R when Python ran it, else the largest Python R.
func (r *results) pyRanksFor(g *group) int {
	best := 0
	for _, p := range r.Groups {
		if p.Client != "python-sync" || p.Ranks < 2 {
			continue
		}
		if p.Ranks == g.Ranks {
			return p.Ranks
		}
		best = max(best, p.Ranks)
	}
	return best
}

func sum(v []int64) int64 {
	var n int64
	for _, x := range v {
		n += x
	}
	return n
}

func window(v []int64, from, to int) []int64 {
	from, to = max(from, 0), min(to, len(v))
	if from >= to {
		return nil
	}
	return v[from:to]
}

// herd is the steady rate of v (per second, the whole seconds before the
// outage but the first) and its peak in the 10 s after the outage.
func herd(v []int64, p *proxySummary) (steady float64, peak int64) {
	before := window(v, 1, int(p.OutageStartedAt))
	end := int(math.Ceil(p.OutageEndedAt))
	for _, n := range window(v, end, end+10) {
		peak = max(peak, n)
	}
	return float64(sum(before)) / float64(max(len(before), 1)), peak
}

func renderOutage(w writer, r *results) {
	for _, g := range r.Groups {
		if g.Row != 4 {
			continue
		}
		if g.Unavailable != "" || g.Proxy == nil {
			w("Row 4 not measured: %s", g.Unavailable)
			w("")
			continue
		}
		p, s := g.Proxy, g.Stats
		inSteady, inPeak := herd(p.ArrivalsPerS, p)
		okSteady, okPeak := herd(p.OKPerSecond, p)
		drain := s.LastAckedUnix - (p.FirstUnix + p.OutageEndedAt)
		w("Row 4, %d ranks through a %.0f s outage (connections refused, then healed), %d keys x %d steps each, %d in flight.", g.Ranks,
			p.OutageEndedAt-p.OutageStartedAt, g.Keys, g.Steps, g.InFlight)
		w("")
		w("| points | points on the server | requests arriving: steady, peak 1 s in the 10 s after, ratio | accepted (2xx): steady, peak, ratio | every rank drained | OnNetworkError per rank | retries |")
		w("|---:|---:|---:|---:|---:|---:|---:|")
		w("| %d | %s | %.1f/s, %d/s, **%.2f** | %.1f/s, %d/s, %.2f | %.1f s after the outage | %d-%d | %d |", s.Points, heldCell(g),
			inSteady, inPeak, float64(inPeak)/math.Max(inSteady, 1e-9), okSteady, okPeak, float64(okPeak)/math.Max(okSteady, 1e-9),
			drain, s.NetErrMin, s.NetErrMax, s.Retries)
		w("")
		w("Log-batch requests arriving per second: %v; answered 2xx: %v; the outage from %.1f s to %.1f s.",
			p.ArrivalsPerS, p.OKPerSecond, p.OutageStartedAt, p.OutageEndedAt)
		w("")
	}
}

func renderRate(w writer, r *results) {
	for _, g := range r.Groups {
		if g.Row != 5 {
			continue
		}
		if g.Unavailable != "" || g.Proxy == nil {
			w("Row 5 not measured: %s", g.Unavailable)
			w("")
			continue
		}
		p, s := g.Proxy, g.Stats
		ok, lim := window(p.OKPerSecond, 10, len(p.OKPerSecond)-1), window(p.LimitedPerSec, 10, len(p.OKPerSecond)-1)
		share := float64(sum(lim)) / math.Max(float64(sum(lim)+sum(ok)), 1)
		got := float64(sum(ok)) / float64(max(len(ok), 1))
		w("Row 5, %d ranks through a proxy allowing %.1f log-batch requests/s (%.2f of the raw limit's request rate) and answering 429 + Retry-After: 1 above it; %d keys x %d steps each, %d in flight.",
			g.Ranks, p.Rate, p.Rate*1000/math.Max(r.RawBest.PointsPerS, 1), g.Keys, g.Steps, g.InFlight)
		w("")
		w("| points | points on the server | 429 share after the first 10 s | accepted rate after 10 s ÷ allowed | 429s in all | to all acked |")
		w("|---:|---:|---:|---:|---:|---:|")
		w("| %d | %s | %.1f%% | %.2f | %d | %.1f s |", s.Points, heldCell(g), 100*share, got/p.Rate, p.Limited, s.SpanS)
		w("")
		w("Per second, 2xx: %v; 429: %v.", p.OKPerSecond, p.LimitedPerSec)
		w("")
	}
}

func renderCPU(w writer, r *results) {
	py1 := r.pySync(1)
	var lines []string
	for _, g := range r.Groups {
		if g.Client != "mlerr" || g.Unavailable != "" || g.Row > 3 {
			continue
		}
		pr := 1
		if g.Ranks > 1 {
			pr = r.pyRanksFor(g)
		}
		py := r.pySync(pr)
		if pr == 1 {
			py = py1
		}
		if py == 0 || g.Stats.CPUPerPointUS == 0 {
			continue
		}
		lines = append(lines, fmt.Sprintf("| %d | %d | %d | %.3f µs | %.2f µs (R=%d) | %.1fx |", g.Row, g.Ranks, g.InFlight,
			g.Stats.CPUPerPointUS, py, pr, py/g.Stats.CPUPerPointUS))
	}
	if len(lines) == 0 {
		return
	}
	w("Client CPU per point while logging (each process's own rusage, loop start to every point acknowledged; target: Python sync ÷ mlerr >= 50x).")
	w("")
	w("| row | R | in flight | mlerr | Python sync | ratio |")
	w("|---:|---:|---:|---:|---:|---:|")
	for _, l := range lines {
		w("%s", l)
	}
	w("")
}

// groupsWhere returns the groups that keep says to, in order.
func (r *results) groupsWhere(keep func(*group) bool) []*group {
	var gs []*group
	for _, g := range r.Groups {
		if keep(g) {
			gs = append(gs, g)
		}
	}
	return gs
}
