package mlerr_test

import (
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"io"
	"log"
	"net"
	"net/http"
	"net/http/httptest"
	"net/url"
	"os"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/mlerr/mlerr"
)

func TestClassifyEveryCode(t *testing.T) {
	for _, c := range mlerr.Codes() {
		want := c.Retryable()
		for _, err := range []error{
			mlerr.New(c, "x"),
			c,
			fmt.Errorf("call: %w", c),
			mlerr.Wrap(errors.New("cause"), c, "wrapped"),
			mlerr.NewKind("SomeKind", nil, c),
			coded{c},
		} {
			d := mlerr.Classify(err)
			assert.Equal(t, want, d.Retry, "%v (%T, retryable %v): %+v", c, err, c.Retryable(), d)
			assert.Zero(t, d.After)
		}
	}
}

// coded is an error with a Code method of its own, as *BatchError is.
type coded struct{ c mlerr.Code }

func (e coded) Error() string     { return "coded" }
func (e coded) Code() mlerr.Code  { return e.c }
func (e coded) Unwrap() error     { return io.EOF }
func (e coded) Is(err error) bool { return false }

func TestClassifyHTTPStatus(t *testing.T) {
	for status := 400; status <= 599; status++ {
		want := status == 408 || status == 429 || (status >= 500 && status != 501)
		for _, body := range []string{"", "<html>502 Bad Gateway</html>", `{"message":"no code"}`} {
			e := mlerr.Decoder{}.DecodeError(status, nil, []byte(body))
			d := mlerr.Classify(e)
			assert.Equal(t, want, d.Retry, "status %d body %q: %+v", status, body, d)
			assert.True(t, strings.HasPrefix(d.Reason, "status "), d.Reason)
		}
	}
}

func TestClassifyNamedCodeBeatsStatus(t *testing.T) {
	tests := []struct {
		status int
		code   string
		retry  bool
		reason string
	}{
		{500, "INVALID_STATE", false, "code never"},          // MLflow's own 500 for a caller fault
		{409, "ABORTED", true, "code transient"},             // a transient code on a 409
		{503, "TEMPORARILY_UNAVAILABLE", true, "status 5xx"}, // agree: the status decides
		{429, "REQUEST_LIMIT_EXCEEDED", true, "code throttled"},
		{400, "INVALID_PARAMETER_VALUE", false, "code never"},
		{404, "RESOURCE_DOES_NOT_EXIST", false, "code never"},
		{503, "FROBNICATOR_DOWN", true, "status 5xx"},      // unknown name: the status decides
		{400, "FROBNICATOR_BROKEN", false, "status final"}, // unknown name: the status decides
		{501, "NOT_IMPLEMENTED", false, "status 501"},
	}
	for _, tt := range tests {
		body := fmt.Sprintf(`{"error_code":%q,"message":"m"}`, tt.code)
		d := mlerr.Classify(mlerr.Decoder{}.DecodeError(tt.status, nil, []byte(body)))
		assert.Equal(t, mlerr.Decision{Retry: tt.retry, Reason: tt.reason}, d, "%d %s", tt.status, tt.code)
	}
}

func TestClassifySignals(t *testing.T) {
	unavailable := mlerr.New(mlerr.CodeTemporarilyUnavailable, "down")
	badRequest := mlerr.New(mlerr.CodeBadRequest, "no")
	tests := []struct {
		name string
		err  error
		want mlerr.Decision
	}{
		{"nil", nil, mlerr.Decision{Reason: "nil error"}},
		{"plain error", errors.New("boom"), mlerr.Decision{Reason: "not retryable"}},
		{"permanent", mlerr.Permanent(unavailable), mlerr.Decision{Reason: "permanent"}},
		{"permanent deep in a join", errors.Join(unavailable, fmt.Errorf("x: %w", mlerr.Permanent(io.EOF))), mlerr.Decision{Reason: "permanent"}},
		{"server Retry-After", unavailable.WithRetryAfter(3 * time.Second), mlerr.Decision{Retry: true, After: 3 * time.Second, Reason: "retry-after"}},
		{"Retry-After beats the code", badRequest.WithRetryAfter(time.Second), mlerr.Decision{Retry: true, After: time.Second, Reason: "retry-after"}},
		{"op asks for a delay", mlerr.RetryAfter(errors.New("busy"), 2*time.Second), mlerr.Decision{Retry: true, After: 2 * time.Second, Reason: "retry-after"}},
		{"RetryAfter zero is no mark", mlerr.RetryAfter(badRequest, 0), mlerr.Decision{Reason: "code never"}},
		{"canceled", context.Canceled, mlerr.Decision{Reason: "context canceled"}},
		{"deadline", context.DeadlineExceeded, mlerr.Decision{Reason: "context deadline"}},
		{"canceled under a transient code", mlerr.Wrap(context.Canceled, mlerr.CodeInternalError, "send"), mlerr.Decision{Reason: "context canceled"}},
		{"deadline inside url.Error", &url.Error{Op: "Post", URL: "http://x", Err: context.DeadlineExceeded}, mlerr.Decision{Reason: "context deadline"}},
		{"server's DEADLINE_EXCEEDED is no context error", mlerr.New(mlerr.CodeDeadlineExceeded, "slow"), mlerr.Decision{Retry: true, Reason: "code transient"}},
		{"attempt timeout", &mlerr.TimeoutError{Kind: "attempt", Err: context.DeadlineExceeded}, mlerr.Decision{Retry: true, Reason: "attempt timeout"}},
		{"connect timeout", &mlerr.TimeoutError{Kind: "connect"}, mlerr.Decision{Retry: true, Reason: "connect timeout"}},
		{"read timeout", &mlerr.TimeoutError{Kind: "read"}, mlerr.Decision{Retry: true, Reason: "read timeout"}},
		{"caller's deadline", &mlerr.TimeoutError{Kind: "context", Err: unavailable}, mlerr.Decision{Reason: "context deadline"}},
		{"dns not found", dialErr(&net.DNSError{Err: "no such host", Name: "mlflow.invalid", IsNotFound: true}), mlerr.Decision{Reason: "dns not found"}},
		{"dns timeout", dialErr(&net.DNSError{Err: "i/o timeout", Name: "mlflow", IsTimeout: true}), mlerr.Decision{Retry: true, Reason: "network timeout"}},
		{"dns temporary", dialErr(&net.DNSError{Err: "server misbehaving", Name: "mlflow", IsTemporary: true}), mlerr.Decision{Retry: true, Reason: "dns temporary"}},
		{"dns other", dialErr(&net.DNSError{Err: "odd", Name: "mlflow"}), mlerr.Decision{Reason: "dns error"}},
		{"errno unreachable", dialErr(os.NewSyscallError("connect", syscall.EHOSTUNREACH)), mlerr.Decision{Retry: true, Reason: "host unreachable"}},
		{"errno other", dialErr(os.NewSyscallError("connect", syscall.EACCES)), mlerr.Decision{Reason: "not retryable"}},
		{"errno reset", os.NewSyscallError("read", syscall.ECONNRESET), mlerr.Decision{Retry: true, Reason: "connection reset"}},
		{"errno aborted", os.NewSyscallError("read", syscall.ECONNABORTED), mlerr.Decision{Retry: true, Reason: "connection aborted"}},
		{"errno broken pipe", os.NewSyscallError("write", syscall.EPIPE), mlerr.Decision{Retry: true, Reason: "broken pipe"}},
		{"errno timed out", dialErr(os.NewSyscallError("connect", syscall.ETIMEDOUT)), mlerr.Decision{Retry: true, Reason: "network timeout"}},
		{"errno network unreachable", dialErr(os.NewSyscallError("connect", syscall.ENETUNREACH)), mlerr.Decision{Retry: true, Reason: "network unreachable"}},
		{"unexpected EOF", fmt.Errorf("reading body: %w", io.ErrUnexpectedEOF), mlerr.Decision{Retry: true, Reason: "unexpected eof"}},
		{"bare EOF is no network signal", io.EOF, mlerr.Decision{Reason: "not retryable"}},
		{"connection closed under a request's body", &url.Error{Op: "Put", URL: "http://h/x", Err: &net.OpError{Op: "readfrom", Net: "tcp", Err: &net.OpError{Op: "write", Net: "tcp", Err: net.ErrClosed}}}, mlerr.Decision{Retry: true, Reason: "connection closed"}},
		{"closed connection outside a request", &net.OpError{Op: "write", Net: "tcp", Err: net.ErrClosed}, mlerr.Decision{Reason: "not retryable"}},
		{"certificate under a transient code", mlerr.Wrap(x509Unknown(t), mlerr.CodeTemporarilyUnavailable, "send"), mlerr.Decision{Reason: "certificate"}},
		{"refused under a local caller-fault code", mlerr.Wrap(dialErr(os.NewSyscallError("connect", syscall.ECONNREFUSED)), mlerr.CodeInvalidParameterValue, "send"), mlerr.Decision{Retry: true, Reason: "connection refused"}},
		{"observed status beats the network", mlerr.New(mlerr.CodeBadRequest, "x").WithHTTPStatus(400).WithCause(io.ErrUnexpectedEOF), mlerr.Decision{Reason: "status final"}},
		{"escape error", url.EscapeError("%zz"), mlerr.Decision{Reason: "malformed url"}},
		{"invalid host", url.InvalidHostError("a b"), mlerr.Decision{Reason: "malformed url"}},
		{"join: first code wins", errors.Join(errors.New("a"), mlerr.CodeResourceExhausted), mlerr.Decision{Retry: true, Reason: "code throttled"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			assert.Equal(t, tt.want, mlerr.Classify(tt.err))
			if tt.err != nil {
				assert.Equal(t, tt.want, mlerr.Classify(fmt.Errorf("wrapped: %w", tt.err)), "wrapping changes nothing")
			}
		})
	}
}

// selfJoined joins err with itself n times over: 2^n paths lead to err.
func selfJoined(err error, n int) error {
	for range n {
		err = errors.Join(err, err)
	}
	return err
}

// TestClassifyBoundsItsWalk: Classify's walk is bounded by the errors it
// visits, not by depth, so an error that joins itself along every path
// (2^60 paths here, which a depth bound lets through) or forever (fork) is
// classified at once from what the first visits find.
func TestClassifyBoundsItsWalk(t *testing.T) {
	unavailable := mlerr.New(mlerr.CodeTemporarilyUnavailable, "down")
	tests := []struct {
		name string
		err  error
		want mlerr.Decision
	}{
		{"self-joined plain error", selfJoined(errors.New("x"), 60), mlerr.Decision{Reason: "not retryable"}},
		{"self-joined code", selfJoined(unavailable, 60), mlerr.Decision{Retry: true, Reason: "code transient"}},
		// (url.Error, not fmt.Errorf, wraps it: fmt would print its 2^60 texts.)
		{"self-joined under a wrap", &url.Error{Op: "Post", URL: "http://x", Err: selfJoined(fmt.Errorf("w: %w", unavailable), 60)}, mlerr.Decision{Retry: true, Reason: "code transient"}},
		{"self-joined beside a permanent mark", errors.Join(selfJoined(unavailable, 60), mlerr.Permanent(unavailable)), mlerr.Decision{Retry: true, Reason: "code transient"}},
		{"permanent mark self-joined", selfJoined(mlerr.Permanent(unavailable), 60), mlerr.Decision{Reason: "permanent"}},
		{"fork joins itself forever", &fork{}, mlerr.Decision{Reason: "not retryable"}},
		{"loop unwraps to itself", &loop{}, mlerr.Decision{Reason: "not retryable"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			assert.Equal(t, tt.want, mlerr.Classify(tt.err))
		})
	}
}

// TestClassifyReadsAWholeBatch: the visit bound still reads a *BatchError
// of a full batch to its last failure: a Retry-After only the 1,000th
// failure carries decides.
func TestClassifyReadsAWholeBatch(t *testing.T) {
	failures := make([]mlerr.Failure[int], 1000)
	for i := range failures {
		cause := mlerr.New(mlerr.CodeTemporarilyUnavailable, "down")
		if i == len(failures)-1 {
			cause = cause.WithRetryAfter(7 * time.Second)
		}
		failures[i] = mlerr.Failure[int]{Item: i, Index: i, Code: cause.Code(), Cause: fmt.Errorf("item %d: %w", i, cause)}
	}
	err := mlerr.NewBatchError(len(failures), failures)
	assert.Equal(t, mlerr.Decision{Retry: true, After: 7 * time.Second, Reason: "retry-after"}, mlerr.Classify(err))
}

func dialErr(err error) error {
	return &net.OpError{Op: "dial", Net: "tcp", Err: err}
}

// x509Unknown returns the real error of an HTTPS call to a server whose
// certificate nobody trusts.
func x509Unknown(t *testing.T) error {
	t.Helper()
	srv := httptest.NewUnstartedServer(http.NotFoundHandler())
	srv.Config.ErrorLog = log.New(io.Discard, "", 0) // the failed handshake
	srv.StartTLS()
	defer srv.Close()
	_, err := (&http.Client{}).Get(srv.URL)
	require.Error(t, err)
	return err
}

// TestClassifyLoopback classifies the errors real calls on loopback return.
func TestClassifyLoopback(t *testing.T) {
	tests := []struct {
		name    string
		make    func(t *testing.T) error
		retry   bool
		reasons []string // any of
	}{
		{"closed port: dial", func(t *testing.T) error { _, err := net.Dial("tcp", closedAddr(t)); return err }, true, []string{"connection refused"}},
		{"closed port: http", func(t *testing.T) error { return httpGet(t, &http.Client{}, "http://"+closedAddr(t)) }, true, []string{"connection refused"}},
		{"reset: raw read", resetRead, true, []string{"connection reset"}},
		{"reset: http", func(t *testing.T) error { return httpGet(t, &http.Client{}, "http://"+resetServer(t)) }, true, []string{"connection reset", "connection closed", "broken pipe"}},
		{"closed before the response: http", func(t *testing.T) error { return httpGet(t, &http.Client{}, "http://"+closeServer(t)) }, true, []string{"connection closed", "connection reset"}},
		{"hangs: http client timeout", func(t *testing.T) error {
			return httpGet(t, &http.Client{Timeout: 20 * time.Millisecond}, "http://"+hangServer(t))
		}, true, []string{"network timeout"}},
		{"dial deadline passed", func(t *testing.T) error {
			_, err := (&net.Dialer{Deadline: time.Now().Add(-time.Second)}).Dial("tcp", hangServer(t))
			return err
		}, true, []string{"network timeout"}},
		{"read deadline passed", readDeadline, true, []string{"network timeout"}},
		{"short body", shortBody, true, []string{"unexpected eof"}},
		{"untrusted certificate", x509Unknown, false, []string{"certificate"}},
		{"TLS to a plain server", func(t *testing.T) error {
			srv := httptest.NewServer(http.NotFoundHandler())
			defer srv.Close()
			return httpGet(t, &http.Client{}, "https://"+srv.Listener.Addr().String())
		}, false, []string{"not retryable"}}, // net/http replaces the tls.RecordHeaderError by a plain error
		{"TLS to a plain server: raw", func(t *testing.T) error {
			srv := httptest.NewServer(http.NotFoundHandler())
			defer srv.Close()
			c, err := tls.Dial("tcp", srv.Listener.Addr().String(), &tls.Config{ServerName: "x"})
			if err == nil {
				c.Close()
			}
			return err
		}, false, []string{"tls"}},
		{"malformed URL", func(t *testing.T) error { return httpGet(t, &http.Client{}, "http://[::1") }, false, []string{"malformed url"}},
		{"space in host", func(t *testing.T) error { return httpGet(t, &http.Client{}, "http://ml flow/") }, false, []string{"malformed url"}},
		{"unsupported scheme", func(t *testing.T) error { return httpGet(t, &http.Client{}, "ftp://127.0.0.1/") }, false, []string{"not retryable"}},
		{"canceled request", func(t *testing.T) error {
			ctx, cancel := context.WithCancel(context.Background())
			cancel()
			req, _ := http.NewRequestWithContext(ctx, "GET", "http://"+hangServer(t), nil)
			_, err := http.DefaultClient.Do(req)
			return err
		}, false, []string{"context canceled"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			err := tt.make(t)
			require.Error(t, err)
			d := mlerr.Classify(err)
			assert.Equal(t, tt.retry, d.Retry, "%v: %+v", err, d)
			assert.Contains(t, tt.reasons, d.Reason, "%v", err)
		})
	}
}

// Retry reports network timeouts as *TimeoutError, connect or read.
func TestRetryTypesNetworkTimeouts(t *testing.T) {
	tests := []struct {
		name string
		op   func(t *testing.T) error
		kind string
	}{
		{"dial", func(t *testing.T) error {
			_, err := (&net.Dialer{Deadline: time.Now().Add(-time.Second)}).Dial("tcp", hangServer(t))
			return err
		}, "connect"},
		{"awaiting headers", func(t *testing.T) error {
			return httpGet(t, &http.Client{Timeout: 20 * time.Millisecond}, "http://"+hangServer(t))
		}, "read"},
		{"read deadline", readDeadline, "read"},
		{"TLS handshake", func(*testing.T) error {
			return &url.Error{Op: "Get", URL: "https://x", Err: handshakeTimeout{}}
		}, "connect"},
	}
	for _, tt := range tests {
		for _, custom := range []bool{false, true} {
			t.Run(fmt.Sprintf("%s/custom classifier %v", tt.name, custom), func(t *testing.T) {
				p := mlerr.Policy{MaxAttempts: 2, AttemptTimeout: mlerr.Off, Clock: newFakeClock()}
				if custom {
					p.Classify = mlerr.Classify
				}
				err := mlerr.Retry(context.Background(), p, func(context.Context) error { return tt.op(t) })
				var re *mlerr.RetryError
				require.ErrorAs(t, err, &re)
				assert.Equal(t, "exhausted", re.Reason, "timeouts are retried: %v", err)
				var te *mlerr.TimeoutError
				require.ErrorAs(t, re.Last, &te)
				assert.Equal(t, tt.kind, te.Kind)
				assert.Zero(t, te.Timeout, "the network does not tell its limit")
				assert.ErrorIs(t, err, context.DeadlineExceeded)
				assert.NotSame(t, te, te.Err, "the op's error is kept")
				assert.True(t, strings.HasPrefix(te.Error(), tt.kind+" timeout: "), te.Error())
			})
		}
	}
}

type handshakeTimeout struct{}

func (handshakeTimeout) Error() string   { return "net/http: TLS handshake timeout" }
func (handshakeTimeout) Timeout() bool   { return true }
func (handshakeTimeout) Temporary() bool { return true }

// The SDK-author path: a real server that hangs, an attempt timeout, and a
// retry that succeeds.
func TestRetryHangingServerThenSuccess(t *testing.T) {
	hang := hangServer(t)
	ok := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) { _, _ = io.WriteString(w, "ok") }))
	defer ok.Close()
	targets := []string{"http://" + hang, ok.URL}
	var kinds []string
	p := mlerr.Policy{AttemptTimeout: 20 * time.Millisecond, Clock: newFakeClock(), OnRetry: func(ev mlerr.RetryEvent) {
		var te *mlerr.TimeoutError
		if errors.As(ev.Err, &te) {
			kinds = append(kinds, te.Kind)
		}
	}}
	n := 0
	body, err := mlerr.Do(context.Background(), p, func(ctx context.Context) (string, error) {
		target := targets[min(n, 1)]
		n++
		req, err := http.NewRequestWithContext(ctx, http.MethodGet, target, nil)
		if err != nil {
			return "", err
		}
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			return "", err
		}
		defer resp.Body.Close()
		b, err := io.ReadAll(resp.Body)
		return string(b), err
	})
	require.NoError(t, err)
	assert.Equal(t, "ok", body)
	assert.Equal(t, []string{"attempt"}, kinds)
}

func TestMarksOfNil(t *testing.T) {
	assert.NoError(t, mlerr.Permanent(nil))
	assert.NoError(t, mlerr.RetryAfter(nil, time.Second))
	err := errors.New("x")
	assert.Same(t, err, mlerr.RetryAfter(err, -time.Second))
	assert.Equal(t, "x", mlerr.Permanent(err).Error())
	assert.Equal(t, "x", mlerr.RetryAfter(err, time.Second).Error())
}

func TestTimeoutErrorStrings(t *testing.T) {
	te := &mlerr.TimeoutError{Kind: "context"}
	assert.Equal(t, "context timeout", te.Error())
	assert.ErrorIs(t, te, context.DeadlineExceeded)
	assert.NotErrorIs(t, te, context.Canceled)
}

// FuzzClassifyDecoded checks invariants of Classify on whatever the wire
// decoder makes of a response: wrapping changes nothing, a Permanent mark
// always stops, a delay implies a retry.
func FuzzClassifyDecoded(f *testing.F) {
	f.Add(503, "5", `{"error_code":"TEMPORARILY_UNAVAILABLE"}`)
	f.Add(500, "", `{"error_code":"INVALID_STATE","message":"x"}`)
	f.Add(429, "Wed, 21 Oct 2015 07:28:00 GMT", "")
	f.Add(502, "", "<html>bad gateway</html>")
	f.Add(400, "-3", `{"error_code":503}`)
	f.Add(418, "999999999999", `{"error_code":"NOPE"}`)
	f.Fuzz(func(t *testing.T, status int, retryAfter, body string) {
		if status < 100 || status > 999 {
			return
		}
		h := http.Header{}
		if retryAfter != "" {
			h.Set("Retry-After", retryAfter)
		}
		e := mlerr.Decoder{}.DecodeError(status, h, []byte(body))
		d := mlerr.Classify(e)
		if d.After < 0 || (d.After > 0 && !d.Retry) {
			t.Fatalf("inconsistent decision %+v", d)
		}
		if got := mlerr.Classify(fmt.Errorf("ctx: %w", e)); got != d {
			t.Fatalf("wrapping changed %+v into %+v", d, got)
		}
		if mlerr.Classify(mlerr.Permanent(e)).Retry {
			t.Fatal("a Permanent mark did not stop")
		}
		if e.RetryAfter() == 0 && e.HTTPStatus() >= 200 && e.HTTPStatus() < 300 && d.Retry {
			t.Fatalf("retrying a %d: %+v", status, d)
		}
	})
}

// ---- loopback servers that misbehave ----

func closedAddr(t *testing.T) string {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(t, err)
	addr := ln.Addr().String()
	require.NoError(t, ln.Close())
	return addr
}

// serve runs handle on every connection accepted until the test ends.
func serve(t *testing.T, handle func(c *net.TCPConn)) string {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(t, err)
	done := make(chan struct{})
	t.Cleanup(func() { _ = ln.Close(); <-done })
	go func() {
		defer close(done)
		var conns []net.Conn
		defer func() {
			for _, c := range conns {
				_ = c.Close()
			}
		}()
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			conns = append(conns, c)
			handle(c.(*net.TCPConn))
		}
	}()
	return ln.Addr().String()
}

// resetServer reads the start of a request, then resets the connection.
func resetServer(t *testing.T) string {
	return serve(t, func(c *net.TCPConn) {
		_, _ = c.Read(make([]byte, 1))
		_ = c.SetLinger(0)
		_ = c.Close()
	})
}

// closeServer reads the request, then closes the connection cleanly without
// an answer.
func closeServer(t *testing.T) string {
	return serve(t, func(c *net.TCPConn) {
		_, _ = c.Read(make([]byte, 4096))
		_ = c.Close()
	})
}

// hangServer accepts and never answers (connections close when the test ends).
func hangServer(t *testing.T) string {
	return serve(t, func(*net.TCPConn) {})
}

func resetRead(t *testing.T) error {
	c, err := net.Dial("tcp", resetServer(t))
	require.NoError(t, err)
	defer c.Close()
	_, err = c.Write([]byte("x"))
	require.NoError(t, err)
	_, err = c.Read(make([]byte, 1))
	return err
}

func readDeadline(t *testing.T) error {
	c, err := net.Dial("tcp", hangServer(t))
	require.NoError(t, err)
	defer c.Close()
	require.NoError(t, c.SetReadDeadline(time.Now().Add(-time.Second)))
	_, err = c.Read(make([]byte, 1))
	return err
}

// shortBody reads a response that promises 100 bytes and sends 5.
func shortBody(t *testing.T) error {
	addr := serve(t, func(c *net.TCPConn) {
		_, _ = c.Read(make([]byte, 4096))
		_, _ = io.WriteString(c, "HTTP/1.1 200 OK\r\nContent-Length: 100\r\n\r\nshort")
		_ = c.Close()
	})
	resp, err := http.Get("http://" + addr)
	require.NoError(t, err)
	defer resp.Body.Close()
	_, err = io.ReadAll(resp.Body)
	return err
}

func httpGet(t *testing.T, c *http.Client, url string) error {
	t.Helper()
	tr := &http.Transport{TLSClientConfig: &tls.Config{}, DisableKeepAlives: true}
	defer tr.CloseIdleConnections()
	if c.Transport == nil {
		c.Transport = tr
	}
	resp, err := c.Get(url)
	if err == nil {
		resp.Body.Close()
		t.Fatalf("GET %s succeeded", url)
	}
	return err
}
