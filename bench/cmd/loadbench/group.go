package main

import (
	"context"
	"fmt"
	"path/filepath"
	"slices"
	"strconv"
	"time"
)

// group is one measurement: R clients of one kind, started at once.
type group struct {
	Row         int           `json:"row"`
	Client      string        `json:"client"` // mlerr, python-sync, python-async
	Ranks       int           `json:"ranks"`
	InFlight    int           `json:"inflight"`
	Keys        int           `json:"keys"`
	Steps       int           `json:"steps"`
	Unavailable string        `json:"unavailable,omitempty"` // why the group did not run
	Kids        []*child      `json:"clients"`
	Held        held          `json:"held"`
	Proxy       *proxySummary `json:"proxy,omitempty"`
	Probe       *rawLevel     `json:"probe,omitempty"` // the raw limit again, just before the group
	Stats       stats         `json:"stats"`
	profile     bool
}

// stats is what the tables show of a group.
type stats struct {
	Points          int64   `json:"points"`
	SpanS           float64 `json:"span_s"` // first start to last acknowledgement
	PointsPerS      float64 `json:"points_per_s"`
	CPUPerPointUS   float64 `json:"cpu_per_point_us"`      // logging CPU (each client's own rusage, loop start to acked)
	ProcPerPointUS  float64 `json:"proc_cpu_per_point_us"` // whole processes (wait4)
	P99MedianUS     float64 `json:"call_p99_median_us"`    // median over ranks of each rank's p99
	P99MaxUS        float64 `json:"call_p99_max_us"`
	CallMaxUS       float64 `json:"call_max_us"`
	RSSMaxMiB       float64 `json:"rss_max_mib"`
	RSSMedianMiB    float64 `json:"rss_median_mib"`
	Failed          int     `json:"failed_clients"`
	NetErrMin       int     `json:"on_network_error_min"`
	NetErrMax       int     `json:"on_network_error_max"`
	Retries         int64   `json:"retries"`
	LostInClients   int     `json:"lost_reported_by_clients"`
	FirstStartUnix  float64 `json:"first_start_unix"`
	LastAckedUnix   float64 `json:"last_acked_unix"`
	LoopMaxS        float64 `json:"loop_max_s"`
	MedianCallP50US float64 `json:"call_p50_median_us"`
}

func (g *group) name() string {
	return fmt.Sprintf("row%d-%s-r%d-k%d", g.Row, g.Client, g.Ranks, g.InFlight)
}

// argv is the command line of rank i of the group, logging to uri.
func (g *group) argv(o *opts, i int, uri string) []string {
	run := fmt.Sprintf("%s-%d", g.name(), i)
	keys, steps := strconv.Itoa(g.Keys), strconv.Itoa(g.Steps)
	if g.Client == "mlerr" {
		a := []string{filepath.Join(o.bin, "mlflowload"), "-uri", uri, "-experiment", o.experiment, "-run-name", run,
			"-keys", keys, "-steps", steps, "-inflight", strconv.Itoa(g.InFlight), "-ready", "-timeout", "20m"}
		if g.profile && i == 0 {
			a = append(a, "-cpuprofile", filepath.Join(o.workdir, g.name()+".pprof"))
		}
		return a
	}
	script := "client_sync.py"
	if g.Client == "python-async" {
		script = "client_async.py"
	}
	return []string{o.python, filepath.Join(o.pyDir, script), "--uri", uri, "--experiment", o.experiment,
		"--run-name", run, "--keys", keys, "--steps", steps, "--ready"}
}

// add runs the group's clients against uri, reads their points back from
// the server (o.uri, never through a proxy) and appends the group.
func (res *results) add(ctx context.Context, o *opts, g *group, uri string) {
	res.Groups = append(res.Groups, g)
	logf("row %d: %s, %d rank(s) x %d keys x %d steps, %d in flight", g.Row, g.Client, g.Ranks, g.Keys, g.Steps, g.InFlight)
	res.probe(ctx, o, g)
	names := make([]string, g.Ranks)
	argvs := make([][]string, g.Ranks)
	for i := range names {
		names[i] = fmt.Sprintf("%s-%d", g.name(), i)
		argvs[i] = g.argv(o, i, uri)
	}
	kids, err := runAll(o.workdir, names, argvs)
	g.Kids = kids
	if err != nil {
		g.Unavailable = err.Error()
		logf("  not measured: %v", err)
		return
	}
	var runs []string
	for _, k := range kids {
		if k.Out.RunID != "" {
			runs = append(runs, k.Out.RunID)
		}
	}
	t := time.Now()
	g.Held = verify(ctx, o.uri, runs, g.Keys, g.Steps)
	g.Stats = g.compute()
	if g.profile {
		res.Profiles = append(res.Profiles, filepath.Join(o.workdir, g.name()+".pprof"))
	}
	logf("  %.0f points/s, %.3f µs CPU/point, server holds %d distinct of %d (%d rows; read back in %.1f s)",
		g.Stats.PointsPerS, g.Stats.CPUPerPointUS, g.Held.Distinct, g.Stats.Points, g.Held.Rows, time.Since(t).Seconds())
}

// probe measures the raw limit again just before g, at the best
// concurrency of g's request shape, for -probe: on a shared machine the
// server's capacity drifts during a run.
func (res *results) probe(ctx context.Context, o *opts, g *group) {
	best := res.bestFor(g)
	if o.probeDur <= 0 || best.PointsPerS == 0 {
		return
	}
	lv, err := rawSweep(ctx, o.uri, o.experiment, best.Keys, []int{best.Concurrency}, o.probeDur)
	if err == nil && len(lv) == 1 {
		g.Probe = &lv[0]
	}
}

// bestFor is row 1's best level for requests shaped as g's.
func (res *results) bestFor(g *group) rawLevel {
	if g.Keys == res.RawBestOne.Keys {
		return res.RawBestOne
	}
	return res.RawBest
}

func median(v []float64) float64 {
	if len(v) == 0 {
		return 0
	}
	slices.Sort(v)
	return v[len(v)/2]
}

// compute sums the group's clients up.
func (g *group) compute() stats {
	s := stats{Points: int64(g.Ranks * g.Keys * g.Steps), NetErrMin: -1}
	var p99, rss, p50 []float64
	var cpu, proc float64
	for _, k := range g.Kids {
		if k.Err != "" || k.Exit != 0 || k.Out.RunID == "" {
			s.Failed++
			continue
		}
		o := k.Out
		if s.FirstStartUnix == 0 || o.StartUnix < s.FirstStartUnix {
			s.FirstStartUnix = o.StartUnix
		}
		s.LastAckedUnix = max(s.LastAckedUnix, o.AckedUnix)
		s.LoopMaxS = max(s.LoopMaxS, o.LoopS)
		cpu += o.CPUS
		proc += k.ProcCPU
		p99 = append(p99, o.CallP99)
		p50 = append(p50, o.CallP50)
		s.P99MaxUS = max(s.P99MaxUS, o.CallP99)
		s.CallMaxUS = max(s.CallMaxUS, o.CallMax)
		rss = append(rss, k.PeakRSS)
		s.RSSMaxMiB = max(s.RSSMaxMiB, k.PeakRSS)
		s.Retries += o.Retries
		s.LostInClients += o.Lost
		n := 0
		for _, e := range o.Events {
			if e.Callback == "OnNetworkError" {
				n++
			}
		}
		if s.NetErrMin < 0 || n < s.NetErrMin {
			s.NetErrMin = n
		}
		s.NetErrMax = max(s.NetErrMax, n)
	}
	s.SpanS = s.LastAckedUnix - s.FirstStartUnix
	if s.SpanS > 0 {
		s.PointsPerS = float64(s.Points) / s.SpanS
	}
	s.CPUPerPointUS = cpu / float64(s.Points) * 1e6
	s.ProcPerPointUS = proc / float64(s.Points) * 1e6
	s.P99MedianUS = median(p99)
	s.MedianCallP50US = median(p50)
	s.RSSMedianMiB = median(rss)
	return s
}
