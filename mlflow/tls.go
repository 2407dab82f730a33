package mlflow

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"errors"
	"io"
	"net"
	"os"
	"path/filepath"
	"strings"
	"sync/atomic"
	"syscall"

	"github.com/mlerr/mlerr"
)

// ErrTLS is a TLS connection to the tracking server that failed for a
// reason no retry can fix: the server's certificate is not trusted (unknown
// authority, expired or not yet valid, issued for another host), the server
// does not speak TLS, or the server refused the client certificate (a TLS
// alert such as "certificate required" or "bad certificate"). Such errors are
// never retried: their codes are INVALID_PARAMETER_VALUE (the client's trust
// settings or the URL do not match the server) and UNAUTHENTICATED (the
// server refused the client certificate), and the Go error that failed
// (*tls.CertificateVerificationError, x509.CertificateInvalidError, ...) is
// their cause, so errors.As finds it.
var ErrTLS = mlerr.NewKind("TLSError", nil, mlerr.CodeInvalidParameterValue)

// tlsSettings are the TLS options of a Client.
type tlsSettings struct {
	insecure      bool
	serverCert    string // CA bundle: a PEM file or a directory of them
	serverCertSet bool   // set, even to "" (MLflow refuses it with insecure)
	clientCert    string // one PEM file: certificate and key
}

// config returns the tls.Config of an https Client, reading the certificate
// files. Errors name the file, with kind mlerr.ErrMissingConfig.
func (s tlsSettings) config() (*tls.Config, error) {
	if err := s.check(); err != nil {
		return nil, err
	}
	c := &tls.Config{MinVersion: tls.VersionTLS12}
	if s.insecure {
		c.InsecureSkipVerify = true //nolint:gosec // asked for by the caller
	}
	if s.serverCertSet {
		pool, err := loadCAs(s.serverCert)
		if err != nil {
			return nil, err
		}
		c.RootCAs = pool
	}
	if s.clientCert != "" {
		data, err := os.ReadFile(s.clientCert)
		if err != nil {
			return nil, mlerr.ErrMissingConfig.Errorf("mlflow: client certificate %s cannot be read: %v", s.clientCert, pathless(err))
		}
		cert, err := tls.X509KeyPair(data, data)
		if err != nil {
			return nil, mlerr.ErrMissingConfig.Errorf("mlflow: client certificate %s must be one PEM file with the certificate and its unencrypted key: %v", s.clientCert, err)
		}
		c.Certificates = []tls.Certificate{cert}
	}
	return c, nil
}

// check refuses the settings MLflow's client refuses.
func (s tlsSettings) check() error {
	if s.insecure && s.serverCertSet {
		return mlerr.ErrMissingConfig.Errorf("mlflow: %s and %s (WithInsecureTLS and WithServerCertPath) cannot both be set: "+
			"either trust the server's CA or skip verification", EnvInsecureTLS, EnvServerCertPath)
	}
	if s.serverCertSet && s.serverCert == "" {
		return mlerr.ErrMissingConfig.Errorf("mlflow: %s is set but empty: it must name a PEM file of CA certificates", EnvServerCertPath)
	}
	return nil
}

// loadCAs reads the PEM certificates of a file, or of every regular file of
// a directory.
func loadCAs(path string) (*x509.CertPool, error) {
	st, err := os.Stat(path)
	if err != nil {
		return nil, mlerr.ErrMissingConfig.Errorf("mlflow: server CA certificates %s cannot be read: %v", path, pathless(err))
	}
	files := []string{path}
	if st.IsDir() {
		entries, err := os.ReadDir(path)
		if err != nil {
			return nil, mlerr.ErrMissingConfig.Errorf("mlflow: server CA directory %s cannot be read: %v", path, pathless(err))
		}
		files = files[:0]
		for _, e := range entries {
			if e.Type().IsRegular() {
				files = append(files, filepath.Join(path, e.Name()))
			}
		}
	}
	pool := x509.NewCertPool()
	found := false
	for _, f := range files {
		data, err := os.ReadFile(f)
		if err != nil {
			return nil, mlerr.ErrMissingConfig.Errorf("mlflow: server CA certificates %s cannot be read: %v", f, pathless(err))
		}
		found = pool.AppendCertsFromPEM(data) || found
	}
	if !found {
		return nil, mlerr.ErrMissingConfig.Errorf("mlflow: %s holds no PEM certificate", path)
	}
	return pool, nil
}

// pathless returns the cause of an *os.PathError, whose text repeats the path.
func pathless(err error) error {
	var pe *os.PathError
	if errors.As(err, &pe) {
		return pe.Err
	}
	return err
}

// tlsFailure turns a request's error into an ErrTLS error when TLS failed
// for good, marked permanent (its cause may hold a network error, such as
// the reset of a server refusing the client certificate, that would
// otherwise be retried), and returns other errors unchanged.
func tlsFailure(err error, host string) error {
	code, what := tlsCause(err)
	if what == "" {
		return err
	}
	return mlerr.Permanent(mlerr.New(code, "mlflow: TLS with "+host+" failed: "+what).WithKind(ErrTLS).WithCause(err))
}

// tlsCause says why TLS failed, "" when err is no TLS failure.
func tlsCause(err error) (mlerr.Code, string) {
	var verify *tls.CertificateVerificationError
	var unknown x509.UnknownAuthorityError
	var invalid x509.CertificateInvalidError
	var host x509.HostnameError
	var header tls.RecordHeaderError
	switch {
	case errors.As(err, &verify):
		return mlerr.CodeInvalidParameterValue, "the server's certificate is not trusted: " + verify.Err.Error()
	case errors.As(err, &unknown), errors.As(err, &invalid), errors.As(err, &host):
		return mlerr.CodeInvalidParameterValue, "the server's certificate is not trusted: " + innermost(err)
	case errors.As(err, &header):
		return mlerr.CodeInvalidParameterValue, "the server does not speak TLS (is the URL's scheme http?)"
	}
	var refused *certRefusedError
	if errors.As(err, &refused) {
		return mlerr.CodeUnauthenticated, refused.Error()
	}
	if alert, ok := remoteAlert(err); ok {
		if certAlerts[alert] {
			return mlerr.CodeUnauthenticated, "the server refused the client certificate (remote error: " + alert + ")"
		}
		return mlerr.CodeInvalidParameterValue, "the server ended the handshake (remote error: " + alert + ")"
	}
	return 0, ""
}

// remoteAlert returns the text of a TLS alert the server sent. crypto/tls
// reports one as a *net.OpError whose Op is "remote error" and whose Err (of
// an unexported type) reads "tls: <alert>".
func remoteAlert(err error) (string, bool) {
	var op *net.OpError
	if !errors.As(err, &op) || op.Op != "remote error" || op.Err == nil {
		return "", false
	}
	text := op.Err.Error()
	return text, strings.HasPrefix(text, "tls: ")
}

// certAlerts are the alerts by which a server refuses a client certificate
// (RFC 8446 section 6.2), as crypto/tls words them.
var certAlerts = map[string]bool{
	"tls: bad certificate":                 true,
	"tls: unsupported certificate":         true,
	"tls: revoked certificate":             true,
	"tls: expired certificate":             true,
	"tls: unknown certificate":             true,
	"tls: unknown certificate authority":   true,
	"tls: access denied":                   true,
	"tls: certificate required":            true,
	"tls: certificate unobtainable":        true,
	"tls: bad certificate status response": true,
}

// innermost returns the text of the last error of err's chain.
func innermost(err error) string {
	for {
		next := errors.Unwrap(err)
		if next == nil {
			return err.Error()
		}
		err = next
	}
}

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
