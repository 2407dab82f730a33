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
		return dnsDecision(e), true
	case *url.Error:
		return urlDecision(e)
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

func dnsDecision(e *net.DNSError) Decision {
	switch {
	case e.IsNotFound:
		return Decision{Reason: "dns not found"}
	case e.IsTimeout:
		return Decision{Retry: true, Reason: reasonNetTimeout}
	case e.IsTemporary:
		return Decision{Retry: true, Reason: "dns temporary"}
	}
	return Decision{Reason: "dns error"}
}

// urlDecision: a URL that does not parse, and a connection closed before the
// response or while the request's body was written (a keep-alive race, a proxy or server restart); other *url.Errors
// are decided by what they wrap.
func urlDecision(e *url.Error) (Decision, bool) {
	switch {
	case e.Op == "parse":
		return Decision{Reason: "malformed url"}, true
	case e.Err == io.EOF, closedUnder(e.Err):
		// net.ErrClosed under a request: the transport closed the
		// connection under the request's body when the peer reset it.
		return Decision{Retry: true, Reason: "connection closed"}, true
	}
	return Decision{}, false
}

// closedUnder reports net.ErrClosed, bare or in a few *net.OpErrors (a
// "readfrom" around a "write"; not searched deeper: the walk bounds the
// rest).
func closedUnder(err error) bool {
	for range 4 {
		op, ok := err.(*net.OpError)
		if !ok {
			break
		}
		err = op.Err
	}
	return err == net.ErrClosed
}

// errnoReasons names the system calls' transient failures of a connection,
// by their POSIX numbers (platformErrno maps other systems' onto them).
var errnoReasons = map[syscall.Errno]string{
	syscall.ECONNREFUSED: "connection refused",
	syscall.ECONNRESET:   "connection reset",
	syscall.ECONNABORTED: "connection aborted",
	syscall.EPIPE:        "broken pipe",
	syscall.ETIMEDOUT:    reasonNetTimeout,
	syscall.ENETUNREACH:  "network unreachable",
	syscall.ENETDOWN:     "network unreachable",
	syscall.EHOSTUNREACH: "host unreachable",
}

// errnoDecision retries the errno values errnoReasons names.
func errnoDecision(e syscall.Errno) (Decision, bool) {
	if reason, ok := errnoReasons[platformErrno(e)]; ok {
		return Decision{Retry: true, Reason: reason}, true
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
