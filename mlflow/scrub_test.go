package mlflow_test

import (
	"context"
	"encoding/base64"
	"errors"
	"fmt"
	"net/http"
	"net/http/httptest"
	"testing"

	"github.com/mlerr/mlerr"
	"github.com/mlerr/mlerr/mlflow"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

const (
	leakToken = "tok-3f9a7c1e55d0"
	leakUser  = "alice"
	leakPass  = "pw-8d2b61aa0e4f"
)

// secretsOf are the forms a secret must never take in a message.
func secretsOf() []string {
	return []string{leakToken, leakPass, base64.StdEncoding.EncodeToString([]byte(leakUser + ":" + leakPass))}
}

func assertNoSecret(t *testing.T, what, text string) {
	t.Helper()
	for _, s := range secretsOf() {
		assert.NotContains(t, text, s, "%s shows a secret", what)
	}
}

// A server (a proxy's debug page, say) that echoes the request's
// Authorization header in its answer, with every status.
func TestSecretsScrubbedFromServerAnswers(t *testing.T) {
	for _, status := range []int{200, 401, 403, 500, 502} {
		srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			w.Header().Set("Content-Type", "text/html")
			w.WriteHeader(status)
			fmt.Fprintf(w, "<html>bad request, you sent Authorization: %s (%s)</html>", r.Header.Get("Authorization"), r.Header.Get("Authorization")[len("Basic "):])
		}))
		for _, opt := range []mlflow.Option{mlflow.WithToken(leakToken), mlflow.WithBasicAuth(leakUser, leakPass)} {
			c, err := mlflow.NewClient(srv.URL, opt)
			require.NoError(t, err)
			_, err = c.GetExperimentByName(context.Background(), "e")
			require.Error(t, err, "status %d", status)
			assert.Contains(t, err.Error(), "[REDACTED]", "status %d: %v", status, err)
			assertNoSecret(t, fmt.Sprint("status ", status), err.Error())
			c.CloseIdleConnections()
		}
		srv.Close()
	}
}

// A transport whose error or panic holds the request's header.
type leakyTransport struct{ panics bool }

func (l leakyTransport) RoundTrip(r *http.Request) (*http.Response, error) {
	if l.panics {
		panic(r) // fmt prints the request's headers
	}
	return nil, errors.New("proxy refused " + r.Header.Get("Authorization"))
}

func TestSecretsScrubbedFromTransportErrorsAndPanics(t *testing.T) {
	for _, opt := range []mlflow.Option{mlflow.WithToken(leakToken), mlflow.WithBasicAuth(leakUser, leakPass)} {
		c, err := mlflow.NewClient("http://127.0.0.1:1", opt, mlflow.WithHTTPClient(&http.Client{Transport: leakyTransport{}}))
		require.NoError(t, err)
		_, err = c.GetRun(context.Background(), "r")
		require.Error(t, err)
		assert.Contains(t, err.Error(), "proxy refused [REDACTED]")
		assertNoSecret(t, "transport error", err.Error())

		c, err = mlflow.NewClient("http://127.0.0.1:1", opt, mlflow.WithHTTPClient(&http.Client{Transport: leakyTransport{panics: true}}))
		require.NoError(t, err)
		var p any
		func() {
			defer func() { p = recover() }()
			_, _ = c.GetRun(context.Background(), "r")
		}()
		require.NotNil(t, p)
		assert.Contains(t, fmt.Sprint(p), "[REDACTED]")
		assertNoSecret(t, "panic", fmt.Sprint(p))
	}
}

// Credentials in the URI are used, never printed.
func TestUserInfoNeverPrinted(t *testing.T) {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.WriteHeader(http.StatusBadGateway)
	}))
	defer srv.Close()
	uri := "http://" + leakUser + ":" + leakPass + "@" + srv.Listener.Addr().String()
	c, err := mlflow.NewClient(uri)
	require.NoError(t, err)
	defer c.CloseIdleConnections()
	assert.Equal(t, srv.URL, c.TrackingURI())
	_, err = c.GetRun(context.Background(), "r")
	require.Error(t, err)
	assertNoSecret(t, "error", err.Error())
	b, err := mlflow.NewBackend(uri)
	require.NoError(t, err)
	_, err = b.StartRun(context.Background(), mlerr.RunSpec{Experiment: "e"})
	require.Error(t, err)
	assertNoSecret(t, "StartRun error", err.Error())
	for _, bad := range []string{"ftp://" + leakUser + ":" + leakPass + "@h", "http://" + leakUser + ":" + leakPass + "@h/?q=1", "http://" + leakUser + ":" + leakPass + "@h/#f", "http://" + leakUser + ":" + leakPass + "@[::1"} {
		_, err := mlflow.NewClient(bad)
		require.Error(t, err, bad)
		assertNoSecret(t, bad, err.Error())
	}
}
