package main

import (
	"bytes"
	"testing"

	"github.com/stretchr/testify/assert"

	"github.com/mlerr/mlerr/localstore"
)

// TestProgressStartLine: the line a sync prints when it starts a run names
// the first batch it uploads, never one past the last (a run whose batches
// an interrupted sync had all uploaded).
func TestProgressStartLine(t *testing.T) {
	tests := []struct {
		name string
		pr   localstore.Progress
		want string
	}{
		{"from the start", localstore.Progress{RunIndex: 1, Runs: 2, Run: "r1", TotalBatches: 11},
			"run 1/2 r1: uploading from batch 1 of 11\n"},
		{"resumed", localstore.Progress{RunIndex: 1, Runs: 1, Run: "r1", Batches: 4, TotalBatches: 11},
			"run 1/1 r1: uploading from batch 5 of 11\n"},
		{"every batch uploaded before", localstore.Progress{RunIndex: 1, Runs: 1, Run: "r1", Batches: 25, TotalBatches: 25},
			"run 1/1 r1: its 25 batches were uploaded before\n"},
		{"every batch before, artifacts left", localstore.Progress{RunIndex: 1, Runs: 1, Run: "r1", Batches: 3, TotalBatches: 3, TotalArtifactBytes: 2048},
			"run 1/1 r1: its 3 batches were uploaded before, artifacts 0 B/2.0 KiB\n"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var out bytes.Buffer
			newProgress(env{stderr: &out}).update(tt.pr)
			assert.Equal(t, tt.want, out.String())
		})
	}
}
