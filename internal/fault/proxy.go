package fault

import (
	"context"
	"errors"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"net/http/httputil"
	"net/url"
	"strings"
	"sync"
	"time"
)

// Proxy is the fault-injecting server. Create it with New or NewReverse and
// Close it when done. Its methods are safe for concurrent use.
type Proxy struct {
	upstream http.Handler
	srv      *http.Server
	addr     string
	closed   chan struct{}
	closeTr  func()

	mu      sync.Mutex
	ln      net.Listener // nil while Down
	conns   map[*countingConn]struct{}
	rules   []*ruleState
	program func(*http.Request) (Fault, bool)
	stats   Stats
	serving sync.WaitGroup
}

type ruleState struct {
	Rule
	seen int // matching requests so far
}

// Stats counts what the proxy saw and did.
type Stats struct {
	// Requests is the number of requests received.
	Requests int
	// Forwarded is the number of requests passed to the upstream (Pass,
	// Stall, DropAfterApply and Truncate forward).
	Forwarded int
	// Injected counts the faults injected, per kind (Pass is not counted).
	Injected map[Kind]int
	// ByPath counts the requests per URL path.
	ByPath map[string]int
	// Connections is the number of connections accepted.
	Connections int
	// BytesIn and BytesOut count the bytes read from and written to clients.
	BytesIn, BytesOut int64
}

// New starts a proxy on 127.0.0.1 (a free port) in front of upstream.
func New(upstream http.Handler) (*Proxy, error) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return nil, err
	}
	p := &Proxy{
		upstream: upstream,
		addr:     ln.Addr().String(),
		closed:   make(chan struct{}),
		conns:    map[*countingConn]struct{}{},
		stats:    Stats{Injected: map[Kind]int{}, ByPath: map[string]int{}},
		closeTr:  func() {},
	}
	p.srv = &http.Server{Handler: p, ReadHeaderTimeout: 30 * time.Second}
	p.serve(ln)
	return p, nil
}

// NewReverse starts a proxy in front of the HTTP server at target (such as
// an MLflow tracking server's URL). Requests are sent with target's Host.
func NewReverse(target string) (*Proxy, error) {
	u, err := url.Parse(target)
	if err != nil {
		return nil, err
	}
	if u.Scheme == "" || u.Host == "" {
		return nil, errors.New("fault: target must be an absolute URL, such as http://127.0.0.1:5000")
	}
	tr := http.DefaultTransport.(*http.Transport).Clone()
	rp := &httputil.ReverseProxy{
		Rewrite:   func(r *httputil.ProxyRequest) { r.SetURL(u) },
		Transport: tr,
		ErrorLog:  nil,
	}
	p, err := New(rp)
	if err != nil {
		return nil, err
	}
	p.closeTr = tr.CloseIdleConnections
	return p, nil
}

// URL returns the proxy's base URL, http://127.0.0.1:PORT.
func (p *Proxy) URL() string { return "http://" + p.addr }

func (p *Proxy) serve(ln net.Listener) {
	cl := &countingListener{Listener: ln, p: p}
	p.mu.Lock()
	p.ln = ln
	p.mu.Unlock()
	p.serving.Add(1)
	go func() {
		defer p.serving.Done()
		_ = p.srv.Serve(cl)
	}()
}

// Add appends rules. The first rule matching a request that still has
// requests to affect decides its fault; a request no rule takes is passed.
func (p *Proxy) Add(rules ...Rule) {
	p.mu.Lock()
	defer p.mu.Unlock()
	for _, r := range rules {
		p.rules = append(p.rules, &ruleState{Rule: r})
	}
}

// Program sets a function consulted for every request before the rules:
// when it returns true, its fault applies. nil removes it. It is called
// without the proxy's lock held, from the goroutine serving the request.
func (p *Proxy) Program(f func(*http.Request) (Fault, bool)) {
	p.mu.Lock()
	p.program = f
	p.mu.Unlock()
}

// Clear removes every rule and the program: requests pass.
func (p *Proxy) Clear() {
	p.mu.Lock()
	p.rules, p.program = nil, nil
	p.mu.Unlock()
}

// Pending returns how many requests the rules with a Times limit still
// expect to affect.
func (p *Proxy) Pending() int {
	p.mu.Lock()
	defer p.mu.Unlock()
	n := 0
	for _, r := range p.rules {
		if r.Times > 0 {
			n += max(0, r.Skip+r.Times-r.seen)
		}
	}
	return n
}

// Stats returns a copy of the counters.
func (p *Proxy) Stats() Stats {
	p.mu.Lock()
	defer p.mu.Unlock()
	s := p.stats
	s.Injected = make(map[Kind]int, len(p.stats.Injected))
	for k, v := range p.stats.Injected {
		s.Injected[k] = v
	}
	s.ByPath = make(map[string]int, len(p.stats.ByPath))
	for k, v := range p.stats.ByPath {
		s.ByPath[k] = v
	}
	return s
}

// Down closes the listening socket and every open connection: new
// connections are refused until Up.
func (p *Proxy) Down() error {
	p.mu.Lock()
	ln := p.ln
	p.ln = nil
	conns := make([]*countingConn, 0, len(p.conns))
	for c := range p.conns {
		conns = append(conns, c)
	}
	p.mu.Unlock()
	if ln == nil {
		return nil
	}
	err := ln.Close()
	for _, c := range conns {
		c.reset()
	}
	return err
}

// Up listens again on the same address after Down.
func (p *Proxy) Up() error {
	p.mu.Lock()
	up := p.ln != nil
	p.mu.Unlock()
	if up {
		return nil
	}
	var ln net.Listener
	var err error
	for i := 0; i < 50; i++ { // the port may linger briefly after Close
		if ln, err = net.Listen("tcp", p.addr); err == nil {
			break
		}
		time.Sleep(20 * time.Millisecond)
	}
	if err != nil {
		return err
	}
	p.serve(ln)
	return nil
}

// Close stops the proxy, ends stalled requests and closes every connection.
func (p *Proxy) Close() error {
	select {
	case <-p.closed:
		return nil
	default:
	}
	close(p.closed)
	err := p.srv.Close()
	p.mu.Lock()
	if p.ln != nil {
		_ = p.ln.Close()
		p.ln = nil
	}
	p.mu.Unlock()
	p.serving.Wait()
	p.closeTr()
	return err
}

// decide picks the fault for a request and counts it.
func (p *Proxy) decide(r *http.Request) Fault {
	p.mu.Lock()
	program := p.program
	p.mu.Unlock()
	f, ok := PassFault, false
	if program != nil {
		f, ok = program(r) // without the lock: a program may call the proxy
	}
	p.mu.Lock()
	defer p.mu.Unlock()
	p.stats.Requests++
	p.stats.ByPath[r.URL.Path]++
	if !ok {
		f = PassFault
		for _, rs := range p.rules {
			if !rs.matches(r) || (rs.Times > 0 && rs.seen >= rs.Skip+rs.Times) {
				continue
			}
			rs.seen++
			if rs.seen <= rs.Skip {
				break // let this one through
			}
			f = rs.Fault
			break
		}
	}
	if f.Kind != Pass {
		p.stats.Injected[f.Kind]++
	}
	switch f.Kind {
	case Pass, Stall, DropAfterApply, Truncate:
		p.stats.Forwarded++
	}
	return f
}

// ServeHTTP applies the request's fault.
func (p *Proxy) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	f := p.decide(r)
	switch f.Kind {
	case Pass:
		p.upstream.ServeHTTP(w, r)
	case Close:
		hijack(w, false)
	case Reset:
		hijack(w, true)
	case Stall:
		var timer <-chan time.Time
		if f.Delay > 0 {
			t := time.NewTimer(f.Delay)
			defer t.Stop()
			timer = t.C
		}
		select {
		case <-timer:
			p.upstream.ServeHTTP(w, r)
		case <-r.Context().Done():
		case <-p.closed:
			hijack(w, true)
		}
	case Respond:
		for k, vs := range f.Header {
			w.Header()[k] = vs
		}
		w.WriteHeader(f.Status)
		_, _ = io.WriteString(w, f.Body)
	case DropAfterApply:
		rec := httptest.NewRecorder()
		p.upstream.ServeHTTP(rec, r.WithContext(context.WithoutCancel(r.Context())))
		hijack(w, true)
	case Truncate:
		rec := httptest.NewRecorder()
		p.upstream.ServeHTTP(rec, r)
		body := rec.Body.Bytes()
		conn := hijackConn(w)
		if conn == nil {
			return
		}
		res := rec.Result()
		res.Body = io.NopCloser(strings.NewReader(string(body[:len(body)/2])))
		res.ContentLength = int64(len(body)) // promise the whole body
		res.TransferEncoding = nil
		_ = res.Write(conn)
		_ = conn.Close()
	}
}

func hijackConn(w http.ResponseWriter) net.Conn {
	hj, ok := w.(http.Hijacker)
	if !ok {
		panic("fault: the connection cannot be hijacked (HTTP/2?)")
	}
	conn, _, err := hj.Hijack()
	if err != nil {
		return nil
	}
	return conn
}

func hijack(w http.ResponseWriter, reset bool) {
	conn := hijackConn(w)
	if conn == nil {
		return
	}
	if cc, ok := conn.(*countingConn); ok && reset {
		cc.reset()
		return
	}
	_ = conn.Close()
}

// countingListener counts connections and wraps them to count bytes.
type countingListener struct {
	net.Listener
	p *Proxy
}

func (l *countingListener) Accept() (net.Conn, error) {
	c, err := l.Listener.Accept()
	if err != nil {
		return nil, err
	}
	cc := &countingConn{Conn: c, p: l.p}
	l.p.mu.Lock()
	l.p.stats.Connections++
	l.p.conns[cc] = struct{}{}
	l.p.mu.Unlock()
	return cc, nil
}

type countingConn struct {
	net.Conn
	p    *Proxy
	once sync.Once
}

func (c *countingConn) Read(b []byte) (int, error) {
	n, err := c.Conn.Read(b)
	c.p.mu.Lock()
	c.p.stats.BytesIn += int64(n)
	c.p.mu.Unlock()
	return n, err
}

func (c *countingConn) Write(b []byte) (int, error) {
	// Counted before writing, so that a client that got the bytes sees them
	// counted; corrected after a short write.
	c.p.mu.Lock()
	c.p.stats.BytesOut += int64(len(b))
	c.p.mu.Unlock()
	n, err := c.Conn.Write(b)
	if n < len(b) {
		c.p.mu.Lock()
		c.p.stats.BytesOut -= int64(len(b) - n)
		c.p.mu.Unlock()
	}
	return n, err
}

func (c *countingConn) Close() error {
	c.forget()
	return c.Conn.Close()
}

// reset closes the connection with a TCP RST.
func (c *countingConn) reset() {
	if tc, ok := c.Conn.(*net.TCPConn); ok {
		_ = tc.SetLinger(0)
	}
	_ = c.Close()
}

func (c *countingConn) forget() {
	c.once.Do(func() {
		c.p.mu.Lock()
		delete(c.p.conns, c)
		c.p.mu.Unlock()
	})
}
