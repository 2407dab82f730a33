package mlerr

import (
	"crypto/tls"
	"crypto/x509"
	"io"
	"net"
	"net/url"
	"syscall"
)

const reasonNetTimeout = "network timeout"

// netDecision classifies one node of a chain that is a network, TLS or URL
// error, reporting false for anything else.
func netDecision(err error) (Decision, bool) {
	switch e := err.(type) {
	case syscall.Errno:
		return errnoDecision(e)
	case *net.DNSError:
		switch {
		case e.IsNotFound:
			return Decision{Reason: "dns not found"}, true
		case e.IsTimeout:
			return Decision{Retry: true, Reason: reasonNetTimeout}, true
		case e.IsTemporary:
			return Decision{Retry: true, Reason: "dns temporary"}, true
		}
		return Decision{Reason: "dns error"}, true
	case *url.Error:
		switch {
		case e.Op == "parse":
			return Decision{Reason: "malformed url"}, true
		case e.Err == io.EOF:
			// The server closed the connection before answering (a
			// keep-alive race, a proxy or server restart).
			return Decision{Retry: true, Reason: "connection closed"}, true
		}
	case url.EscapeError, url.InvalidHostError:
		return Decision{Reason: "malformed url"}, true
	case x509.UnknownAuthorityError, x509.CertificateInvalidError, x509.HostnameError,
		x509.SystemRootsError, x509.ConstraintViolationError, x509.UnhandledCriticalExtension,
		x509.InsecureAlgorithmError, *tls.CertificateVerificationError:
		return Decision{Reason: "certificate"}, true
	case tls.RecordHeaderError, tls.AlertError, *tls.ECHRejectionError:
		return Decision{Reason: "tls"}, true
	}
	return Decision{}, false
}

// errnoDecision: the system calls' transient failures of a connection.
func errnoDecision(e syscall.Errno) (Decision, bool) {
	switch platformErrno(e) {
	case syscall.ECONNREFUSED:
		return Decision{Retry: true, Reason: "connection refused"}, true
	case syscall.ECONNRESET:
		return Decision{Retry: true, Reason: "connection reset"}, true
	case syscall.ECONNABORTED:
		return Decision{Retry: true, Reason: "connection aborted"}, true
	case syscall.EPIPE:
		return Decision{Retry: true, Reason: "broken pipe"}, true
	case syscall.ETIMEDOUT:
		return Decision{Retry: true, Reason: reasonNetTimeout}, true
	case syscall.ENETUNREACH, syscall.ENETDOWN:
		return Decision{Retry: true, Reason: "network unreachable"}, true
	case syscall.EHOSTUNREACH:
		return Decision{Retry: true, Reason: "host unreachable"}, true
	}
	return Decision{}, false
}

// leafDecision classifies the innermost error of a chain: the timeouts of the
// network stack (net's i/o timeout, os.ErrDeadlineExceeded, net/http's
// client timeouts) and io.ErrUnexpectedEOF. Wrappers such as *url.Error and
// *net.OpError also answer Timeout(), but by asking their cause, which may be
// a context error: that is why only leaves are asked.
func leafDecision(err error) (Decision, bool) {
	if err == io.ErrUnexpectedEOF {
		return Decision{Retry: true, Reason: "unexpected eof"}, true
	}
	if _, ok := err.(syscall.Errno); ok {
		return Decision{}, false // classified by errnoDecision
	}
	if t, ok := err.(interface{ Timeout() bool }); ok && t.Timeout() {
		return Decision{Retry: true, Reason: reasonNetTimeout}, true
	}
	return Decision{}, false
}
