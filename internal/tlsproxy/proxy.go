package tlsproxy

import (
	"crypto/tls"
	"crypto/x509"
	"errors"
	"io"
	"log"
	"net"
	"net/http"
	"net/http/httputil"
	"net/url"
	"strings"
	"sync"
	"sync/atomic"
)

// Config configures a Proxy.
type Config struct {
	// Upstream is the plain-HTTP server the proxy forwards to
	// (http://127.0.0.1:5000), or Handler serves the requests itself.
	Upstream string
	Handler  http.Handler
	// Cert is the server certificate the proxy presents.
	Cert tls.Certificate
	// ClientCAs, when set, makes the proxy require a client certificate
	// signed by one of them: a handshake without one fails.
	ClientCAs *x509.CertPool
}

// Proxy is a running TLS-terminating proxy on 127.0.0.1.
type Proxy struct {
	ln       net.Listener
	srv      *http.Server
	upstream *http.Transport // nil with a Handler
	wg       sync.WaitGroup

	hellos   atomic.Int64 // handshakes started (ClientHellos read)
	failed   atomic.Int64 // handshakes that failed
	requests atomic.Int64 // requests forwarded

	mu         sync.Mutex
	lastFailed string // the last failed handshake's error
	cert       *tls.Certificate
	conns      map[net.Conn]bool
}

// Start starts a proxy on a free loopback port.
func Start(cfg Config) (*Proxy, error) {
	p := &Proxy{cert: &cfg.Cert, conns: map[net.Conn]bool{}}
	h := cfg.Handler
	if h == nil {
		target, err := url.Parse(cfg.Upstream)
		if err != nil || target.Scheme != "http" || target.Host == "" {
			return nil, errors.New("tlsproxy: upstream must be an http:// URL")
		}
		rp := httputil.NewSingleHostReverseProxy(target)
		p.upstream = &http.Transport{} // its own connections, closed by Close
		rp.Transport = p.upstream
		h = rp
	}
	tc := &tls.Config{
		MinVersion: tls.VersionTLS12,
		GetCertificate: func(*tls.ClientHelloInfo) (*tls.Certificate, error) {
			p.mu.Lock()
			defer p.mu.Unlock()
			return p.cert, nil
		},
	}
	if cfg.ClientCAs != nil {
		tc.ClientAuth = tls.RequireAndVerifyClientCert
		tc.ClientCAs = cfg.ClientCAs
	}
	tc.GetConfigForClient = func(*tls.ClientHelloInfo) (*tls.Config, error) {
		p.hellos.Add(1)
		return nil, nil // the config above
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return nil, err
	}
	p.ln = ln
	p.srv = &http.Server{
		Handler: http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			p.requests.Add(1)
			h.ServeHTTP(w, r)
		}),
		TLSConfig: tc,
		ErrorLog:  log.New(handshakeLog{p}, "", 0),
		ConnState: p.track,
	}
	p.wg.Add(1)
	go func() {
		defer p.wg.Done()
		_ = p.srv.ServeTLS(ln, "", "")
	}()
	return p, nil
}

// track keeps the open connections, for DropConnections.
func (p *Proxy) track(c net.Conn, st http.ConnState) {
	p.mu.Lock()
	defer p.mu.Unlock()
	switch st {
	case http.StateNew:
		p.conns[c] = true
	case http.StateClosed, http.StateHijacked:
		delete(p.conns, c)
	}
}

// SetCert makes the proxy present cert from the next handshake on.
func (p *Proxy) SetCert(cert tls.Certificate) {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.cert = &cert
}

// DropConnections closes every open client connection, so that the next
// request makes a new handshake.
func (p *Proxy) DropConnections() {
	p.mu.Lock()
	defer p.mu.Unlock()
	for c := range p.conns {
		_ = c.Close()
	}
}

// handshakeLog counts the failed handshakes net/http logs.
type handshakeLog struct{ p *Proxy }

func (l handshakeLog) Write(b []byte) (int, error) {
	if line := string(b); strings.Contains(line, "TLS handshake error") {
		l.p.failed.Add(1)
		l.p.mu.Lock()
		l.p.lastFailed = strings.TrimSpace(line)
		l.p.mu.Unlock()
	}
	return len(b), nil
}

// URL returns the proxy's URL with host, which the server certificate must
// name for a client to accept it ("127.0.0.1" or "localhost").
func (p *Proxy) URL(host string) string {
	_, port, _ := net.SplitHostPort(p.ln.Addr().String())
	return "https://" + net.JoinHostPort(host, port)
}

// Stats are what the proxy counted.
type Stats struct {
	// Handshakes counts the TLS handshakes started, Failed those that
	// failed (as the server saw them), Requests the requests forwarded.
	Handshakes, Failed, Requests int64
	// LastFailure is the server's log line of the last failed handshake.
	LastFailure string
}

// Stats returns the counts so far.
func (p *Proxy) Stats() Stats {
	p.mu.Lock()
	defer p.mu.Unlock()
	return Stats{Handshakes: p.hellos.Load(), Failed: p.failed.Load(), Requests: p.requests.Load(), LastFailure: p.lastFailed}
}

// Close stops the proxy and closes its connections.
func (p *Proxy) Close() error {
	err := p.srv.Close()
	p.wg.Wait()
	if p.upstream != nil {
		p.upstream.CloseIdleConnections()
	}
	if errors.Is(err, http.ErrServerClosed) || errors.Is(err, io.EOF) {
		return nil
	}
	return err
}
