package fault

import (
	"context"
	"errors"
	"io"
	"net/http"
	"strings"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"go.uber.org/goleak"
)

func TestMain(m *testing.M) { goleak.VerifyTestMain(m) }

// counter is an upstream that counts the requests it applied.
type counter struct{ n atomic.Int64 }

func (c *counter) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	_, _ = io.Copy(io.Discard, r.Body)
	c.n.Add(1)
	w.Header().Set("Content-Type", "application/json")
	_, _ = io.WriteString(w, `{"ok": true, "padding": "0123456789"}`)
}

func newProxy(t *testing.T) (*Proxy, *counter, *http.Client) {
	t.Helper()
	up := &counter{}
	p, err := New(up)
	require.NoError(t, err)
	tr := &http.Transport{}
	t.Cleanup(func() {
		tr.CloseIdleConnections()
		require.NoError(t, p.Close())
	})
	return p, up, &http.Client{Transport: tr}
}

func post(ctx context.Context, hc *http.Client, url string) (*http.Response, []byte, error) {
	req, _ := http.NewRequestWithContext(ctx, http.MethodPost, url, strings.NewReader(`{}`))
	req.Header.Set("Content-Type", "application/json")
	resp, err := hc.Do(req)
	if err != nil {
		return nil, nil, err
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	return resp, b, err
}

func TestFaults(t *testing.T) {
	tests := []struct {
		name      string
		fault     Fault
		status    int    // expected status when the client gets an answer
		body      string // substring of the body
		header    [2]string
		wantErr   func(error) bool
		readErr   bool // the error comes while reading the body
		applied   int64
		forwarded int
	}{
		{name: "pass", fault: PassFault, status: 200, body: `"ok"`, applied: 1, forwarded: 1},
		{name: "503", fault: Status(503), status: 503, body: `"TEMPORARILY_UNAVAILABLE"`},
		{name: "429 retry-after", fault: RetryAfter(429, 3*time.Second), status: 429, body: "REQUEST_LIMIT_EXCEEDED", header: [2]string{"Retry-After", "3"}},
		{name: "html 502", fault: HTML(502), status: 502, body: "<center><h1>502 Bad Gateway</h1></center>", header: [2]string{"Content-Type", "text/html"}},
		{name: "malformed 200", fault: Malformed(), status: 200, body: `{"run": {"info": `},
		{name: "reset", fault: ResetConn, wantErr: func(err error) bool { return errors.Is(err, syscall.ECONNRESET) }},
		{name: "close", fault: CloseConn, wantErr: func(err error) bool { return errors.Is(err, io.EOF) }},
		{name: "drop after apply", fault: DropResponse, applied: 1, forwarded: 1,
			wantErr: func(err error) bool { return errors.Is(err, syscall.ECONNRESET) }},
		{name: "truncate", fault: TruncateBody, status: 200, applied: 1, forwarded: 1, readErr: true,
			wantErr: func(err error) bool { return errors.Is(err, io.ErrUnexpectedEOF) }},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			p, up, hc := newProxy(t)
			p.Add(Rule{Path: "/x", Times: 1, Fault: tt.fault})
			resp, body, err := post(context.Background(), hc, p.URL()+"/x")
			if tt.wantErr != nil {
				require.Error(t, err)
				assert.True(t, tt.wantErr(err), "unexpected error %v", err)
				if !tt.readErr {
					assert.Nil(t, resp)
				}
			} else {
				require.NoError(t, err)
				assert.Equal(t, tt.status, resp.StatusCode)
				assert.Contains(t, string(body), tt.body)
				if tt.header[0] != "" {
					assert.Equal(t, tt.header[1], resp.Header.Get(tt.header[0]))
				}
			}
			assert.Equal(t, tt.applied, up.n.Load(), "requests applied upstream")
			st := p.Stats()
			assert.Equal(t, 1, st.Requests)
			assert.Equal(t, tt.forwarded, st.Forwarded)
			if tt.fault.Kind != Pass {
				assert.Equal(t, 1, st.Injected[tt.fault.Kind])
			}
			// The rule is spent: the next request passes.
			resp, body, err = post(context.Background(), hc, p.URL()+"/x")
			require.NoError(t, err)
			assert.Equal(t, 200, resp.StatusCode)
			assert.Contains(t, string(body), `"ok"`)
			assert.Positive(t, p.Stats().BytesIn)
			assert.Positive(t, p.Stats().BytesOut)
		})
	}
}

func TestRuleSkipTimesAndPath(t *testing.T) {
	p, up, hc := newProxy(t)
	p.Add(Rule{Path: "runs/log-batch", Skip: 1, Times: 2, Fault: Status(503)})
	var statuses []int
	for _, path := range []string{"/a/runs/log-batch", "/a/runs/get", "/a/runs/log-batch", "/a/runs/log-batch", "/a/runs/log-batch"} {
		resp, _, err := post(context.Background(), hc, p.URL()+path)
		require.NoError(t, err)
		statuses = append(statuses, resp.StatusCode)
	}
	assert.Equal(t, []int{200, 200, 503, 503, 200}, statuses)
	assert.Equal(t, int64(3), up.n.Load())
	assert.Equal(t, 0, p.Pending())
	assert.Equal(t, 4, p.Stats().ByPath["/a/runs/log-batch"])
}

func TestProgram(t *testing.T) {
	p, _, hc := newProxy(t)
	var n atomic.Int64
	p.Program(func(r *http.Request) (Fault, bool) {
		if n.Add(1)%2 == 1 {
			return Status(500), true
		}
		return Fault{}, false
	})
	p.Add(Rule{Fault: Status(404)}) // every request the program does not take
	var statuses []int
	for i := 0; i < 4; i++ {
		resp, _, err := post(context.Background(), hc, p.URL()+"/y")
		require.NoError(t, err)
		statuses = append(statuses, resp.StatusCode)
	}
	assert.Equal(t, []int{500, 404, 500, 404}, statuses)
	p.Clear()
	resp, _, err := post(context.Background(), hc, p.URL()+"/y")
	require.NoError(t, err)
	assert.Equal(t, 200, resp.StatusCode)
}

func TestStallEndsWhenTheClientGivesUp(t *testing.T) {
	p, up, hc := newProxy(t)
	p.Add(Rule{Times: 1, Fault: StallFor(time.Hour)})
	ctx, cancel := context.WithTimeout(context.Background(), 50*time.Millisecond)
	defer cancel()
	_, _, err := post(ctx, hc, p.URL()+"/z")
	require.ErrorIs(t, err, context.DeadlineExceeded)
	assert.Equal(t, int64(0), up.n.Load(), "a stalled request the client gave up on is not forwarded")
	resp, _, err := post(context.Background(), hc, p.URL()+"/z")
	require.NoError(t, err)
	assert.Equal(t, 200, resp.StatusCode)
}

func TestStallThenForward(t *testing.T) {
	p, up, hc := newProxy(t)
	p.Add(Rule{Times: 1, Fault: StallFor(time.Millisecond)})
	resp, _, err := post(context.Background(), hc, p.URL()+"/z")
	require.NoError(t, err)
	assert.Equal(t, 200, resp.StatusCode)
	assert.Equal(t, int64(1), up.n.Load())
}

func TestDownRefusesUntilUp(t *testing.T) {
	p, _, hc := newProxy(t)
	resp, _, err := post(context.Background(), hc, p.URL()+"/k") // opens a keep-alive connection
	require.NoError(t, err)
	assert.Equal(t, 200, resp.StatusCode)
	require.NoError(t, p.Down())
	_, _, err = post(context.Background(), hc, p.URL()+"/k")
	require.Error(t, err)
	_, _, err = post(context.Background(), hc, p.URL()+"/k")
	require.ErrorIs(t, err, syscall.ECONNREFUSED)
	require.NoError(t, p.Up())
	resp, _, err = post(context.Background(), hc, p.URL()+"/k")
	require.NoError(t, err)
	assert.Equal(t, 200, resp.StatusCode)
}

func TestCloseEndsStalledRequests(t *testing.T) {
	up := &counter{}
	p, err := New(up)
	require.NoError(t, err)
	p.Add(Rule{Fault: StallFor(0)})
	tr := &http.Transport{}
	defer tr.CloseIdleConnections()
	done := make(chan error, 1)
	go func() {
		_, _, err := post(context.Background(), &http.Client{Transport: tr}, p.URL()+"/s")
		done <- err
	}()
	require.Eventually(t, func() bool { return p.Stats().Requests == 1 }, 5*time.Second, time.Millisecond)
	require.NoError(t, p.Close())
	require.Error(t, <-done)
}

func TestReverse(t *testing.T) {
	up := &counter{}
	target, err := New(up) // any HTTP server will do as the target
	require.NoError(t, err)
	defer target.Close()
	p, err := NewReverse(target.URL())
	require.NoError(t, err)
	defer p.Close()
	tr := &http.Transport{}
	defer tr.CloseIdleConnections()
	resp, body, err := post(context.Background(), &http.Client{Transport: tr}, p.URL()+"/r")
	require.NoError(t, err)
	assert.Equal(t, 200, resp.StatusCode)
	assert.Contains(t, string(body), `"ok"`)
	assert.Equal(t, int64(1), up.n.Load())
	_, err = NewReverse("127.0.0.1:5000")
	require.Error(t, err)
}

func TestKindString(t *testing.T) {
	assert.Equal(t, "drop-after-apply", DropAfterApply.String())
	assert.Equal(t, "Kind(99)", Kind(99).String())
}
