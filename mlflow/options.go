package mlflow

import (
	"net/http"
	"time"

	"github.com/mlerr/mlerr"
)

// Option configures a Client or a Backend.
type Option func(*config)

type config struct {
	auth       authConfig // from WithToken or WithBasicAuth
	authSet    bool
	envAuth    *authConfig // from the environment: the URL's user info wins over it
	httpClient *http.Client
	headers    http.Header
	userAgent  string
	timeout    time.Duration
	tls        tlsSettings
	experiment string // Backend: default experiment name
	// Backend: default experiment id, and the run to resume (envrun.go)
	experimentID, resumeRun string
	pageSize                int // GetMetricHistory page size
	retry                   *mlerr.Policy
	// Backend: system tags (systemtags.go)
	user, envUser string
	noSystemTags  bool
}

// DefaultTimeout bounds one HTTP request when the caller's context has no
// earlier deadline; MLflow's Python client uses the same 120 s.
const DefaultTimeout = 120 * time.Second

// WithToken authenticates with "Authorization: Bearer token", as
// MLFLOW_TRACKING_TOKEN does (an empty token sends no header). It replaces
// any earlier auth option, and wins over the tracking URI's user info and
// over the environment.
func WithToken(token string) Option {
	return func(c *config) { c.auth, c.authSet = authConfig{token: token}, true }
}

// WithBasicAuth authenticates with HTTP basic auth, "Authorization: Basic "
// and the standard base64 of "username:password" (UTF-8), as
// MLFLOW_TRACKING_USERNAME and MLFLOW_TRACKING_PASSWORD do (both empty send
// no header). It replaces any earlier auth option, and wins over the
// tracking URI's user info and over the environment.
func WithBasicAuth(username, password string) Option {
	return func(c *config) {
		c.auth = authConfig{username: username, password: password, basic: username != "" || password != ""}
		c.authSet = true
	}
}

// WithHTTPClient sends requests with hc instead of a client of the package's
// own. The caller's client keeps its own transport, TLS and timeout settings;
// WithInsecureTLS, WithServerCertPath and WithClientCertPath (and their
// environment variables) then have no effect.
func WithHTTPClient(hc *http.Client) Option {
	return func(c *config) { c.httpClient = hc }
}

// WithHeader adds a header to every request (a proxy's auth header, say).
func WithHeader(key, value string) Option {
	return func(c *config) {
		if c.headers == nil {
			c.headers = http.Header{}
		}
		c.headers.Add(key, value)
	}
}

// WithUserAgent sets the User-Agent header of every request.
func WithUserAgent(ua string) Option {
	return func(c *config) { c.userAgent = ua }
}

// WithTimeout bounds each HTTP request (DefaultTimeout when not set; a
// non-positive d means no bound besides the caller's context).
func WithTimeout(d time.Duration) Option {
	return func(c *config) { c.timeout = d }
}

// WithInsecureTLS skips the verification of the server's TLS certificate, as
// MLFLOW_TRACKING_INSECURE_TLS=true does. For test servers only. It cannot be
// combined with WithServerCertPath: NewClient refuses both (kind
// mlerr.ErrMissingConfig), as MLflow's client does.
func WithInsecureTLS() Option {
	return func(c *config) { c.tls.insecure = true }
}

// WithServerCertPath trusts the CA certificates in the PEM file at path (or
// in the PEM files of the directory at path), and only those, to verify an
// https tracking server, as MLFLOW_TRACKING_SERVER_CERT_PATH does. The file
// is read by NewClient; one that cannot be read or holds no certificate is
// an error of kind mlerr.ErrMissingConfig naming it. An http:// tracking
// URI ignores it.
func WithServerCertPath(path string) Option {
	return func(c *config) { c.tls.serverCert, c.tls.serverCertSet = path, true }
}

// WithClientCertPath presents the client certificate in the PEM file at
// path to an https tracking server that asks for one (mutual TLS), as
// MLFLOW_TRACKING_CLIENT_CERT_PATH does: one file holding the certificate
// (and its chain) and its unencrypted private key. The file is read by
// NewClient; one that cannot be read or lacks the certificate or the key is
// an error of kind mlerr.ErrMissingConfig naming it. An http:// tracking
// URI ignores it.
func WithClientCertPath(path string) Option {
	return func(c *config) { c.tls.clientCert = path }
}

// WithExperiment sets the experiment (by name) of the runs a Backend starts
// when RunSpec.Experiment is empty. Without it such runs go to MLflow's
// default experiment (id "0"). It has no effect on a Client.
func WithExperiment(name string) Option {
	return func(c *config) { c.experiment = name }
}

// WithPageSize sets how many points GetMetricHistory asks for per page
// (MLflow's max_results); the default is 25000, the server's maximum.
func WithPageSize(n int) Option {
	return func(c *config) { c.pageSize = n }
}

// WithRetry makes the Client retry its idempotent calls with p (see
// mlerr.Retry): every GET, runs/log-batch (MLflow de-duplicates a resent
// batch), runs/update, runs/delete and runs/search. runs/create and
// experiments/create are never retried, since a lost answer could create
// twice (GetOrCreateExperiment and Backend.StartRun handle that instead).
// When retries run out, the error is the *mlerr.RetryError, which unwraps to
// the last attempt's error.
//
// A Backend used by an mlerr.Run needs no WithRetry: the Run retries each
// Backend call with its own policy, and both would multiply.
func WithRetry(p mlerr.Policy) Option {
	return func(c *config) { c.retry = &p }
}
