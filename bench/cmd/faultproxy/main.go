// Command faultproxy puts an outage between an MLflow client and its
// server: it forwards every request to the server (internal/fault's reverse
// proxy), counts the metric points that runs/log-batch requests delivered
// (2xx answers), and once -after points went through, cuts the path for
// -outage: connections are refused (-mode refuse: the listening socket is
// closed and open connections are reset) or requests hang and are only
// forwarded when the outage ends (-mode blackhole). It prints
//
//	PROXY_URL=http://127.0.0.1:PORT
//
// on stdout once it listens, and on SIGTERM or SIGINT (or -max-life) prints
// one JSON object of what it saw: points delivered, when the outage began and
// ended, when the first log-batch after it succeeded (the recovery), and the
// requests refused, reset or held.
//
// With -rate N it also limits runs/log-batch requests to N per second (a
// token bucket holding one second's worth) and answers the ones above it
// 429 with Retry-After: -retry-after seconds, as a rate-limiting gateway in
// front of a shared server does. The JSON then has, per second since the
// first log-batch, the log-batch requests the server accepted and the ones
// answered 429 (the timeline, also kept without -rate).
//
//	faultproxy -target http://127.0.0.1:5000 -after 50000 -outage 10s -mode refuse
//	faultproxy -target http://127.0.0.1:5000 -rate 20 -retry-after 1
package main

import (
	"bytes"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"log"
	"net/http"
	"net/http/httputil"
	"net/url"
	"os"
	"os/signal"
	"strings"
	"sync"
	"syscall"
	"time"

	"github.com/mlerr/mlerr/internal/fault"
)

// summary is the JSON printed when the proxy stops.
type summary struct {
	Mode            string  `json:"mode"`
	After           int64   `json:"after_points"`
	OutageS         float64 `json:"outage_s"`
	Points          int64   `json:"points_delivered"`
	LogBatchOK      int64   `json:"log_batch_ok"`
	LogBatchFailed  int64   `json:"log_batch_non_2xx"`
	OutageStartedAt float64 `json:"outage_started_at_s,omitempty"` // since the first log-batch
	OutageEndedAt   float64 `json:"outage_ended_at_s,omitempty"`
	RecoveredAt     float64 `json:"recovered_at_s,omitempty"` // first 2xx log-batch after the outage
	RecoveryS       float64 `json:"recovery_s,omitempty"`     // RecoveredAt - OutageEndedAt
	LastPointAt     float64 `json:"last_point_at_s"`
	HeldDuringOut   int64   `json:"requests_held"`
	Requests        int     `json:"requests"`
	Connections     int     `json:"connections"`

	FirstUnix     float64 `json:"first_unix,omitempty"` // the first log-batch, Unix seconds
	Rate          float64 `json:"rate_limit,omitempty"` // log-batch requests/s allowed (0: no limit)
	Limited       int64   `json:"limited_429"`
	ArrivalsPerS  []int64 `json:"arrivals_per_s"` // [i]: log-batch requests received in second i since FirstUnix
	OKPerSecond   []int64 `json:"ok_per_s"`       // [i]: 2xx log-batch answers in second i
	LimitedPerSec []int64 `json:"limited_per_s"`  // [i]: 429s in second i
}

type counter struct {
	mu      sync.Mutex
	first   time.Time
	s       summary
	started time.Time // the outage's start, zero before
	ended   time.Time
	fired   bool
	trigger func()
}

func (c *counter) since(t time.Time) float64 {
	if c.first.IsZero() {
		return 0
	}
	return t.Sub(c.first).Seconds()
}

// statusWriter remembers the status an upstream answered.
type statusWriter struct {
	http.ResponseWriter
	status int
}

func (w *statusWriter) WriteHeader(code int) {
	w.status = code
	w.ResponseWriter.WriteHeader(code)
}

func (w *statusWriter) Write(b []byte) (int, error) {
	if w.status == 0 {
		w.status = http.StatusOK
	}
	return w.ResponseWriter.Write(b)
}

func (w *statusWriter) Flush() {
	if f, ok := w.ResponseWriter.(http.Flusher); ok {
		f.Flush()
	}
}

// countPoints is the upstream handler: it forwards to the server and counts
// the metrics of every log-batch the server accepted.
func (c *counter) countPoints(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if !strings.HasSuffix(r.URL.Path, "runs/log-batch") {
			next.ServeHTTP(w, r)
			return
		}
		body, err := io.ReadAll(r.Body)
		if err != nil {
			http.Error(w, "reading the request: "+err.Error(), http.StatusBadGateway)
			return
		}
		r.Body = io.NopCloser(bytes.NewReader(body))
		c.arrived(time.Now())
		var batch struct {
			Metrics []json.RawMessage `json:"metrics"`
		}
		_ = json.Unmarshal(body, &batch)
		sw := &statusWriter{ResponseWriter: w}
		next.ServeHTTP(sw, r)
		now := time.Now()
		c.mu.Lock()
		defer c.mu.Unlock()
		if c.first.IsZero() {
			c.first = now
		}
		if sw.status < 200 || sw.status > 299 {
			c.s.LogBatchFailed++
			return
		}
		c.s.LogBatchOK++
		c.s.OKPerSecond = bump(c.s.OKPerSecond, c.since(now))
		c.s.Points += int64(len(batch.Metrics))
		if len(batch.Metrics) > 0 {
			c.s.LastPointAt = c.since(now)
		}
		if !c.ended.IsZero() && c.s.RecoveredAt == 0 {
			c.s.RecoveredAt = c.since(now)
			c.s.RecoveryS = now.Sub(c.ended).Seconds()
		}
		if !c.fired && c.s.After > 0 && c.s.Points >= c.s.After {
			c.fired = true
			go c.trigger() // after this answer is on its way
		}
	})
}

// arrived counts a log-batch request received at now.
func (c *counter) arrived(now time.Time) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.first.IsZero() {
		c.first = now
	}
	c.s.ArrivalsPerS = bump(c.s.ArrivalsPerS, c.since(now))
}

// bump adds one to the count of second at (seconds since the first
// log-batch), growing counts as needed.
func bump(counts []int64, at float64) []int64 {
	i := max(int(at), 0)
	for len(counts) <= i {
		counts = append(counts, 0)
	}
	counts[i]++
	return counts
}

// bucket is a token bucket: rate tokens a second, at most rate in store.
type bucket struct {
	rate   float64
	tokens float64
	last   time.Time
}

// take reports whether a token was there at now, and takes it.
func (b *bucket) take(now time.Time) bool {
	if !b.last.IsZero() {
		b.tokens = min(b.rate, b.tokens+now.Sub(b.last).Seconds()*b.rate)
	}
	b.last = now
	if b.tokens < 1 {
		return false
	}
	b.tokens--
	return true
}

// limit is the proxy's program in -rate mode: log-batch requests above the
// bucket's rate are answered 429 with Retry-After.
func (c *counter) limit(b *bucket, retryAfter time.Duration) func(*http.Request) (fault.Fault, bool) {
	return func(r *http.Request) (fault.Fault, bool) {
		if !strings.HasSuffix(r.URL.Path, "runs/log-batch") {
			return fault.Fault{}, false
		}
		now := time.Now()
		c.mu.Lock()
		defer c.mu.Unlock()
		if c.first.IsZero() {
			c.first = now
		}
		if b.take(now) {
			return fault.Fault{}, false
		}
		c.s.Limited++
		c.s.LimitedPerSec = bump(c.s.LimitedPerSec, c.since(now))
		c.s.ArrivalsPerS = bump(c.s.ArrivalsPerS, c.since(now))
		return fault.RetryAfter(http.StatusTooManyRequests, retryAfter), true
	}
}

// checkFlags checks the flags that go together and returns the target.
func checkFlags(target, mode string, rate float64, after int64) (*url.URL, error) {
	u, err := url.Parse(target)
	switch {
	case err != nil || u.Scheme == "" || u.Host == "":
		return nil, errors.New("-target must be an absolute URL such as http://127.0.0.1:5000")
	case mode != "refuse" && mode != "blackhole":
		return nil, errors.New("-mode must be refuse or blackhole")
	case rate > 0 && after > 0:
		return nil, errors.New("-rate and -after do not go together")
	}
	return u, nil
}

// reverseProxy forwards to the server at u.
func reverseProxy(u *url.URL) *httputil.ReverseProxy {
	tr := http.DefaultTransport.(*http.Transport).Clone()
	tr.MaxIdleConnsPerHost = 512 // many ranks share the proxy: keep their connections to the server open
	return &httputil.ReverseProxy{
		Rewrite:   func(r *httputil.ProxyRequest) { r.SetURL(u) },
		Transport: tr,
		// Requests cut by the outage are the point of the exercise, not news.
		ErrorLog: log.New(io.Discard, "", 0),
	}
}

func main() {
	target := flag.String("target", "", "the MLflow server, http://127.0.0.1:PORT")
	after := flag.Int64("after", 0, "start the outage once this many points were delivered (0: never)")
	outage := flag.Duration("outage", 10*time.Second, "how long the outage lasts")
	mode := flag.String("mode", "refuse", "refuse (connections refused, open ones reset) or blackhole (requests hang until the outage ends)")
	maxLife := flag.Duration("max-life", 30*time.Minute, "stop by itself after this long")
	rate := flag.Float64("rate", 0, "allow this many log-batch requests per second, answer 429 above (0: no limit)")
	retryAfter := flag.Duration("retry-after", time.Second, "the Retry-After of a 429 (whole seconds)")
	flag.Parse()
	u, err := checkFlags(*target, *mode, *rate, *after)
	if err != nil {
		fmt.Fprintln(os.Stderr, "faultproxy:", err)
		os.Exit(2)
	}

	c := &counter{s: summary{Mode: *mode, After: *after, OutageS: outage.Seconds(), Rate: *rate}}
	p, err := fault.New(c.countPoints(reverseProxy(u)))
	if err != nil {
		fmt.Fprintln(os.Stderr, "faultproxy:", err)
		os.Exit(1)
	}
	if *rate > 0 {
		p.Program(c.limit(&bucket{rate: *rate, tokens: *rate}, *retryAfter))
	}
	var outageDone sync.WaitGroup
	outageDone.Add(1)
	c.trigger = func() {
		defer outageDone.Done()
		time.Sleep(20 * time.Millisecond) // let the answer that crossed the mark reach its client
		c.mu.Lock()
		c.started = time.Now()
		c.s.OutageStartedAt = c.since(c.started)
		end := c.started.Add(*outage)
		c.mu.Unlock()
		fmt.Fprintf(os.Stderr, "faultproxy: outage (%s) for %v\n", *mode, *outage)
		switch *mode {
		case "refuse":
			_ = p.Down()
			time.Sleep(time.Until(end))
			if err := p.Up(); err != nil {
				fmt.Fprintln(os.Stderr, "faultproxy: listening again:", err)
			}
		case "blackhole":
			p.Program(func(*http.Request) (fault.Fault, bool) {
				if d := time.Until(end); d > 0 {
					c.mu.Lock()
					c.s.HeldDuringOut++
					c.mu.Unlock()
					return fault.StallFor(d), true
				}
				return fault.Fault{}, false
			})
			time.Sleep(time.Until(end))
			p.Program(nil)
		}
		c.mu.Lock()
		c.ended = time.Now()
		c.s.OutageEndedAt = c.since(c.ended)
		c.mu.Unlock()
		fmt.Fprintln(os.Stderr, "faultproxy: outage over")
	}
	fmt.Printf("PROXY_URL=%s\n", p.URL())

	sig := make(chan os.Signal, 1)
	signal.Notify(sig, syscall.SIGTERM, syscall.SIGINT)
	select {
	case <-sig:
	case <-time.After(*maxLife):
		fmt.Fprintln(os.Stderr, "faultproxy: -max-life reached")
	}
	c.mu.Lock()
	triggered := c.fired
	c.mu.Unlock()
	if triggered {
		outageDone.Wait()
	}
	_ = p.Close()
	st := p.Stats()
	c.mu.Lock()
	s := c.s
	if !c.first.IsZero() {
		s.FirstUnix = float64(c.first.UnixNano()) / 1e9
	}
	c.mu.Unlock()
	s.Requests = st.Requests
	s.Connections = st.Connections
	_ = json.NewEncoder(os.Stdout).Encode(s)
}
