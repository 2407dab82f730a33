package main

import (
	"fmt"
	"strings"
	"time"

	"github.com/mlerr/mlerr/localstore"
)

// progress shows a sync's progress on stderr: a bar redrawn in place on a
// terminal, else a line when a run starts and when it is done.
type progress struct {
	e     env
	last  time.Time
	drawn bool
	run   string
}

func newProgress(e env) *progress { return &progress{e: e} }

const barWidth = 30

func (p *progress) update(pr localstore.Progress) {
	if !p.e.tty {
		switch {
		case pr.Done:
			fmt.Fprintf(p.e.stderr, "run %d/%d %s: %d/%d batches uploaded%s\n", pr.RunIndex, pr.Runs, pr.Run, pr.Batches, pr.TotalBatches, artifactProgress(pr))
		case pr.Run != p.run:
			fmt.Fprintf(p.e.stderr, "run %d/%d %s: %s\n", pr.RunIndex, pr.Runs, pr.Run, startLine(pr))
		}
		p.run = pr.Run
		return
	}
	p.run = pr.Run
	now := time.Now()
	if !pr.Done && now.Sub(p.last) < 100*time.Millisecond {
		return
	}
	p.last = now
	frac := 1.0
	if pr.TotalItems > 0 {
		frac = float64(pr.Items) / float64(pr.TotalItems)
	}
	if pr.TotalArtifactBytes > 0 && pr.Items >= pr.TotalItems {
		frac = float64(pr.ArtifactBytes) / float64(pr.TotalArtifactBytes) // the bar counts bytes once the items are up
	}
	full := int(frac * barWidth)
	id := pr.Run
	if len(id) > 12 {
		id = id[:12]
	}
	fmt.Fprintf(p.e.stderr, "\r[%s%s] %3.0f%%  %d/%d items%s  run %d/%d %s ",
		strings.Repeat("#", full), strings.Repeat("-", barWidth-full), 100*frac, pr.Items, pr.TotalItems, artifactProgress(pr), pr.RunIndex, pr.Runs, id)
	p.drawn = true
}

// finish ends the bar's line.
func (p *progress) finish() {
	if p.drawn {
		fmt.Fprintln(p.e.stderr)
	}
}

// startLine says where the upload of a run starts: at its first batch not
// uploaded yet, or after its batches when a sync before uploaded them all.
func startLine(pr localstore.Progress) string {
	if pr.Batches >= pr.TotalBatches {
		return fmt.Sprintf("its %d batches were uploaded before%s", pr.TotalBatches, artifactProgress(pr))
	}
	return fmt.Sprintf("uploading from batch %d of %d", pr.Batches+1, pr.TotalBatches)
}
