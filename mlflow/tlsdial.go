package mlflow

import (
	"context"
	"crypto/tls"
	"errors"
	"io"
	"net"
	"sync/atomic"
	"syscall"
)

// clientCertDialer makes the TLS connections of an https Client. It tells a
// server that refused the client certificate from a broken connection:
// with TLS 1.3 the server checks the client's certificate after the
// client's handshake is over, and answers a missing or refused one with an
// alert and a closed connection, which the client may see as the alert, or
// as a broken pipe or a reset when it writes its request first. A
// connection whose server asked for a client certificate and that breaks
// before the first byte of an answer is taken as that refusal.
type clientCertDialer struct {
	config *tls.Config // the Client's; cloned per connection
	dialer net.Dialer
}

// DialTLSContext dials and completes the handshake of one connection.
func (d *clientCertDialer) DialTLSContext(ctx context.Context, network, addr string) (net.Conn, error) {
	raw, err := d.dialer.DialContext(ctx, network, addr)
	if err != nil {
		return nil, err
	}
	cfg := d.config.Clone()
	cfg.NextProtos = []string{"http/1.1"} // the Transport speaks HTTP/1.1 over a connection it did not dial
	if cfg.ServerName == "" {
		host, _, err := net.SplitHostPort(addr)
		if err != nil {
			host = addr
		}
		cfg.ServerName = host
	}
	asked := false
	cfg.GetClientCertificate = func(*tls.CertificateRequestInfo) (*tls.Certificate, error) {
		asked = true
		if len(d.config.Certificates) > 0 {
			return &d.config.Certificates[0], nil
		}
		return &tls.Certificate{}, nil // none: the server decides
	}
	tc := tls.Client(raw, cfg)
	if err := tc.HandshakeContext(ctx); err != nil {
		_ = raw.Close()
		return nil, err
	}
	if !asked {
		return tc, nil
	}
	return &askedConn{Conn: tc, gave: len(d.config.Certificates) > 0}, nil
}

// askedConn is a connection whose server asked for a client certificate.
type askedConn struct {
	*tls.Conn
	gave     bool // a certificate was given
	answered atomic.Bool
}

func (c *askedConn) Read(b []byte) (int, error) {
	n, err := c.Conn.Read(b)
	if n > 0 {
		c.answered.Store(true)
	}
	return n, c.refused(err)
}

func (c *askedConn) Write(b []byte) (int, error) {
	n, err := c.Conn.Write(b)
	return n, c.refused(err)
}

// refused turns a broken connection before any answer into a
// certRefusedError.
func (c *askedConn) refused(err error) error {
	if err == nil || c.answered.Load() {
		return err
	}
	if _, ok := remoteAlert(err); ok {
		return err // the server said why
	}
	if errors.Is(err, io.EOF) || errors.Is(err, syscall.EPIPE) || errors.Is(err, syscall.ECONNRESET) {
		return &certRefusedError{gave: c.gave, err: err}
	}
	return err
}

// certRefusedError is a connection broken by a server that asked for a
// client certificate, before it answered anything.
type certRefusedError struct {
	gave bool
	err  error
}

func (e *certRefusedError) Error() string {
	if e.gave {
		return "the server closed the connection after the handshake: it refused the client certificate (" + e.err.Error() + ")"
	}
	return "the server asked for a client certificate, none was given (" + EnvClientCertPath + " is unset), and it closed the connection (" + e.err.Error() + ")"
}

func (e *certRefusedError) Unwrap() error { return e.err }
