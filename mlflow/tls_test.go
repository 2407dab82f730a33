package mlflow_test

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/mlerr/mlerr"
	"github.com/mlerr/mlerr/internal/fakemlflow"
	"github.com/mlerr/mlerr/internal/tlsproxy"
	"github.com/mlerr/mlerr/mlflow"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// pki is what a TLS test trusts and presents, made in the test.
type pki struct {
	ca, other *tlsproxy.CA
	// Server certificates: for 127.0.0.1 and localhost by ca (good), expired,
	// for another host, and by the other CA (untrusted).
	good, expired, wrongHost, untrusted *tlsproxy.Leaf
	// Files: ca's certificate, a directory holding it, a client certificate
	// by ca (cert and key in one PEM), one by the other CA, a certificate
	// without its key.
	caFile, caDir, clientFile, foreignClientFile, certOnlyFile, junkFile string
}

func newPKI(t *testing.T) *pki {
	t.Helper()
	ca, err := tlsproxy.NewCA("mlerr test CA")
	require.NoError(t, err)
	other, err := tlsproxy.NewCA("another CA")
	require.NoError(t, err)
	hosts := []string{"127.0.0.1", "localhost"}
	issue := func(by *tlsproxy.CA, o tlsproxy.LeafOptions) *tlsproxy.Leaf {
		l, err := by.Issue(o)
		require.NoError(t, err)
		return l
	}
	p := &pki{
		ca: ca, other: other,
		good:      issue(ca, tlsproxy.LeafOptions{Name: "server", Hosts: hosts}),
		expired:   issue(ca, tlsproxy.LeafOptions{Name: "expired", Hosts: hosts, NotBefore: time.Now().Add(-48 * time.Hour), NotAfter: time.Now().Add(-24 * time.Hour)}),
		wrongHost: issue(ca, tlsproxy.LeafOptions{Name: "elsewhere", Hosts: []string{"tracking.example.org"}}),
		untrusted: issue(other, tlsproxy.LeafOptions{Name: "server", Hosts: hosts}),
	}
	dir := t.TempDir()
	write := func(name string, data []byte) string {
		path := filepath.Join(dir, name)
		require.NoError(t, tlsproxy.WriteFile(path, data))
		return path
	}
	p.caFile = write("ca.pem", ca.CertPEM())
	p.caDir = filepath.Join(dir, "cas")
	require.NoError(t, os.Mkdir(p.caDir, 0o700))
	require.NoError(t, tlsproxy.WriteFile(filepath.Join(p.caDir, "ca.pem"), ca.CertPEM()))
	client := issue(ca, tlsproxy.LeafOptions{Name: "trainer", Client: true})
	p.clientFile = write("client.pem", client.PEM())
	p.foreignClientFile = write("foreign.pem", issue(other, tlsproxy.LeafOptions{Name: "trainer", Client: true}).PEM())
	p.certOnlyFile = write("cert-only.pem", client.CertPEM)
	p.junkFile = write("junk.pem", []byte("not a certificate\n"))
	return p
}

// tlsServer is a TLS proxy in front of a tracking server, a plain client
// of that server to read back what was stored, and the credentials the
// server wants (environment variables).
type tlsServer struct {
	proxy  *tlsproxy.Proxy
	direct *mlflow.Client
	creds  map[string]string
}

// tlsUpstream is the server behind the proxy: the auth suite's real server
// (a non-nil app), or an in-memory fake.
type tlsUpstream struct{ app *authApp }

// startTLS starts a proxy presenting cert in front of the upstream. With
// clientCA, the proxy requires a client certificate signed by p's CA.
func startTLS(t *testing.T, p *pki, up tlsUpstream, cert *tlsproxy.Leaf, clientCA bool) *tlsServer {
	t.Helper()
	cfg := tlsproxy.Config{Cert: cert.TLS}
	srv := &tlsServer{}
	if up.app == nil {
		fake := fakemlflow.New()
		cfg.Handler = fake
		hs := httptest.NewServer(fake)
		t.Cleanup(hs.Close)
		tr := &http.Transport{}
		t.Cleanup(tr.CloseIdleConnections)
		direct, err := mlflow.NewClient(hs.URL, mlflow.WithHTTPClient(&http.Client{Transport: tr}))
		require.NoError(t, err)
		srv.direct = direct
	} else {
		cfg.Upstream = up.app.uri
		srv.direct = up.app.read
		srv.creds = map[string]string{"MLFLOW_TRACKING_USERNAME": up.app.admin, "MLFLOW_TRACKING_PASSWORD": up.app.adminPass}
	}
	if clientCA {
		cfg.ClientCAs = p.ca.Pool()
	}
	proxy, err := tlsproxy.Start(cfg)
	require.NoError(t, err)
	t.Cleanup(func() { _ = proxy.Close() })
	srv.proxy = proxy
	return srv
}

// tlsCase is one way of configuring the client against one proxy.
type tlsCase struct {
	name   string
	cert   func(*pki) *tlsproxy.Leaf // what the proxy presents
	client bool                      // the proxy requires a client certificate
	host   string                    // the URL's host, default 127.0.0.1
	env    func(*pki) map[string]string
	// want: "" for success; else the error's kind, code and a text in it.
	wantKind *mlerr.Kind
	wantCode mlerr.Code
	wantText string
	// config marks an error of NewClientFromEnv, before any connection.
	config bool
}

func good(p *pki) *tlsproxy.Leaf { return p.good }

func tlsTable() []tlsCase {
	trust := func(p *pki) map[string]string { return map[string]string{"MLFLOW_TRACKING_SERVER_CERT_PATH": p.caFile} }
	mutual := func(p *pki) map[string]string {
		return map[string]string{"MLFLOW_TRACKING_SERVER_CERT_PATH": p.caFile, "MLFLOW_TRACKING_CLIENT_CERT_PATH": p.clientFile}
	}
	insecure := func(v string) func(*pki) map[string]string {
		return func(*pki) map[string]string { return map[string]string{"MLFLOW_TRACKING_INSECURE_TLS": v} }
	}
	untrusted := func(p *pki) *tlsproxy.Leaf { return p.untrusted }
	return []tlsCase{
		{name: "CA file trusted", cert: good, env: trust},
		{name: "CA directory trusted", cert: good, env: func(p *pki) map[string]string { return map[string]string{"MLFLOW_TRACKING_SERVER_CERT_PATH": p.caDir} }},
		{name: "host name localhost", cert: good, env: trust, host: "localhost"},
		{name: "client certificate", cert: good, client: true, env: mutual},
		{name: "system roots: unknown CA", cert: good, env: func(*pki) map[string]string { return nil },
			wantKind: mlflow.ErrTLS, wantCode: mlerr.CodeInvalidParameterValue, wantText: "certificate signed by unknown authority"},
		{name: "other CA", cert: untrusted, env: trust,
			wantKind: mlflow.ErrTLS, wantCode: mlerr.CodeInvalidParameterValue, wantText: "certificate signed by unknown authority"},
		{name: "expired", cert: func(p *pki) *tlsproxy.Leaf { return p.expired }, env: trust,
			wantKind: mlflow.ErrTLS, wantCode: mlerr.CodeInvalidParameterValue, wantText: "expired"},
		{name: "another host's certificate", cert: func(p *pki) *tlsproxy.Leaf { return p.wrongHost }, env: trust,
			wantKind: mlflow.ErrTLS, wantCode: mlerr.CodeInvalidParameterValue, wantText: "certificate for 127.0.0.1"},
		{name: "client certificate missing", cert: good, client: true, env: trust,
			wantKind: mlflow.ErrTLS, wantCode: mlerr.CodeUnauthenticated, wantText: "refused the client certificate"},
		{name: "client certificate of another CA", cert: good, client: true, env: func(p *pki) map[string]string {
			return map[string]string{"MLFLOW_TRACKING_SERVER_CERT_PATH": p.caFile, "MLFLOW_TRACKING_CLIENT_CERT_PATH": p.foreignClientFile}
		}, wantKind: mlflow.ErrTLS, wantCode: mlerr.CodeUnauthenticated, wantText: "refused the client certificate"},
		{name: "empty client certificate path: none", cert: good, client: true, env: func(p *pki) map[string]string {
			return map[string]string{"MLFLOW_TRACKING_SERVER_CERT_PATH": p.caFile, "MLFLOW_TRACKING_CLIENT_CERT_PATH": ""}
		}, wantKind: mlflow.ErrTLS, wantCode: mlerr.CodeUnauthenticated, wantText: "refused the client certificate"},

		// MLFLOW_TRACKING_INSECURE_TLS: true, false, 1, 0 in any case.
		{name: "insecure true", cert: untrusted, env: insecure("true")},
		{name: "insecure TrUe", cert: untrusted, env: insecure("TrUe")},
		{name: "insecure 1", cert: untrusted, env: insecure("1")},
		{name: "insecure 1 accepts an expired certificate", cert: func(p *pki) *tlsproxy.Leaf { return p.expired }, env: insecure("1")},
		{name: "insecure false", cert: untrusted, env: insecure("false"),
			wantKind: mlflow.ErrTLS, wantCode: mlerr.CodeInvalidParameterValue, wantText: "unknown authority"},
		{name: "insecure 0", cert: untrusted, env: insecure("0"),
			wantKind: mlflow.ErrTLS, wantCode: mlerr.CodeInvalidParameterValue, wantText: "unknown authority"},
		{name: "insecure false with a CA", cert: good, env: func(p *pki) map[string]string {
			return map[string]string{"MLFLOW_TRACKING_INSECURE_TLS": "FALSE", "MLFLOW_TRACKING_SERVER_CERT_PATH": p.caFile}
		}},
		{name: "insecure t", cert: good, env: insecure("t"), config: true, wantKind: mlerr.ErrMissingConfig, wantText: "MLFLOW_TRACKING_INSECURE_TLS"},
		{name: "insecure yes", cert: good, env: insecure("yes"), config: true, wantKind: mlerr.ErrMissingConfig, wantText: "MLFLOW_TRACKING_INSECURE_TLS"},
		{name: "insecure set but empty", cert: good, env: insecure(""), config: true, wantKind: mlerr.ErrMissingConfig, wantText: "MLFLOW_TRACKING_INSECURE_TLS"},
		{name: "insecure and a CA", cert: good, env: func(p *pki) map[string]string {
			return map[string]string{"MLFLOW_TRACKING_INSECURE_TLS": "true", "MLFLOW_TRACKING_SERVER_CERT_PATH": p.caFile}
		}, config: true, wantKind: mlerr.ErrMissingConfig, wantText: "cannot both be set"},
		{name: "insecure and an empty CA path", cert: good, env: func(p *pki) map[string]string {
			return map[string]string{"MLFLOW_TRACKING_INSECURE_TLS": "true", "MLFLOW_TRACKING_SERVER_CERT_PATH": ""}
		}, config: true, wantKind: mlerr.ErrMissingConfig, wantText: "cannot both be set"},

		// Files that cannot be used are named, before any connection.
		{name: "CA path empty", cert: good, env: func(*pki) map[string]string { return map[string]string{"MLFLOW_TRACKING_SERVER_CERT_PATH": ""} },
			config: true, wantKind: mlerr.ErrMissingConfig, wantText: "MLFLOW_TRACKING_SERVER_CERT_PATH is set but empty"},
		{name: "CA file missing", cert: good, env: func(p *pki) map[string]string {
			return map[string]string{"MLFLOW_TRACKING_SERVER_CERT_PATH": p.caFile + ".nope"}
		}, config: true, wantKind: mlerr.ErrMissingConfig, wantText: "ca.pem.nope"},
		{name: "CA file without a certificate", cert: good, env: func(p *pki) map[string]string {
			return map[string]string{"MLFLOW_TRACKING_SERVER_CERT_PATH": p.junkFile}
		}, config: true, wantKind: mlerr.ErrMissingConfig, wantText: "junk.pem holds no PEM certificate"},
		{name: "client certificate without its key", cert: good, client: true, env: func(p *pki) map[string]string {
			return map[string]string{"MLFLOW_TRACKING_SERVER_CERT_PATH": p.caFile, "MLFLOW_TRACKING_CLIENT_CERT_PATH": p.certOnlyFile}
		}, config: true, wantKind: mlerr.ErrMissingConfig, wantText: "cert-only.pem"},
	}
}

// checkTLSCase configures a client from the case's environment and makes
// one call through the proxy.
func checkTLSCase(t *testing.T, p *pki, up tlsUpstream, tc tlsCase) {
	srv := startTLS(t, p, up, tc.cert(p), tc.client)
	host := tc.host
	if host == "" {
		host = "127.0.0.1"
	}
	env := map[string]string{"MLFLOW_TRACKING_URI": srv.proxy.URL(host)}
	for k, v := range srv.creds {
		env[k] = v
	}
	for k, v := range tc.env(p) {
		env[k] = v
	}
	setEnv(t, env)
	c, err := mlflow.NewClientFromEnv()
	if tc.config {
		require.Error(t, err)
		assert.ErrorIs(t, err, tc.wantKind)
		assert.Contains(t, err.Error(), tc.wantText)
		assert.Zero(t, srv.proxy.Stats().Handshakes, "no connection is made")
		return
	}
	require.NoError(t, err)
	defer c.CloseIdleConnections()
	_, err = c.GetExperimentByName(context.Background(), "Default")
	st := srv.proxy.Stats()
	if tc.wantKind == nil {
		require.NoError(t, err)
		assert.Equal(t, int64(1), st.Requests)
		return
	}
	require.Error(t, err)
	assert.ErrorIs(t, err, tc.wantKind)
	assert.Equal(t, tc.wantCode, mlerr.CodeOf(err))
	assert.Contains(t, err.Error(), tc.wantText)
	assert.False(t, mlerr.Classify(err).Retry, "a TLS failure is never retried")
	assert.Zero(t, st.Requests, "nothing reached the server")
	assert.Equal(t, int64(1), st.Handshakes)
	t.Logf("%s: %v (proxy: %s)", tc.name, err, st.LastFailure)
}

func TestTLSFake(t *testing.T) {
	p := newPKI(t)
	for _, tc := range tlsTable() {
		t.Run(tc.name, func(t *testing.T) { checkTLSCase(t, p, tlsUpstream{}, tc) })
	}
}

// The real server behind the proxy is the auth suite's: TLS and basic auth
// together, as on a shared tracking server.
func TestIntegrationAuthTLS(t *testing.T) {
	up := tlsUpstream{app: newAuthApp(t)}
	p := newPKI(t)
	for _, tc := range tlsTable() {
		if tc.config {
			continue // no connection: the fake's run says it all
		}
		t.Run(tc.name, func(t *testing.T) { checkTLSCase(t, p, up, tc) })
	}
}

// A cert path is read for an https server only, as MLflow's client does.
func TestTLSSettingsIgnoredOverHTTP(t *testing.T) {
	s, auths, _ := authServer(t)
	setEnv(t, map[string]string{"MLFLOW_TRACKING_URI": s.URL, "MLFLOW_TRACKING_SERVER_CERT_PATH": "/nonexistent/ca.pem",
		"MLFLOW_TRACKING_CLIENT_CERT_PATH": "/nonexistent/client.pem"})
	c, err := mlflow.NewClientFromEnv()
	require.NoError(t, err)
	_, err = c.GetExperimentByName(context.Background(), "e")
	require.NoError(t, err)
	assert.Len(t, *auths, 1)
	_, err = mlflow.NewClient("https://127.0.0.1:1", mlflow.WithServerCertPath("/nonexistent/ca.pem"))
	assert.ErrorIs(t, err, mlerr.ErrMissingConfig)
	_, err = mlflow.NewClient(s.URL, mlflow.WithInsecureTLS(), mlflow.WithServerCertPath("/nonexistent/ca.pem"))
	assert.ErrorIs(t, err, mlerr.ErrMissingConfig, "refused whatever the scheme, as MLflow's client does")
}

// A Run over mutual TLS logs and ends FINISHED; when the server's
// certificate expires mid-run, the next batch is lost and reported once,
// never retried, and Close returns at once.
func checkTLSRun(t *testing.T, up tlsUpstream) {
	p := newPKI(t)
	srv := startTLS(t, p, up, p.good, true)
	env := map[string]string{"MLFLOW_TRACKING_URI": srv.proxy.URL("127.0.0.1"),
		"MLFLOW_TRACKING_SERVER_CERT_PATH": p.caFile, "MLFLOW_TRACKING_CLIENT_CERT_PATH": p.clientFile}
	for k, v := range srv.creds {
		env[k] = v
	}
	setEnv(t, env)
	backend, err := mlflow.NewBackendFromEnv()
	require.NoError(t, err)
	defer backend.Client().CloseIdleConnections()
	ctx := context.Background()
	rec := &recorder{}
	run, err := mlerr.NewRun(ctx, backend, mlerr.WithExperiment(unique("tls")), mlerr.WithCallbacks(rec.callbacks()),
		mlerr.WithRetryPolicy(testPolicy(10*time.Second, nil)), mlerr.WithLimits(mlerr.Limits{BatchItems: 1000, BatchBytes: 1 << 20, BatchInterval: time.Hour}))
	require.NoError(t, err)
	require.NoError(t, run.Started(ctx))
	logWorkload(t, run)
	require.NoError(t, run.Wait(ctx))
	requireHistory(t, srv.direct, run.ID(), "loss", workloadPoints())

	srv.proxy.SetCert(p.expired.TLS)
	srv.proxy.DropConnections()
	backend.Client().CloseIdleConnections()
	before := srv.proxy.Stats()
	late := map[string]float64{"late": 1}
	require.NoError(t, run.LogMetricsAt(10, t0.Add(10*time.Second), late))
	start := time.Now()
	report, err := run.Close(ctx)
	took := time.Since(start)
	require.Error(t, err)
	after := srv.proxy.Stats()

	assert.Less(t, took, 5*time.Second, "Close returns at once: nothing waits for a certificate to change")
	assert.Zero(t, report.Retries, "a TLS failure is never retried")
	assert.Equal(t, int64(2), after.Handshakes-before.Handshakes, "one handshake for the batch, one to end the run")
	assert.Equal(t, before.Requests, after.Requests, "nothing reached the server")
	errs := rec.get("err")
	require.Len(t, errs, 2, "the lost batch, then the run that could not be ended: %v", errs)
	lost := mlerr.LostItems(errs[0])
	require.Len(t, lost, 1)
	assert.Equal(t, "late", lost[0].Key)
	for _, e := range errs {
		assert.ErrorIs(t, e, mlflow.ErrTLS)
		assert.Contains(t, e.Error(), "expired")
	}
	assert.Equal(t, int64(1), report.Dropped.Total())
	assert.Equal(t, int64(workloadItems), report.Sent)
	got, err := srv.direct.GetRun(ctx, run.ID())
	require.NoError(t, err)
	assert.Equal(t, mlflow.StatusRunning, got.Info.Status, "the run could not be ended over TLS")
	assert.Empty(t, rec.get("net"), "not an outage")
}

func TestTLSRunFake(t *testing.T) { checkTLSRun(t, tlsUpstream{}) }

func TestIntegrationAuthTLSRun(t *testing.T) { checkTLSRun(t, tlsUpstream{app: newAuthApp(t)}) }

// The proxy's own certificates are what the tests think they are.
func TestPKI(t *testing.T) {
	p := newPKI(t)
	_, err := p.good.TLS.Leaf.Verify(verifyOpts(p, "127.0.0.1"))
	require.NoError(t, err)
	_, err = p.expired.TLS.Leaf.Verify(verifyOpts(p, "127.0.0.1"))
	assert.ErrorContains(t, err, "expired")
	_, err = p.wrongHost.TLS.Leaf.Verify(verifyOpts(p, "127.0.0.1"))
	assert.ErrorContains(t, err, "127.0.0.1")
	_, err = p.untrusted.TLS.Leaf.Verify(verifyOpts(p, "127.0.0.1"))
	assert.ErrorContains(t, err, "unknown authority")
	_, err = tls.LoadX509KeyPair(p.clientFile, p.clientFile)
	assert.NoError(t, err, "one PEM file holds the client certificate and its key")
}

func verifyOpts(p *pki, host string) x509.VerifyOptions {
	return x509.VerifyOptions{Roots: p.ca.Pool(), DNSName: host}
}

// A server that asks for a client certificate and resets the connection
// instead of sending an alert when there is none: the client cannot read
// why, but the refusal is still typed and never retried.
func TestTLSClientCertRefusedByReset(t *testing.T) {
	p := newPKI(t)
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(t, err)
	done := make(chan struct{})
	go func() {
		defer close(done)
		for {
			raw, err := ln.Accept()
			if err != nil {
				return
			}
			tc := tls.Server(raw, &tls.Config{Certificates: []tls.Certificate{p.good.TLS}, ClientAuth: tls.RequestClientCert})
			if tc.Handshake() == nil && len(tc.ConnectionState().PeerCertificates) == 0 {
				_ = raw.(*net.TCPConn).SetLinger(0) // a reset, no alert
			}
			_ = raw.Close()
		}
	}()
	defer func() { _ = ln.Close(); <-done }()
	c, err := mlflow.NewClient("https://"+ln.Addr().String(), mlflow.WithServerCertPath(p.caFile))
	require.NoError(t, err)
	defer c.CloseIdleConnections()
	_, err = c.GetExperimentByName(context.Background(), "Default")
	require.Error(t, err)
	assert.ErrorIs(t, err, mlflow.ErrTLS)
	assert.Equal(t, mlerr.CodeUnauthenticated, mlerr.CodeOf(err))
	assert.Contains(t, err.Error(), "asked for a client certificate, none was given")
	assert.False(t, mlerr.Classify(err).Retry)
}
