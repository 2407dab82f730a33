package main

import (
	"bytes"
	"context"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"io/fs"
	"log/slog"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/mlerr/mlerr"
	"github.com/mlerr/mlerr/internal/fakemlflow"
	"github.com/mlerr/mlerr/internal/fault"
	"github.com/mlerr/mlerr/localstore"
	"github.com/mlerr/mlerr/mlflow"
)

// credentials is one way of authenticating, and the secrets it must never
// show in any output.
type credentials struct {
	name    string
	server  fakemlflow.Option
	env     func(uri string) map[string]string // MLFLOW_TRACKING_* for the server at uri
	secrets []string
}

const (
	leakToken = "tok-5be0c2f7a91d3e68"
	leakUser  = "trainer"
	leakPass  = "pw-0d4c9e1b7a62f835"
)

func leakCredentials() []credentials {
	basic := base64.StdEncoding.EncodeToString([]byte(leakUser + ":" + leakPass))
	forms := func(secrets ...string) []string {
		var out []string
		for _, s := range secrets {
			out = append(out, s, base64.StdEncoding.EncodeToString([]byte(s)), base64.RawURLEncoding.EncodeToString([]byte(s)))
		}
		return out
	}
	withUser := func(uri string) string {
		return strings.Replace(uri, "http://", "http://"+leakUser+":"+leakPass+"@", 1)
	}
	return []credentials{
		{name: "token", server: fakemlflow.WithToken(leakToken),
			env: func(uri string) map[string]string {
				return map[string]string{"MLFLOW_TRACKING_URI": uri, "MLFLOW_TRACKING_TOKEN": leakToken}
			},
			secrets: forms(leakToken)},
		{name: "basic auth", server: fakemlflow.WithBasicAuth(leakUser, leakPass),
			env: func(uri string) map[string]string {
				return map[string]string{"MLFLOW_TRACKING_URI": uri, "MLFLOW_TRACKING_USERNAME": leakUser, "MLFLOW_TRACKING_PASSWORD": leakPass}
			},
			secrets: append(forms(leakPass), basic)},
		{name: "user info in the URI", server: fakemlflow.WithBasicAuth(leakUser, leakPass),
			env:     func(uri string) map[string]string { return map[string]string{"MLFLOW_TRACKING_URI": withUser(uri)} },
			secrets: append(forms(leakPass), basic, leakUser+":"+leakPass)},
	}
}

// leakSink collects everything a run and the commands print or store.
type leakSink struct {
	mu    sync.Mutex
	texts map[string]*strings.Builder // by where it came from
}

func (s *leakSink) add(where, format string, args ...any) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.texts == nil {
		s.texts = map[string]*strings.Builder{}
	}
	b := s.texts[where]
	if b == nil {
		b = &strings.Builder{}
		s.texts[where] = b
	}
	fmt.Fprintf(b, format+"\n", args...)
}

// addError records an error in every form a program may print it: its
// text, %+v, JSON, an *mlerr.Error's message and details, and its lost
// items.
func (s *leakSink) addError(where string, err error) {
	if err == nil {
		return
	}
	s.add(where, "%v | %+v | %#v", err, err, err)
	if b, jerr := json.Marshal(err); jerr == nil {
		s.add(where, "%s", b)
	}
	for e := err; e != nil; e = unwrapOne(e) {
		if me, ok := e.(*mlerr.Error); ok {
			s.add(where, "message %s", me.Message())
			for k, v := range me.Details() {
				s.add(where, "detail %s=%s", k, v)
			}
		}
	}
	for _, it := range mlerr.LostItems(err) {
		s.add(where, "lost %+v", it)
	}
	if be := findBatch(err); be != nil {
		for _, f := range be.Failures {
			s.add(where, "failure %s %s %v", f.Reason, f.Code, f.Cause)
		}
	}
}

func unwrapOne(err error) error {
	if u, ok := err.(interface{ Unwrap() error }); ok {
		return u.Unwrap()
	}
	return nil
}

func findBatch(err error) *mlerr.BatchError[mlerr.Item] {
	var be *mlerr.BatchError[mlerr.Item]
	for e := err; e != nil; e = unwrapOne(e) {
		if b, ok := e.(*mlerr.BatchError[mlerr.Item]); ok {
			be = b
		}
	}
	return be
}

// callbacks record every event, and also log it through the debug loggers.
func (s *leakSink) callbacks(loggers ...*slog.Logger) mlerr.Callbacks {
	cb := func(name string) mlerr.Callback {
		return func(err error, ts time.Time) {
			s.addError("callback "+name, err)
			for _, l := range loggers {
				l.Debug("event", "callback", name, "err", err, "at", ts)
			}
		}
	}
	return mlerr.Callbacks{OnNetworkError: cb("OnNetworkError"), OnWarning: cb("OnWarning"), OnError: cb("OnError"), OnQueueFull: cb("OnQueueFull")}
}

// check fails for every secret found in what was collected.
func (s *leakSink) check(t *testing.T, secrets []string) {
	t.Helper()
	s.mu.Lock()
	defer s.mu.Unlock()
	for where, b := range s.texts {
		for _, sec := range secrets {
			assert.NotContains(t, b.String(), sec, "%s shows a secret", where)
		}
	}
}

// addDir records every file under dir, with its name.
func (s *leakSink) addDir(t *testing.T, where, dir string) {
	t.Helper()
	require.NoError(t, filepath.WalkDir(dir, func(path string, d fs.DirEntry, err error) error {
		require.NoError(t, err)
		s.add(where, "file %s", path)
		if d.Type().IsRegular() {
			data, err := os.ReadFile(path)
			require.NoError(t, err)
			s.add(where+" "+path, "%s", data)
		}
		return nil
	}))
}

// panicOnce is a transport that panics once, on the nth log-batch, with
// the request (whose headers hold the credentials), then passes through.
type panicOnce struct {
	next  http.RoundTripper
	n     int64
	count atomic.Int64
}

func (p *panicOnce) RoundTrip(r *http.Request) (*http.Response, error) {
	if strings.HasSuffix(r.URL.Path, "runs/log-batch") && p.count.Add(1) == p.n {
		panic(r)
	}
	return p.next.RoundTrip(r)
}

// TestCredentialsNeverLeak logs runs with a token, with basic auth and with
// credentials in the URI, through every path that prints or stores
// something: slog at debug level (text and JSON), every callback's error
// (text, %+v, JSON, message, details, lost items, failures), the Report and
// Health (printed and as JSON), a panic recovered in the sender, the spool
// and the local store's files, and the output of `mlerr ls` and `mlerr
// sync` (a good sync, a refused one, one to a server that is down, and a
// bad URI). No secret appears, nor its base64 forms.
func TestCredentialsNeverLeak(t *testing.T) {
	for _, cr := range leakCredentials() {
		t.Run(cr.name, func(t *testing.T) {
			sink := &leakSink{}
			fake := fakemlflow.New(cr.server)
			proxy, err := fault.New(fake)
			require.NoError(t, err)
			defer proxy.Close()
			env := cr.env(proxy.URL())
			for k, v := range env {
				t.Setenv(k, v)
			}
			logRunOnline(t, sink, proxy)
			syncOffline(t, sink, proxy, env)
			sink.check(t, cr.secrets)
			sink.mu.Lock()
			n := len(sink.texts)
			sink.mu.Unlock()
			assert.Greater(t, n, 20, "the sink saw every path")
		})
	}
}

// logRunOnline logs a run through faults that make every kind of event:
// 5xx retries, an outage that spills to a spool then recovers, a refused
// batch, a rejected item, a panic in the sender.
func logRunOnline(t *testing.T, sink *leakSink, proxy *fault.Proxy) {
	ctx := context.Background()
	var text, js bytes.Buffer
	var logMu sync.Mutex
	lockedText, lockedJSON := &lockedWriter{mu: &logMu, w: &text}, &lockedWriter{mu: &logMu, w: &js}
	textLog := slog.New(slog.NewTextHandler(lockedText, &slog.HandlerOptions{Level: slog.LevelDebug}))
	jsonLog := slog.New(slog.NewJSONHandler(lockedJSON, &slog.HandlerOptions{Level: slog.LevelDebug}))
	tr := &panicOnce{next: &http.Transport{}, n: 2}
	defer tr.next.(*http.Transport).CloseIdleConnections()
	backend, err := mlflow.NewBackendFromEnv(mlflow.WithHTTPClient(&http.Client{Transport: tr}))
	require.NoError(t, err)
	spoolDir := t.TempDir()
	spool, err := localstore.OpenSpool(spoolDir)
	require.NoError(t, err)
	policy := mlerr.Policy{MaxAttempts: 2, InitialDelay: time.Millisecond, MaxDelay: time.Millisecond, NoJitter: true,
		MaxElapsed: mlerr.Off, AttemptTimeout: 2 * time.Second}
	run, err := mlerr.NewRun(ctx, backend, mlerr.WithExperiment("leaks"), mlerr.WithLogger(jsonLog),
		mlerr.WithCallbacks(sink.callbacks(textLog, jsonLog)), mlerr.WithRetryPolicy(policy),
		mlerr.WithLimits(mlerr.Limits{QueueItems: 50, QueueBytes: 1 << 20}), mlerr.WithFullPolicy(mlerr.Spill(spool)), mlerr.WithLimits(mlerr.Limits{BatchItems: 20, BatchBytes: 1 << 20, BatchInterval: time.Hour}))
	require.NoError(t, err)
	require.NoError(t, run.Started(ctx))
	step := int64(0)
	logSteps := func(n int) {
		for range n {
			_ = run.LogMetrics(step, map[string]float64{"loss": float64(step)})
			step++
		}
	}
	logSteps(20) // batch 1: fine
	require.NoError(t, run.Wait(ctx))
	logSteps(20) // batch 2: the transport panics with the request, the sender restarts and resends
	require.NoError(t, run.Wait(ctx))
	proxy.Add(fault.Rule{Path: "runs/log-batch", Times: 2, Fault: fault.HTML(502)})
	logSteps(20) // batch 3: two 502s, past the policy's 2 attempts: an outage (OnNetworkError), then stored
	_ = run.Wait(ctx)
	proxy.Add(fault.Rule{Path: "runs/log-batch", Times: 1, Fault: fault.HTML(401)})
	logSteps(20) // batch 4: refused, lost
	require.NoError(t, run.Wait(ctx))
	require.NoError(t, proxy.Down())
	logSteps(150) // an outage: the queue fills and spills
	sink.addError("Health.LastError", run.Health().LastError)
	sink.add("Health", "%+v", run.Health())
	require.NoError(t, proxy.Up())
	_ = run.LogParams(map[string]string{"lr": "0.1"})
	_ = run.LogParams(map[string]string{"lr": "0.2"}) // refused by the log call
	waitCtx, cancel := context.WithTimeout(ctx, 20*time.Second)
	_ = run.Wait(waitCtx)
	cancel()
	h := run.Health()
	sink.add("Health", "%+v", h)
	sink.addError("Health.LastError", h.LastError)
	if b, err := json.Marshal(h); err == nil {
		sink.add("Health JSON", "%s", b)
	}
	report, err := run.Close(ctx)
	sink.addError("Close", err)
	sink.add("Report", "%+v", report)
	if b, err := json.Marshal(report); err == nil {
		sink.add("Report JSON", "%s", b)
	}
	for _, it := range report.Failed {
		sink.add("Report.Failed", "%+v", it)
	}
	require.NoError(t, spool.Close())
	logMu.Lock()
	sink.add("slog text", "%s", text.String())
	sink.add("slog JSON", "%s", js.String())
	logMu.Unlock()
	sink.addDir(t, "spool", spoolDir)
	// Every kind of event happened, so every path was taken.
	all := sink.texts
	for _, want := range []string{"callback OnNetworkError", "callback OnWarning", "callback OnError"} {
		assert.Contains(t, all, want)
	}
	assert.Contains(t, all["callback OnError"].String(), "panicked", "the panic was reported")
	assert.Contains(t, all["callback OnError"].String(), "[REDACTED]", "the panic's value was scrubbed")
	assert.Contains(t, all["callback OnError"].String(), "refused the credentials")
}

type lockedWriter struct {
	mu *sync.Mutex
	w  *bytes.Buffer
}

func (l *lockedWriter) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.w.Write(p)
}

// syncOffline logs a run to a local store and syncs it with the
// credentials of the environment: once refused, once to a server that is
// down, once through, then lists the store.
func syncOffline(t *testing.T, sink *leakSink, proxy *fault.Proxy, env map[string]string) {
	dir := offlineStore(t, 1, 2, 10)
	cmd := func(args ...string) {
		r := runCLI(t, false, args...)
		sink.add("mlerr "+args[0]+" stdout", "%s", r.stdout)
		sink.add("mlerr "+args[0]+" stderr", "%s", r.stderr)
	}
	proxy.Add(fault.Rule{Path: "experiments/get-by-name", Times: 1, Fault: fault.HTML(403)})
	cmd("sync", "-retries", "0", dir)
	require.NoError(t, proxy.Down())
	cmd("sync", "-retries", "0", dir)
	require.NoError(t, proxy.Up())
	cmd("sync", dir)
	r := runCLI(t, true, "sync", dir) // the progress bar's path
	sink.add("mlerr sync tty", "%s%s", r.stdout, r.stderr)
	cmd("ls", dir)
	runs, err := localstore.List(dir)
	require.NoError(t, err)
	require.True(t, runs[0].Synced(), "the sync went through")
	sink.addDir(t, "store", dir)
	for k, v := range env {
		if k == "MLFLOW_TRACKING_URI" {
			t.Setenv(k, strings.Replace(v, "http://", "ftp://", 1))
			cmd("sync", dir) // a URI that cannot be used
			t.Setenv(k, v)
		}
	}
}
