// Command loadbench is the load benchmark of bench/load.sh: many ranks
// against one MLflow tracking server (PostgreSQL with several workers, or
// SQLite), every figure a ratio taken in the same run. Rows:
//
//  1. the raw limit: prepared 1000-metric log-batch POSTs, a sweep of
//     concurrencies; the best is the ceiling every other row is taken
//     against;
//  2. one Run (bench/cmd/mlflowload), keys x steps, for each in-flight count;
//  3. R ranks, separate processes, one run each: aggregate points/s, LogMetrics
//     p99 and max per rank, peak RSS per rank;
//  4. R ranks through an outage (bench/cmd/faultproxy refusing connections):
//     lost and duplicated points, the server's request rate after the outage
//     against its steady rate, the time until every rank drained;
//  5. R ranks through a proxy that allows a fraction of the raw limit and
//     answers 429 + Retry-After above it: the share of 429s after the first
//     10 s;
//  6. the MLflow Python client (sync log_batch, async log_metrics) for rows 2
//     and 3.
//
// Every client is a child process started at once with the others (they
// print READY, the driver answers on stdin); its CPU per point is its own
// rusage over the logging, and its points are read back from the server.
// It writes the results as JSON (-json) and Markdown tables (-md).
package main

import (
	"context"
	"encoding/json"
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"time"
)

// opts are the command's flags.
type opts struct {
	uri, label, bin, python, pyDir, experiment, workdir, jsonOut, mdOut, command string
	rows                                                                         map[int]bool
	rawConc, inflight, ranks                                                     []int
	rawDur, probeDur, outage                                                     time.Duration
	oneKeys, oneSteps, rankKeys, rankSteps                                       int
	outageRanks, rateRanks, rateSteps, pyRanks, ranksInFlight                    int
	rateFrac                                                                     float64
	profile                                                                      bool
}

func logf(format string, args ...any) {
	fmt.Fprintf(os.Stderr, "[loadbench] "+format+"\n", args...)
}

func ints(s string) ([]int, error) {
	var out []int
	for _, f := range strings.FieldsFunc(s, func(r rune) bool { return r == ',' || r == ' ' }) {
		n, err := strconv.Atoi(f)
		if err != nil || n < 1 {
			return nil, fmt.Errorf("%q is not a list of positive integers", s)
		}
		out = append(out, n)
	}
	return out, nil
}

func parse() (*opts, error) {
	o := &opts{}
	var rows, rawConc, inflight, ranks string
	flag.StringVar(&o.uri, "uri", "", "the MLflow server")
	flag.StringVar(&o.label, "label", "", "the server, for the tables (such as \"PostgreSQL, 4 workers\")")
	flag.StringVar(&o.bin, "bin", "", "directory with the mlflowload and faultproxy binaries")
	flag.StringVar(&o.python, "python", "", "the Python with mlflow (row 6; empty: no row 6)")
	flag.StringVar(&o.pyDir, "py-dir", "", "directory of client_sync.py and client_async.py")
	flag.StringVar(&o.experiment, "experiment", "loadbench-"+time.Now().UTC().Format("20060102-150405"), "experiment name")
	flag.StringVar(&o.workdir, "workdir", "", "where the clients' stderr and profiles go")
	flag.StringVar(&o.jsonOut, "json", "", "write the results as JSON here")
	flag.StringVar(&o.mdOut, "md", "", "write the tables as Markdown here")
	flag.StringVar(&o.command, "command", "", "the command that reproduces the run, for the tables")
	flag.StringVar(&rows, "rows", "1,2,3,4,5,6", "rows to run")
	flag.StringVar(&rawConc, "raw-conc", "1,2,4,8,16", "row 1: concurrencies of the sweep")
	flag.DurationVar(&o.rawDur, "raw-dur", 6*time.Second, "row 1: how long each concurrency runs")
	flag.DurationVar(&o.probeDur, "probe", 4*time.Second, "measure the raw limit again for this long before each group (0: never)")
	flag.IntVar(&o.oneKeys, "one-keys", 100, "row 2: keys")
	flag.IntVar(&o.oneSteps, "one-steps", 10000, "row 2: steps")
	flag.StringVar(&inflight, "inflight", "1,2,4,8", "row 2: batches in flight")
	flag.StringVar(&ranks, "ranks", "8,32,64", "row 3: rank counts")
	flag.IntVar(&o.rankKeys, "rank-keys", 100, "rows 3-6: keys per rank")
	flag.IntVar(&o.rankSteps, "rank-steps", 1000, "rows 3, 4, 6: steps per rank")
	flag.IntVar(&o.outageRanks, "outage-ranks", 8, "row 4: ranks")
	flag.DurationVar(&o.outage, "outage", 30*time.Second, "row 4: the outage")
	flag.IntVar(&o.rateRanks, "rate-ranks", 8, "row 5: ranks")
	flag.IntVar(&o.rateSteps, "rate-steps", 1000, "row 5: steps per rank")
	flag.Float64Var(&o.rateFrac, "rate-frac", 0.5, "row 5: the allowed request rate, a fraction of the raw limit")
	flag.IntVar(&o.pyRanks, "py-ranks", 8, "row 6: Python processes for row 3")
	flag.IntVar(&o.ranksInFlight, "ranks-inflight", 1, "rows 3-5: batches in flight per rank")
	flag.BoolVar(&o.profile, "profile", true, "write a CPU profile of the K=1 one-Run client and of rank 0 of row 3")
	flag.Parse()
	var err error
	o.rows = map[int]bool{}
	rs, err := ints(rows)
	if err != nil {
		return nil, err
	}
	for _, r := range rs {
		o.rows[r] = true
	}
	if o.rawConc, err = ints(rawConc); err != nil {
		return nil, err
	}
	if o.inflight, err = ints(inflight); err != nil {
		return nil, err
	}
	if o.ranks, err = ints(ranks); err != nil {
		return nil, err
	}
	if o.uri == "" || o.bin == "" {
		return nil, fmt.Errorf("need -uri and -bin")
	}
	if o.workdir == "" {
		o.workdir, err = os.MkdirTemp("", "loadbench-")
	}
	return o, err
}

func main() {
	o, err := parse()
	if err != nil {
		fmt.Fprintln(os.Stderr, "loadbench:", err)
		os.Exit(2)
	}
	res, err := bench(context.Background(), o)
	if err != nil {
		fmt.Fprintln(os.Stderr, "loadbench:", err)
		os.Exit(1)
	}
	if o.jsonOut != "" {
		b, _ := json.MarshalIndent(res, "", " ")
		if err := os.WriteFile(o.jsonOut, b, 0o644); err != nil {
			fmt.Fprintln(os.Stderr, "loadbench:", err)
			os.Exit(1)
		}
	}
	md := render(res)
	if o.mdOut != "" {
		if err := os.WriteFile(o.mdOut, []byte(md), 0o644); err != nil {
			fmt.Fprintln(os.Stderr, "loadbench:", err)
			os.Exit(1)
		}
	} else {
		fmt.Print(md)
	}
}

// results is everything one invocation measured.
type results struct {
	Label      string     `json:"label"`
	URI        string     `json:"uri"`
	Started    string     `json:"started"`
	Command    string     `json:"command"`
	LoadStart  string     `json:"load_start"`
	LoadEnd    string     `json:"load_end"`
	Seconds    float64    `json:"seconds"`
	Raw        []rawLevel `json:"raw"`
	RawBest    rawLevel   `json:"raw_best"`     // the ceiling of rows 3-5 (requests shaped as theirs)
	RawBestOne rawLevel   `json:"raw_best_one"` // the ceiling of row 2 (its shape: -one-keys per request)
	Groups     []*group   `json:"groups"`
	Profiles   []string   `json:"profiles"`
	Experiment string     `json:"experiment"`
}

func loadavg() string {
	b, err := os.ReadFile("/proc/loadavg")
	if err != nil {
		return "?"
	}
	return strings.Join(strings.Fields(string(b))[:3], " ")
}

func bench(ctx context.Context, o *opts) (*results, error) {
	t0 := time.Now()
	res := &results{Label: o.label, URI: o.uri, Started: t0.UTC().Format("2006-01-02 15:04 UTC"),
		Command: o.command, LoadStart: loadavg(), Experiment: o.experiment}
	if o.rows[1] {
		if err := row1(ctx, o, res); err != nil {
			return nil, err
		}
	}
	steps := []func(context.Context, *opts, *results){row2, row3, row4, row5, row6}
	for i, step := range steps {
		if o.rows[i+2] {
			step(ctx, o, res)
		}
	}
	res.LoadEnd = loadavg()
	res.Seconds = time.Since(t0).Seconds()
	return res, nil
}

// row1 sweeps the concurrencies with requests shaped as the ranks' batches
// (rows 3-5) and, when row 2's differ, as its.
func row1(ctx context.Context, o *opts, res *results) error {
	shapes := []int{o.rankKeys}
	if o.oneKeys != o.rankKeys {
		shapes = append(shapes, o.oneKeys)
	}
	for _, keys := range shapes {
		if 1000%keys != 0 {
			return fmt.Errorf("row 1: %d keys do not divide a 1000-metric request", keys)
		}
		raw, err := rawSweep(ctx, o.uri, o.experiment, keys, o.rawConc, o.rawDur)
		if err != nil {
			return fmt.Errorf("row 1: %w", err)
		}
		res.Raw = append(res.Raw, raw...)
		for _, l := range raw {
			if keys == o.rankKeys && l.PointsPerS > res.RawBest.PointsPerS {
				res.RawBest = l
			}
			if keys == o.oneKeys && l.PointsPerS > res.RawBestOne.PointsPerS {
				res.RawBestOne = l
			}
		}
	}
	return nil
}

func row2(ctx context.Context, o *opts, res *results) {
	for _, k := range o.inflight {
		g := &group{Row: 2, Client: "mlerr", Ranks: 1, InFlight: k, Keys: o.oneKeys, Steps: o.oneSteps}
		g.profile = o.profile && k == 1
		res.add(ctx, o, g, o.uri)
	}
}

func row3(ctx context.Context, o *opts, res *results) {
	for _, r := range o.ranks {
		g := &group{Row: 3, Client: "mlerr", Ranks: r, InFlight: o.ranksInFlight, Keys: o.rankKeys, Steps: o.rankSteps}
		g.profile = o.profile && r == o.ranks[0]
		res.add(ctx, o, g, o.uri)
	}
}

func row4(ctx context.Context, o *opts, res *results) {
	g := &group{Row: 4, Client: "mlerr", Ranks: o.outageRanks, InFlight: o.ranksInFlight, Keys: o.rankKeys, Steps: o.rankSteps}
	total := g.Ranks * g.Keys * g.Steps
	res.behindProxy(ctx, o, g, "-after", strconv.Itoa(total/3), "-outage", o.outage.String(), "-mode", "refuse")
}

func row5(ctx context.Context, o *opts, res *results) {
	g := &group{Row: 5, Client: "mlerr", Ranks: o.rateRanks, InFlight: o.ranksInFlight, Keys: o.rankKeys, Steps: o.rateSteps}
	rate := o.rateFrac * res.RawBest.PointsPerS / 1000
	if rate <= 0 {
		g.Unavailable = "row 5 needs row 1's raw limit"
		res.Groups = append(res.Groups, g)
		return
	}
	res.behindProxy(ctx, o, g, "-rate", strconv.FormatFloat(rate, 'f', 2, 64), "-retry-after", "1s")
}

// behindProxy runs group g through a faultproxy in front of the server,
// started with args, and records the proxy's counts with the group (or why
// the proxy could not start or stop).
func (res *results) behindProxy(ctx context.Context, o *opts, g *group, args ...string) {
	p, err := startProxy(filepath.Join(o.bin, "faultproxy"), append([]string{"-target", o.uri}, args...)...)
	if err != nil {
		g.Unavailable = err.Error()
		res.Groups = append(res.Groups, g)
		return
	}
	res.add(ctx, o, g, p.URL)
	s, err := p.stop()
	if err != nil {
		g.Unavailable = err.Error()
	}
	g.Proxy = &s
}

func row6(ctx context.Context, o *opts, res *results) {
	if o.python == "" {
		return
	}
	for _, client := range []string{"python-sync", "python-async"} {
		res.add(ctx, o, &group{Row: 6, Client: client, Ranks: 1, InFlight: 1, Keys: o.oneKeys, Steps: o.oneSteps}, o.uri)
	}
	for _, client := range []string{"python-sync", "python-async"} {
		res.add(ctx, o, &group{Row: 6, Client: client, Ranks: o.pyRanks, InFlight: 1, Keys: o.rankKeys, Steps: o.rankSteps}, o.uri)
	}
}
