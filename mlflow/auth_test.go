package mlflow_test

import (
	"context"
	"os"
	"strings"
	"testing"

	"github.com/mlerr/mlerr"
	"github.com/mlerr/mlerr/mlflow"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// envVars are every variable the package reads.
var envVars = []string{
	mlflow.EnvTrackingURI, mlflow.EnvTrackingToken, mlflow.EnvTrackingUsername, mlflow.EnvTrackingPassword,
	mlflow.EnvInsecureTLS, mlflow.EnvServerCertPath, mlflow.EnvClientCertPath, mlflow.EnvRequestTimeout,
	mlflow.EnvExperimentName, mlflow.EnvExperimentID, mlflow.EnvRunID,
}

// setEnv unsets every variable the package reads, then sets env, for the
// test's duration. A variable that is set but empty is not unset: MLflow's
// client tells the two apart for some.
func setEnv(t *testing.T, env map[string]string) {
	t.Helper()
	for _, k := range envVars {
		t.Setenv(k, "") // restored after the test
		require.NoError(t, os.Unsetenv(k))
	}
	for k, v := range env {
		t.Setenv(k, v)
	}
}

// The Authorization header sent for every way of giving credentials, as
// MLflow 3.17.2's Python client sends it (observed with its client against
// a recording server: /work/notes/mlflow-facts.md and the security notes in
// docs/security.md).
func TestAuthorizationHeaderAsMLflowSendsIt(t *testing.T) {
	s, auths, paths := authServer(t)
	host := strings.TrimPrefix(s.URL, "http://")
	withUser := func(userinfo string) string { return "http://" + userinfo + "@" + host }
	tests := []struct {
		name string
		uri  string // default s.URL
		env  map[string]string
		opts []mlflow.Option
		want string
	}{
		{name: "none", want: ""},
		{name: "token option", opts: []mlflow.Option{mlflow.WithToken("tok123")}, want: "Bearer tok123"},
		{name: "basic option, ':' in the password", opts: []mlflow.Option{mlflow.WithBasicAuth("alice", "p@ss:w")}, want: "Basic YWxpY2U6cEBzczp3"},
		{name: "last option wins", opts: []mlflow.Option{mlflow.WithBasicAuth("bob", "pw2"), mlflow.WithToken("tok")}, want: "Bearer tok"},
		{name: "empty token option", opts: []mlflow.Option{mlflow.WithToken("")}, want: ""},

		{name: "env token", env: map[string]string{"MLFLOW_TRACKING_TOKEN": "tok123"}, want: "Bearer tok123"},
		{name: "env basic", env: map[string]string{"MLFLOW_TRACKING_USERNAME": "alice", "MLFLOW_TRACKING_PASSWORD": "p@ss:w"}, want: "Basic YWxpY2U6cEBzczp3"},
		{name: "env basic beats env token", env: map[string]string{"MLFLOW_TRACKING_TOKEN": "tok123",
			"MLFLOW_TRACKING_USERNAME": "alice", "MLFLOW_TRACKING_PASSWORD": "p@ss:w"}, want: "Basic YWxpY2U6cEBzczp3"},
		{name: "env username alone: ignored", env: map[string]string{"MLFLOW_TRACKING_USERNAME": "bob"}, want: ""},
		{name: "env password alone: ignored", env: map[string]string{"MLFLOW_TRACKING_PASSWORD": "pw"}, want: ""},
		{name: "env username alone and a token: the token", env: map[string]string{"MLFLOW_TRACKING_USERNAME": "bob",
			"MLFLOW_TRACKING_TOKEN": "tok"}, want: "Bearer tok"},
		{name: "env empty token", env: map[string]string{"MLFLOW_TRACKING_TOKEN": ""}, want: ""},
		{name: "option beats env", env: map[string]string{"MLFLOW_TRACKING_TOKEN": "t1"},
			opts: []mlflow.Option{mlflow.WithToken("t2")}, want: "Bearer t2"},
		{name: "basic option beats env basic", env: map[string]string{"MLFLOW_TRACKING_USERNAME": "u", "MLFLOW_TRACKING_PASSWORD": "p"},
			opts: []mlflow.Option{mlflow.WithBasicAuth("alice", "pw")}, want: "Basic YWxpY2U6cHc="},

		{name: "uri user info", uri: withUser("alice:pw"), want: "Basic YWxpY2U6cHc="},
		{name: "uri beats env token", uri: withUser("alice:pw"), env: map[string]string{"MLFLOW_TRACKING_TOKEN": "tok"}, want: "Basic YWxpY2U6cHc="},
		{name: "uri beats env basic", uri: withUser("alice:pw"), env: map[string]string{"MLFLOW_TRACKING_USERNAME": "bob",
			"MLFLOW_TRACKING_PASSWORD": "bpw"}, want: "Basic YWxpY2U6cHc="},
		{name: "uri without a password: none", uri: withUser("alice"), want: ""},
		{name: "uri without a password: the env token", uri: withUser("alice"), env: map[string]string{"MLFLOW_TRACKING_TOKEN": "tok"}, want: "Bearer tok"},
		{name: "uri with an empty password", uri: withUser("alice:"), want: "Basic YWxpY2U6"},
		{name: "uri with an empty username", uri: withUser(":pw"), want: "Basic OnB3"},
		{name: "uri with both empty: none", uri: withUser(":"), want: ""},
		{name: "uri percent-encoded", uri: withUser("al%40ice:p%3Aw"), want: "Basic YWxAaWNlOnA6dw=="},
		{name: "option beats uri", uri: withUser("alice:pw"), opts: []mlflow.Option{mlflow.WithToken("tok")}, want: "Bearer tok"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			uri := tt.uri
			if uri == "" {
				uri = s.URL
			}
			env := map[string]string{"MLFLOW_TRACKING_URI": uri}
			for k, v := range tt.env {
				env[k] = v
			}
			setEnv(t, env)
			clients := []func() (*mlflow.Client, error){
				func() (*mlflow.Client, error) { return mlflow.NewClientFromEnv(tt.opts...) },
				func() (*mlflow.Client, error) {
					b, err := mlflow.NewBackendFromEnv(tt.opts...)
					if err != nil {
						return nil, err
					}
					return b.Client(), nil
				},
			}
			if tt.env == nil {
				clients = append(clients, func() (*mlflow.Client, error) { return mlflow.NewClient(uri, tt.opts...) })
			}
			for _, newClient := range clients {
				c, err := newClient()
				require.NoError(t, err)
				_, err = c.GetExperimentByName(context.Background(), "e")
				require.NoError(t, err)
				assert.Equal(t, tt.want, (*auths)[len(*auths)-1])
				assert.Equal(t, "/api/2.0/mlflow/experiments/get-by-name", (*paths)[len(*paths)-1])
				assert.Equal(t, s.URL, c.TrackingURI(), "the URI is printed without its user info")
			}
		})
	}
}

// The variables that are not credentials: errors name them.
func TestFromEnvErrors(t *testing.T) {
	s, _, _ := authServer(t)
	tests := []struct {
		name    string
		env     map[string]string
		wantErr *mlerr.Kind
		naming  string
	}{
		{name: "uri unset", env: map[string]string{}, wantErr: mlerr.ErrMissingConfig, naming: "MLFLOW_TRACKING_URI"},
		{name: "uri empty", env: map[string]string{"MLFLOW_TRACKING_URI": " "}, wantErr: mlerr.ErrMissingConfig, naming: "MLFLOW_TRACKING_URI"},
		{name: "bad uri", env: map[string]string{"MLFLOW_TRACKING_URI": "file:///x"}, wantErr: mlerr.ErrInvalidURL, naming: "file"},
		{name: "bad timeout", env: map[string]string{"MLFLOW_TRACKING_URI": s.URL, "MLFLOW_HTTP_REQUEST_TIMEOUT": "soon"},
			wantErr: mlerr.ErrMissingConfig, naming: "MLFLOW_HTTP_REQUEST_TIMEOUT"},
		{name: "timeout", env: map[string]string{"MLFLOW_TRACKING_URI": s.URL, "MLFLOW_HTTP_REQUEST_TIMEOUT": "5"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			setEnv(t, tt.env)
			c, err := mlflow.NewClientFromEnv()
			_, berr := mlflow.NewBackendFromEnv()
			if tt.wantErr == nil {
				require.NoError(t, err)
				require.NoError(t, berr)
				_, err = c.GetExperimentByName(context.Background(), "e")
				require.NoError(t, err)
				return
			}
			for _, err := range []error{err, berr} {
				assert.ErrorIs(t, err, tt.wantErr)
				assert.Contains(t, err.Error(), tt.naming)
			}
		})
	}
}
