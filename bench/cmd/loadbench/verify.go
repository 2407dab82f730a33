package main

import (
	"context"
	"fmt"
	"math"
	"sync"

	"github.com/mlerr/mlerr/mlflow"
)

// held is what the server holds for a set of runs of the workload.
type held struct {
	Rows     int64 `json:"rows"`     // history rows
	Distinct int64 `json:"distinct"` // distinct (run, key, step)
	Wrong    int64 `json:"wrong"`    // rows with a step or value the workload never logged
	Failed   int   `json:"failed"`   // history reads that failed
}

// verify reads back every key's history of every run (straight from the
// server, 4 reads at a time) and counts what it holds.
func verify(ctx context.Context, uri string, runs []string, keys, steps int) held {
	c, err := mlflow.NewClient(uri)
	if err != nil {
		return held{Failed: len(runs) * keys}
	}
	type job struct {
		run string
		k   int
	}
	jobs := make(chan job)
	var (
		mu  sync.Mutex
		out held
		wg  sync.WaitGroup
	)
	for range 4 {
		wg.Go(func() {
			for j := range jobs {
				h := readKey(ctx, c, j.run, j.k, steps)
				mu.Lock()
				out.Rows += h.Rows
				out.Distinct += h.Distinct
				out.Wrong += h.Wrong
				out.Failed += h.Failed
				mu.Unlock()
			}
		})
	}
	for _, r := range runs {
		for k := range keys {
			jobs <- job{r, k}
		}
	}
	close(jobs)
	wg.Wait()
	return out
}

// readKey counts one key's history.
func readKey(ctx context.Context, c *mlflow.Client, run string, k, steps int) held {
	hist, err := c.GetMetricHistory(ctx, run, fmt.Sprintf("metric_%03d", k))
	if err != nil {
		return held{Failed: 1}
	}
	seen := make(map[int64]bool, len(hist))
	var h held
	for _, m := range hist {
		h.Rows++
		seen[m.Step] = true
		if m.Step < 0 || m.Step >= int64(steps) || math.Abs(m.Value-(float64(k)+1/float64(m.Step+1))) > 1e-9 {
			h.Wrong++
		}
	}
	h.Distinct = int64(len(seen))
	return h
}
