package mlflow_test

// The auth suite: a Run against MLflow's own basic-auth app (mlflow server
// --app-name basic-auth). It runs when MLERR_TEST_AUTH_URI names such a
// server, with the admin's credentials in MLERR_TEST_AUTH_ADMIN_USERNAME and
// MLERR_TEST_AUTH_ADMIN_PASSWORD (.ci/run starts one with
// MLFLOW_AUTH=1 scripts/mlflow-server.sh start and reads them from its
// server.env). It skips only when MLERR_TEST_AUTH_URI is unset (fails then under
// MLERR_TEST_REQUIRE_SERVERS=1).

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"testing"
	"time"

	"github.com/mlerr/mlerr"
	"github.com/mlerr/mlerr/internal/fault"
	"github.com/mlerr/mlerr/internal/testserver"
	"github.com/mlerr/mlerr/mlflow"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// authApp is the auth server, driven through its admin's REST calls.
type authApp struct {
	uri, admin, adminPass string
	hc                    *http.Client
	read                  *mlflow.Client // the admin's client, to read back
}

func newAuthApp(t *testing.T) *authApp {
	t.Helper()
	uri, admin, pass := testserver.Auth(t)
	a := &authApp{uri: uri, admin: admin, adminPass: pass}
	tr := &http.Transport{}
	t.Cleanup(tr.CloseIdleConnections)
	a.hc = &http.Client{Transport: tr}
	read, err := mlflow.NewClient(a.uri, mlflow.WithBasicAuth(a.admin, a.adminPass), mlflow.WithHTTPClient(a.hc))
	require.NoError(t, err)
	a.read = read
	return a
}

// call makes one admin request and requires a 200.
func (a *authApp) call(t *testing.T, method, path string, body any) []byte {
	t.Helper()
	var rd io.Reader
	if body != nil {
		b, err := json.Marshal(body)
		require.NoError(t, err)
		rd = bytes.NewReader(b)
	}
	req, err := http.NewRequest(method, a.uri+path, rd)
	require.NoError(t, err)
	req.SetBasicAuth(a.admin, a.adminPass)
	req.Header.Set("Content-Type", "application/json")
	resp, err := a.hc.Do(req)
	require.NoError(t, err)
	defer resp.Body.Close()
	out, _ := io.ReadAll(resp.Body)
	require.Equal(t, http.StatusOK, resp.StatusCode, "%s %s: %s", method, path, out)
	return out
}

// createUser creates a user (default permission READ) and returns its
// password.
func (a *authApp) createUser(t *testing.T, name string) string {
	t.Helper()
	pass := "pw-" + fmt.Sprint(time.Now().UnixNano())
	a.call(t, http.MethodPost, "/api/2.0/mlflow/users/create", map[string]string{"username": name, "password": pass})
	t.Cleanup(func() {
		a.call(t, http.MethodDelete, "/api/2.0/mlflow/users/delete", map[string]string{"username": name})
	})
	return pass
}

func (a *authApp) setPassword(t *testing.T, user, pass string) {
	t.Helper()
	a.call(t, http.MethodPatch, "/api/2.0/mlflow/users/update-password", map[string]string{"username": user, "password": pass})
}

func (a *authApp) grant(t *testing.T, user, expID, perm string) {
	t.Helper()
	a.call(t, http.MethodPost, "/api/3.0/mlflow/users/permissions/grant",
		map[string]string{"username": user, "resource_type": "experiment", "resource_id": expID, "permission": perm})
}

func (a *authApp) revoke(t *testing.T, user, expID string) {
	t.Helper()
	a.call(t, http.MethodPost, "/api/3.0/mlflow/users/permissions/revoke",
		map[string]string{"username": user, "resource_type": "experiment", "resource_id": expID})
}

// adminExperiment creates an experiment owned by the admin.
func (a *authApp) adminExperiment(t *testing.T) (name, id string) {
	t.Helper()
	name = unique("auth-admin")
	id, err := a.read.CreateExperiment(context.Background(), name, nil)
	require.NoError(t, err)
	return name, id
}

// withUserInfo returns the server's URI with user info.
func (a *authApp) withUserInfo(user, pass string) string {
	u, _ := url.Parse(a.uri)
	u.User = url.UserPassword(user, pass)
	return u.String()
}

// counted puts a fault proxy (faults off) in front of the server, to count
// the requests a Run makes.
func (a *authApp) counted(t *testing.T) *fault.Proxy {
	t.Helper()
	p, err := fault.NewReverse(a.uri)
	require.NoError(t, err)
	t.Cleanup(func() { _ = p.Close() })
	return p
}

// authRun runs a Run on backend and logs into it.
type authRun struct {
	run *mlerr.Run
	rec *recorder
}

func startAuthRun(t *testing.T, b *mlflow.Backend, experiment string) *authRun {
	t.Helper()
	rec := &recorder{}
	run, err := mlerr.NewRun(context.Background(), b, mlerr.WithExperiment(experiment), mlerr.WithRunName(t.Name()),
		mlerr.WithCallbacks(rec.callbacks()), mlerr.WithRetryPolicy(testPolicy(10*time.Second, nil)),
		mlerr.WithLimits(mlerr.Limits{BatchItems: 1000, BatchBytes: 1 << 20, BatchInterval: time.Hour}), mlerr.WithLimits(mlerr.Limits{CloseTimeout: 20 * time.Second}))
	require.NoError(t, err)
	return &authRun{run: run, rec: rec}
}

// logStep logs the two metrics of one step, reporting how many items the
// Run accepted (0 once it stopped).
func (r *authRun) logStep(step int64) int {
	err := r.run.LogMetricsAt(step, t0.Add(time.Duration(step)*time.Second), map[string]float64{"loss": 1 / float64(step+1), "acc": float64(step) / 10})
	if err != nil {
		return 0
	}
	return 2
}

func stepPoints(steps ...int64) []mlerr.Item {
	var out []mlerr.Item
	for _, step := range steps {
		ts := t0.Add(time.Duration(step) * time.Second)
		out = append(out,
			mlerr.Item{Kind: mlerr.ItemMetric, Key: "loss", Value: 1 / float64(step+1), Step: step, Time: ts},
			mlerr.Item{Kind: mlerr.ItemMetric, Key: "acc", Value: float64(step) / 10, Step: step, Time: ts})
	}
	return out
}

// Right credentials, however given: the Run logs, ends FINISHED, and the
// server holds every point.
func TestIntegrationAuthRightCredentials(t *testing.T) {
	a := newAuthApp(t)
	user := unique("alice")
	pass := a.createUser(t, user)
	accented := unique("zoë")
	accentedPass := a.createUser(t, accented)
	tests := []struct {
		name string
		uri  string
		env  map[string]string
		opts []mlflow.Option
	}{
		{name: "WithBasicAuth", uri: a.uri, opts: []mlflow.Option{mlflow.WithBasicAuth(user, pass)}},
		{name: "MLFLOW_TRACKING_USERNAME and _PASSWORD", env: map[string]string{
			"MLFLOW_TRACKING_URI": a.uri, "MLFLOW_TRACKING_USERNAME": user, "MLFLOW_TRACKING_PASSWORD": pass}},
		{name: "basic beats a wrong token", env: map[string]string{"MLFLOW_TRACKING_URI": a.uri,
			"MLFLOW_TRACKING_USERNAME": user, "MLFLOW_TRACKING_PASSWORD": pass, "MLFLOW_TRACKING_TOKEN": "not-a-token"}},
		{name: "user info in the URI", env: map[string]string{"MLFLOW_TRACKING_URI": a.withUserInfo(user, pass)}},
		{name: "user info beats wrong env credentials", env: map[string]string{"MLFLOW_TRACKING_URI": a.withUserInfo(user, pass),
			"MLFLOW_TRACKING_USERNAME": user, "MLFLOW_TRACKING_PASSWORD": "wrong-password-1"}},
		{name: "non-ASCII user in the URI (UTF-8, as the server decodes it)", env: map[string]string{
			"MLFLOW_TRACKING_URI": a.withUserInfo(accented, accentedPass)}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var b *mlflow.Backend
			var err error
			if tt.env != nil {
				setEnv(t, tt.env)
				b, err = mlflow.NewBackendFromEnv()
			} else {
				b, err = mlflow.NewBackend(tt.uri, tt.opts...)
			}
			require.NoError(t, err)
			defer b.Client().CloseIdleConnections()
			assert.Equal(t, a.uri, b.Client().TrackingURI(), "printed without credentials")
			r := startAuthRun(t, b, unique("auth"))
			require.NoError(t, r.run.Started(context.Background()))
			logWorkload(t, r.run)
			report, err := r.run.Close(context.Background())
			require.NoError(t, err)
			assert.Equal(t, mlerr.RunFinished, report.Status)
			assert.Equal(t, int64(workloadItems), report.Sent)
			assert.Empty(t, r.rec.get("err"))
			requireHistory(t, a.read, report.RunID, "loss", workloadPoints())
			requireHistory(t, a.read, report.RunID, "acc", workloadPoints())
			got, err := a.read.GetRun(context.Background(), report.RunID)
			require.NoError(t, err)
			assert.Equal(t, mlflow.StatusFinished, got.Info.Status)
		})
	}
}

// Credentials refused when the run starts: one OnError of kind
// ErrUnauthorized with the code and status the server gave, every item the
// Run accepted reported lost, no request repeated, and Close at once.
func TestIntegrationAuthRefusedAtStart(t *testing.T) {
	a := newAuthApp(t)
	user := unique("bob")
	pass := a.createUser(t, user)
	adminExp, _ := a.adminExperiment(t)
	tests := []struct {
		name       string
		opts       []mlflow.Option
		experiment string
		code       mlerr.Code
		status     int
	}{
		{name: "wrong password", opts: []mlflow.Option{mlflow.WithBasicAuth(user, pass+"x")}, code: mlerr.CodeUnauthenticated, status: 401},
		{name: "unknown user", opts: []mlflow.Option{mlflow.WithBasicAuth(unique("nobody"), pass)}, code: mlerr.CodeUnauthenticated, status: 401},
		{name: "missing credentials", code: mlerr.CodeUnauthenticated, status: 401},
		{name: "a bearer token (the auth app takes none)", opts: []mlflow.Option{mlflow.WithToken("tok-" + pass)}, code: mlerr.CodeUnauthenticated, status: 401},
		{name: "no permission on the experiment", opts: []mlflow.Option{mlflow.WithBasicAuth(user, pass)}, experiment: adminExp,
			code: mlerr.CodePermissionDenied, status: 403},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			proxy := a.counted(t)
			b, err := mlflow.NewBackend(proxy.URL(), tt.opts...)
			require.NoError(t, err)
			defer b.Client().CloseIdleConnections()
			exp := tt.experiment
			if exp == "" {
				exp = unique("auth")
			}
			r := startAuthRun(t, b, exp)
			accepted := 0
			for step := int64(0); step < 20; step++ {
				accepted += r.logStep(step)
			}
			start := time.Now()
			report, closeErr := r.run.Close(context.Background())
			took := time.Since(start)
			require.Error(t, closeErr)
			assert.Less(t, took, 5*time.Second, "Close returns at once")

			errs := r.rec.get("err")
			require.Len(t, errs, 1, "one event: %v", errs)
			ev := errs[0]
			assert.ErrorIs(t, ev, mlerr.ErrUnauthorized)
			assert.Equal(t, tt.code, mlerr.CodeOf(ev))
			assert.Equal(t, tt.status, mlerr.HTTPStatusOf(ev))
			assert.Equal(t, accepted, len(mlerr.LostItems(ev)), "every accepted item is reported lost")
			assert.Equal(t, int64(accepted), mlerr.LostCount(ev))
			assert.Equal(t, int64(accepted), report.Dropped.Total())
			assert.Zero(t, report.Sent)
			assert.Zero(t, report.Retries, "a refusal is not retried")
			assert.Empty(t, r.rec.get("net"), "a refusal is no outage")
			for path, n := range proxy.Stats().ByPath {
				assert.Equal(t, 1, n, "%s asked once", path)
			}
			assert.ErrorIs(t, r.run.LogMetrics(99, map[string]float64{"loss": 1}), mlerr.ErrClosed)
		})
	}
}

// Credentials refused in the middle of a run, then valid again: the batch
// sent while they were refused is lost and reported (exactly its items,
// never retried); the Run keeps its run and stores the batches after; it
// ends FAILED, as data was lost. See the package doc.
func TestIntegrationAuthRefusedMidRunThenValid(t *testing.T) {
	a := newAuthApp(t)
	tests := []struct {
		name   string
		code   mlerr.Code
		status int
		// setup returns the backend's credentials and the experiment; break
		// makes them refused, mend valid again.
		setup        func(t *testing.T) (user, pass, experiment string)
		break_, mend func(t *testing.T, user, pass, expID string)
	}{
		{
			name: "password changed, then reset by the admin", code: mlerr.CodeUnauthenticated, status: 401,
			setup: func(t *testing.T) (string, string, string) {
				user := unique("carol")
				return user, a.createUser(t, user), unique("auth")
			},
			break_: func(t *testing.T, user, pass, _ string) { a.setPassword(t, user, pass+"-changed") },
			mend:   func(t *testing.T, user, pass, _ string) { a.setPassword(t, user, pass) },
		},
		{
			name: "permission revoked, then granted again", code: mlerr.CodePermissionDenied, status: 403,
			setup: func(t *testing.T) (string, string, string) {
				user := unique("dave")
				pass := a.createUser(t, user)
				name, id := a.adminExperiment(t)
				a.grant(t, user, id, "EDIT")
				return user, pass, name
			},
			break_: func(t *testing.T, user, _, expID string) { a.revoke(t, user, expID) },
			mend:   func(t *testing.T, user, _, expID string) { a.grant(t, user, expID, "EDIT") },
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			ctx := context.Background()
			user, pass, exp := tt.setup(t)
			proxy := a.counted(t)
			b, err := mlflow.NewBackend(proxy.URL(), mlflow.WithBasicAuth(user, pass))
			require.NoError(t, err)
			defer b.Client().CloseIdleConnections()
			r := startAuthRun(t, b, exp)
			require.NoError(t, r.run.Started(ctx))
			got, err := a.read.GetRun(ctx, r.run.ID())
			require.NoError(t, err)
			expID := got.Info.ExperimentID

			require.Equal(t, 2, r.logStep(0))
			require.NoError(t, r.run.Wait(ctx))
			tt.break_(t, user, pass, expID)
			require.Equal(t, 2, r.logStep(1))
			require.NoError(t, r.run.Wait(ctx))
			// Wait returns once the batch failed; its event reaches the
			// callbacks on their own goroutine, soon after.
			require.Eventually(t, func() bool { return len(r.rec.get("err")) > 0 }, 10*time.Second, 10*time.Millisecond)
			errs := r.rec.get("err")
			require.Len(t, errs, 1, "the refused batch: %v", errs)
			assert.ErrorIs(t, errs[0], mlerr.ErrUnauthorized)
			assert.Equal(t, tt.code, mlerr.CodeOf(errs[0]))
			assert.Equal(t, tt.status, mlerr.HTTPStatusOf(errs[0]))
			lost := mlerr.LostItems(errs[0])
			require.Len(t, lost, 2)
			for _, it := range lost {
				assert.Equal(t, int64(1), it.Step)
			}
			assert.Equal(t, int64(2), r.run.Health().Dropped.Rejected, "counted, and the run goes on")
			assert.True(t, r.run.Health().Started)

			tt.mend(t, user, pass, expID)
			require.Equal(t, 2, r.logStep(2))
			report, closeErr := r.run.Close(ctx)
			require.Error(t, closeErr, "data was lost")
			assert.Len(t, r.rec.get("err"), 1, "nothing else lost")
			assert.Equal(t, mlerr.RunFailed, report.Status)
			assert.Equal(t, int64(4), report.Sent)
			assert.Equal(t, int64(2), report.Dropped.Total())
			assert.Zero(t, report.Retries)
			assert.Equal(t, 3, proxy.Stats().ByPath["/api/2.0/mlflow/runs/log-batch"], "each batch sent once")
			requireHistory(t, a.read, report.RunID, "loss", stepPoints(0, 2))
			got, err = a.read.GetRun(ctx, report.RunID)
			require.NoError(t, err)
			assert.Equal(t, mlflow.StatusFailed, got.Info.Status)
		})
	}
}

// MLflow's auth app answers 401 and 403 with text, not JSON: the Client
// still gives them their kind, code and status.
func TestIntegrationAuthTextBodies(t *testing.T) {
	a := newAuthApp(t)
	user := unique("erin")
	pass := a.createUser(t, user)
	_, expID := a.adminExperiment(t)
	ctx := context.Background()
	anon, err := mlflow.NewClient(a.uri)
	require.NoError(t, err)
	defer anon.CloseIdleConnections()
	_, err = anon.GetExperimentByName(ctx, "Default")
	require.Error(t, err)
	assert.ErrorIs(t, err, mlerr.ErrUnauthorized)
	assert.ErrorIs(t, err, mlerr.ErrRest)
	assert.Equal(t, mlerr.CodeUnauthenticated, mlerr.CodeOf(err))
	assert.Equal(t, 401, mlerr.HTTPStatusOf(err))
	assert.Contains(t, err.Error(), "You are not authenticated")
	assert.False(t, mlerr.Classify(err).Retry)

	c, err := mlflow.NewClient(a.uri, mlflow.WithBasicAuth(user, pass))
	require.NoError(t, err)
	defer c.CloseIdleConnections()
	_, err = c.CreateRun(ctx, mlflow.CreateRunRequest{ExperimentID: expID})
	require.Error(t, err)
	assert.ErrorIs(t, err, mlerr.ErrUnauthorized)
	assert.Equal(t, mlerr.CodePermissionDenied, mlerr.CodeOf(err))
	assert.Equal(t, 403, mlerr.HTTPStatusOf(err))
	assert.Contains(t, err.Error(), "Permission denied")
	assert.False(t, mlerr.Classify(err).Retry)
	assert.NotContains(t, err.Error(), pass)
}
