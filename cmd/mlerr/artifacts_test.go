package main

import (
	"bytes"
	"context"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/mlerr/mlerr/internal/testserver"
	"github.com/mlerr/mlerr/localstore"
	"github.com/mlerr/mlerr/mlflow"
)

// artifactStore writes one run with two artifacts (2048 bytes in all).
func artifactStore(t *testing.T) string {
	t.Helper()
	dir := offlineStore(t, 1, 1, 5)
	runs, err := localstore.List(dir)
	require.NoError(t, err)
	s, err := localstore.Open(dir)
	require.NoError(t, err)
	defer s.Close()
	ctx := context.Background()
	require.NoError(t, s.WriteArtifact(ctx, runs[0].ID, "weights.json", strings.NewReader(strings.Repeat("w", 2000)), 2000))
	require.NoError(t, s.WriteArtifact(ctx, runs[0].ID, "eval/notes.txt", strings.NewReader(strings.Repeat("n", 48)), 48))
	return dir
}

func TestHumanBytes(t *testing.T) {
	for n, want := range map[int64]string{0: "0 B", 1023: "1023 B", 2048: "2.0 KiB", 5 << 20: "5.0 MiB", 3 << 30: "3.0 GiB"} {
		assert.Equal(t, want, humanBytes(n), "%d", n)
	}
}

// TestSyncArtifacts: ls shows a run's artifacts; sync uploads them to the
// real server, its progress counting their bytes, and ls then says the
// run is synced; a second sync uploads nothing.
func TestSyncArtifacts(t *testing.T) {
	uri := testserver.MLflowURI(t)
	t.Setenv(mlflow.EnvTrackingURI, uri)
	dir := artifactStore(t)
	r := runCLI(t, false, "ls", dir)
	require.Equal(t, 0, r.code, r.stderr)
	assert.Regexp(t, `\s+2 \(2\.0 KiB\)\s+-\s+no\n`, r.stdout)

	r = runCLI(t, false, "sync", dir)
	require.Equal(t, 0, r.code, r.stderr)
	assert.Contains(t, r.stdout, "2 artifacts (2.0 KiB)")
	assert.Contains(t, r.stderr, "artifacts 2.0 KiB/2.0 KiB")
	r = runCLI(t, false, "ls", dir)
	assert.Regexp(t, `\s+2 \(2\.0 KiB\)\s+[0-9a-f]{32}\s+yes\n`, r.stdout)

	runs, err := localstore.List(dir)
	require.NoError(t, err)
	c, err := mlflow.NewClient(uri)
	require.NoError(t, err)
	defer c.CloseIdleConnections()
	var got bytes.Buffer
	_, err = c.DownloadArtifact(context.Background(), runs[0].Sync[0].RemoteRunID, "weights.json", &got)
	require.NoError(t, err)
	assert.Equal(t, strings.Repeat("w", 2000), got.String())

	r = runCLI(t, false, "sync", dir)
	require.Equal(t, 0, r.code, r.stderr)
	assert.Contains(t, r.stdout, "already synced")
}
