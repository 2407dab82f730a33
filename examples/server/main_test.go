package main

import (
	"bytes"
	"net/http"
	"net/http/httptest"
	"regexp"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// TestTries runs every curl command the server prints against it and
// checks the status the comment above the command promises.
func TestTries(t *testing.T) {
	srv := httptest.NewServer(newMux())
	defer srv.Close()
	var out bytes.Buffer
	printTries(&out, srv.URL)
	cmds := regexp.MustCompile(`# .*?\b(\d{3})\b.*\n  curl -i (-H '([^']*)' )?(-X (\w+) )?'([^']*)'`).FindAllStringSubmatch(out.String(), -1)
	require.Len(t, cmds, 5, out.String())
	for _, c := range cmds {
		method := http.MethodGet
		if c[5] != "" {
			method = c[5]
		}
		req, err := http.NewRequest(method, c[6], nil)
		require.NoError(t, err)
		wantType := "application/json"
		if c[3] != "" {
			k, v, _ := strings.Cut(c[3], ": ")
			req.Header.Set(k, v)
			wantType = v
		}
		resp, err := srv.Client().Do(req)
		require.NoError(t, err)
		resp.Body.Close()
		assert.Equal(t, c[1], resp.Status[:3], c[0])
		assert.Contains(t, resp.Header.Get("Content-Type"), wantType, c[0])
	}
}
