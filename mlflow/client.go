package mlflow

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strings"
	"time"

	"github.com/mlerr/mlerr"
)

// apiPrefix is the path of MLflow's REST API 2.0 under the tracking URI.
const apiPrefix = "/api/2.0/mlflow/"

// maxResponseBytes bounds the body of a successful response that is decoded.
const maxResponseBytes = 256 << 20

// Client is a thin typed client of MLflow's REST API 2.0. It makes one HTTP
// request per call and does not retry unless built WithRetry (or wrap calls
// in mlerr.Retry or mlerr.Do: log-batch is safe to retry; runs/create and
// experiments/create are not idempotent).
//
// Every non-2xx answer is returned as the *mlerr.Error that
// mlerr.FromResponse decodes from it: kind mlerr.ErrRest, MLflow's error code
// and message, the observed HTTP status and any Retry-After; a 401 or 403 is
// of kind mlerr.ErrUnauthorized, with that error as cause (see the package
// doc). TLS failures that no retry fixes are of kind ErrTLS. Other transport
// failures (refused, reset, timeouts) are returned as the net/http client
// reports them, wrapped in *url.Error. A Client is safe for concurrent use.
type Client struct {
	base    *url.URL // scheme://host[:port][/path], no user info, no trailing slash
	hc      *http.Client
	auth    string   // the Authorization header, "" for none
	secrets scrubber // what messages must not show
	headers http.Header
	ua      string
	timeout time.Duration
	page    int
	retry   *mlerr.Policy
}

// NewClient returns a Client for the tracking server at trackingURI, an
// http:// or https:// URL, optionally with a path prefix
// (http://host/mlflow).
//
// Credentials, first found first used: an auth option (WithToken,
// WithBasicAuth); the URL's user info (http://user:pass@host, as MLflow's
// client uses it: basic auth when the URL has a password part, even an
// empty one; http://user@host sends none); the environment's, for
// NewClientFromEnv. The URL's user info is never sent in the URL, never
// printed (TrackingURI and every message show the URL without it), and the
// Client scrubs its token, password and Authorization header from every
// error and panic message it returns or raises, the server's answers
// included.
//
// A URI that cannot be used (empty, unparsable, another scheme such as
// file:, sqlite: or databricks, no host, a query or fragment) is an error of
// kind mlerr.ErrInvalidURL. For an https URI, TLS options that contradict
// each other or certificate files that cannot be used are errors of kind
// mlerr.ErrMissingConfig (see WithServerCertPath, WithClientCertPath).
func NewClient(trackingURI string, opts ...Option) (*Client, error) {
	cfg := config{timeout: DefaultTimeout, pageSize: defaultPageSize}
	for _, o := range opts {
		o(&cfg)
	}
	base, userInfo, err := parseTrackingURI(trackingURI)
	if err != nil {
		return nil, err
	}
	auth := chooseAuth(cfg, userInfo)
	c := &Client{
		base:    base,
		hc:      cfg.httpClient,
		auth:    auth.authorization(),
		secrets: newScrubber(auth.secrets()),
		headers: cfg.headers,
		ua:      cfg.userAgent,
		timeout: cfg.timeout,
		page:    cfg.pageSize,
		retry:   cfg.retry,
	}
	if c.ua == "" {
		c.ua = "mlerr-go"
	}
	if c.page <= 0 {
		c.page = defaultPageSize
	}
	if c.hc == nil {
		if c.hc, err = newHTTPClient(base, cfg.tls); err != nil {
			return nil, err
		}
	}
	return c, nil
}

// chooseAuth picks the credentials: an auth option, else the URL's user
// info, else the environment's.
func chooseAuth(cfg config, userInfo *url.Userinfo) authConfig {
	if cfg.authSet {
		return cfg.auth
	}
	if a, ok := userInfoAuth(userInfo); ok {
		return a
	}
	if cfg.envAuth != nil {
		return *cfg.envAuth
	}
	return authConfig{}
}

// The Client's own HTTP client's transport buffers and idle connections.
const (
	writeBufferSize     = 128 << 10
	maxIdleConnsPerHost = 16
)

// newHTTPClient returns the Client's own HTTP client, with the TLS settings
// applied for an https server.
func newHTTPClient(base *url.URL, s tlsSettings) (*http.Client, error) {
	if err := s.check(); err != nil {
		return nil, err
	}
	t := http.DefaultTransport.(*http.Transport).Clone()
	// A log-batch body is 50-300 KB. With the default 4 KB write buffer the
	// body goes out in 4 KB writes, a system call (and, over TLS, a record)
	// each; with writeBufferSize, in one or a few.
	t.WriteBufferSize = writeBufferSize
	// Several batches in flight each hold a connection: keep that many open
	// between requests instead of dialling anew (the default keeps 2).
	t.MaxIdleConnsPerHost = maxIdleConnsPerHost
	if base.Scheme == "https" {
		tc, err := s.config()
		if err != nil {
			return nil, err
		}
		t.TLSClientConfig = tc // for requests through an HTTPS proxy
		t.DialTLSContext = (&clientCertDialer{config: tc.Clone()}).DialTLSContext
	}
	return &http.Client{Transport: t}, nil
}

// parseTrackingURI checks a tracking URI and splits off its user info.
func parseTrackingURI(raw string) (*url.URL, *url.Userinfo, error) {
	s := strings.TrimSpace(raw)
	if s == "" {
		return nil, nil, mlerr.ErrInvalidURL.New("tracking URI is empty: want http://host:port")
	}
	u, err := url.Parse(s)
	if err != nil {
		// url.Error's text repeats the URL, which may hold a password.
		return nil, nil, mlerr.ErrInvalidURL.Errorf("tracking URI cannot be parsed: %v", unwrapURLError(err))
	}
	switch strings.ToLower(u.Scheme) {
	case "http", "https":
	case "":
		return nil, nil, mlerr.ErrInvalidURL.Errorf("tracking URI %q has no scheme: want http://%s", redact(u), s)
	default:
		return nil, nil, mlerr.ErrInvalidURL.Errorf("tracking URI %q: scheme %q is not supported: only http and https tracking servers are (not file, sqlite or databricks stores)", redact(u), u.Scheme)
	}
	if u.Host == "" || u.Hostname() == "" {
		return nil, nil, mlerr.ErrInvalidURL.Errorf("tracking URI %q has no host", redact(u))
	}
	if u.Opaque != "" || u.RawQuery != "" || u.Fragment != "" {
		return nil, nil, mlerr.ErrInvalidURL.Errorf("tracking URI %q must not have a query or fragment", redact(u))
	}
	user := u.User
	u.User = nil
	u.Scheme = strings.ToLower(u.Scheme)
	u.Path = strings.TrimRight(u.Path, "/")
	u.RawPath = ""
	return u, user, nil
}

func unwrapURLError(err error) error {
	if ue, ok := err.(*url.Error); ok {
		return ue.Err
	}
	return err
}

func redact(u *url.URL) string {
	c := *u
	if c.User != nil {
		c.User = url.User("xxxxx")
	}
	return c.String()
}

// CloseIdleConnections closes the idle keep-alive connections of the
// Client's HTTP client.
func (c *Client) CloseIdleConnections() { c.hc.CloseIdleConnections() }

// TrackingURI returns the tracking server's URL, without credentials.
func (c *Client) TrackingURI() string { return c.base.String() }

// endpoint returns the URL of an API endpoint such as "runs/get".
func (c *Client) endpoint(path string, query url.Values) string {
	u := *c.base
	u.Path = c.base.Path + apiPrefix + path
	if len(query) > 0 {
		u.RawQuery = query.Encode()
	}
	return u.String()
}

// get calls a GET endpoint and decodes its JSON answer into out (may be nil).
func (c *Client) get(ctx context.Context, path string, query url.Values, out any) error {
	return c.call(ctx, http.MethodGet, path, query, nil, out)
}

// post calls a POST endpoint with in as its JSON body.
func (c *Client) post(ctx context.Context, path string, in, out any) error {
	body, err := json.Marshal(in)
	if err != nil {
		return mlerr.InvalidParameterValue("mlflow: cannot encode the %s request: %w", path, err)
	}
	return c.call(ctx, http.MethodPost, path, nil, body, out)
}

// notRetried are the endpoints that must not be repeated blindly.
var notRetried = map[string]bool{"runs/create": true, "experiments/create": true}

func (c *Client) call(ctx context.Context, method, path string, query url.Values, body []byte, out any) error {
	if c.retry == nil || notRetried[path] {
		return c.once(ctx, method, path, query, body, out)
	}
	return mlerr.Retry(ctx, *c.retry, func(ctx context.Context) error {
		return c.once(ctx, method, path, query, body, out)
	})
}

// once makes one request.
func (c *Client) once(ctx context.Context, method, path string, query url.Values, body []byte, out any) error {
	if c.timeout > 0 {
		if dl, ok := ctx.Deadline(); !ok || time.Until(dl) > c.timeout {
			var cancel context.CancelFunc
			ctx, cancel = context.WithTimeout(ctx, c.timeout)
			defer cancel()
		}
	}
	req, err := c.newRequest(ctx, method, path, query, body)
	if err != nil {
		return err
	}
	resp, err := c.do(req)
	if err != nil {
		return err
	}
	if resp.StatusCode < 200 || resp.StatusCode > 299 {
		return c.decodeError(resp)
	}
	return c.decodeAnswer(path, resp, out)
}

// newRequest builds a request with the Client's headers.
func (c *Client) newRequest(ctx context.Context, method, path string, query url.Values, body []byte) (*http.Request, error) {
	var rd io.Reader
	if body != nil {
		rd = bytes.NewReader(body)
	}
	req, err := http.NewRequestWithContext(ctx, method, c.endpoint(path, query), rd)
	if err != nil {
		return nil, mlerr.ErrInvalidURL.Errorf("mlflow: cannot build the %s request: %w", path, err)
	}
	if body != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	req.Header.Set("Accept", "application/json")
	c.setHeaders(req)
	return req, nil
}

// decodeAnswer reads a 2xx answer's JSON body into out (may be nil).
func (c *Client) decodeAnswer(path string, resp *http.Response, out any) error {
	defer resp.Body.Close()
	data, err := io.ReadAll(io.LimitReader(resp.Body, maxResponseBytes))
	if err != nil {
		return err // the connection broke while reading: a network error
	}
	if resp.StatusCode == http.StatusNoContent && len(data) == 0 {
		return nil
	}
	// Even when the answer's content does not matter (log-batch answers
	// {}), a body that is not JSON means something else answered, such as a
	// proxy's login page: the request cannot be taken as applied.
	if out == nil {
		var v json.RawMessage
		out = &v
	}
	if err := json.Unmarshal(data, out); err != nil {
		// No HTTP status on the error: the status was a success, and the
		// failure is retryable, as a garbled answer in transit is.
		return mlerr.ErrRest.Errorf("mlflow: %s answered %d with a body that is not the expected JSON (%s): %w",
			path, resp.StatusCode, excerpt(c.secrets.bytes(data)), err)
	}
	return nil
}

// setHeaders sets the headers every request of the Client carries: its
// User-Agent, the WithHeader ones, its credentials.
func (c *Client) setHeaders(req *http.Request) {
	req.Header.Set("User-Agent", c.ua)
	for k, vs := range c.headers {
		for _, v := range vs {
			req.Header.Add(k, v)
		}
	}
	if c.auth != "" {
		req.Header.Set("Authorization", c.auth)
	}
}

// excerpt returns the start of a body for an error message.
func excerpt(b []byte) string {
	const max = 200
	s := strings.ToValidUTF8(string(b), "?")
	if len(s) > max {
		s = s[:max] + "..."
	}
	return fmt.Sprintf("%q", s)
}
