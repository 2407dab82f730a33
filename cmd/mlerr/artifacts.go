package main

import (
	"fmt"

	"github.com/mlerr/mlerr/localstore"
)

// humanBytes writes a size in B, KiB, MiB or GiB.
func humanBytes(n int64) string {
	const unit = 1024
	if n < unit {
		return fmt.Sprintf("%d B", n)
	}
	v, suffix := float64(n)/unit, "KiB"
	for _, s := range []string{"MiB", "GiB", "TiB"} {
		if v < unit {
			break
		}
		v, suffix = v/unit, s
	}
	return fmt.Sprintf("%.1f %s", v, suffix)
}

// artifactsColumn is a run's ARTIFACTS column in ls: their count and size.
func artifactsColumn(r localstore.RunSummary) string {
	if r.Artifacts == 0 {
		return "-"
	}
	return fmt.Sprintf("%d (%s)", r.Artifacts, humanBytes(r.ArtifactBytes))
}

// artifactProgress is the part of a sync's progress about artifact bytes,
// "" while there are none to upload.
func artifactProgress(pr localstore.Progress) string {
	if pr.TotalArtifactBytes == 0 {
		return ""
	}
	return fmt.Sprintf(", artifacts %s/%s", humanBytes(pr.ArtifactBytes), humanBytes(pr.TotalArtifactBytes))
}

// artifactsSent is the part of a run's sync line about its artifacts.
func artifactsSent(r localstore.RunReport) string {
	if r.Artifacts == 0 {
		return ""
	}
	noun := "artifacts"
	if r.Artifacts == 1 {
		noun = "artifact"
	}
	return fmt.Sprintf(", %d %s (%s)", r.Artifacts, noun, humanBytes(r.ArtifactBytes))
}
