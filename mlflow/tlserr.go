package mlflow

import (
	"crypto/tls"
	"crypto/x509"
	"errors"
	"net"
	"strings"

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
