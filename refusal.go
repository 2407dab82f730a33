package mlerr

import (
	"errors"
	"net"
	"syscall"
)

// What the sender makes of a backend call's error. These read the error
// the retry policy returned (a *RetryError, or the last attempt's error).

// lastError returns the last attempt's error of a *RetryError, else err.
func lastError(err error) error {
	var re *RetryError
	if errors.As(err, &re) && re.Last != nil {
		return re.Last
	}
	return err
}

// isOutage reports whether Retry gave up on an error worth waiting out: a
// retryable one (network, timeout, 5xx, 429) that outlived the policy.
func isOutage(err error) bool {
	var re *RetryError
	if errors.As(err, &re) {
		switch re.Reason {
		case "exhausted", "elapsed", "budget":
			return true
		}
		return false
	}
	return Classify(err).Retry
}

// refusal names the kind of a permanent backend error that a Run reports
// as such (refused credentials, a run that is gone) and says what
// happened; other errors give a nil kind.
func refusal(last error) (*Kind, string) {
	switch {
	case isUnauthorized(last):
		return ErrUnauthorized, "the backend refused the credentials"
	case isRunGone(last):
		return ErrRunNotFound, "the run does not exist"
	}
	return nil, ""
}

// isUnauthorized reports a refusal of the credentials (401, 403).
func isUnauthorized(err error) bool {
	if errors.Is(err, ErrUnauthorized) {
		return true
	}
	if e := AsError(err); e != nil {
		if s := e.HTTPStatus(); s == 401 || s == 403 {
			return true
		}
	}
	return unauthorizedCodes[CodeOf(err)]
}

// unauthorizedCodes are the codes of refused credentials.
var unauthorizedCodes = map[Code]bool{CodeUnauthenticated: true, CodePermissionDenied: true, CodeCustomerUnauthorized: true}

// isRunGone reports a run that does not exist (404 RESOURCE_DOES_NOT_EXIST).
func isRunGone(err error) bool {
	return errors.Is(err, ErrRunNotFound) || CodeOf(err) == CodeResourceDoesNotExist
}

// mayHaveReached reports whether a failed write may still have been
// applied by the backend: false only when the error proves the request
// never got there (the connection was refused, the host name did not
// resolve) or the server answered that it did not take it (a 4xx, 429 or
// 503 answer). A timeout, a reset connection, a 500 may all hide a write
// the server applied.
func mayHaveReached(err error) bool {
	return !neverSent(err) && !answeredNo(err)
}

// neverSent reports an error that proves the request never left: the
// connection was refused, the host name did not resolve.
func neverSent(err error) bool {
	var errno syscall.Errno
	var dns *net.DNSError
	return errors.As(err, &errno) && platformErrno(errno) == syscall.ECONNREFUSED || errors.As(err, &dns)
}

// answeredNo reports an answer of the server saying it did not take the
// request: a 4xx, 429 or 503.
func answeredNo(err error) bool {
	e := AsError(err)
	if e == nil {
		return false
	}
	s := e.observedStatus()
	return s >= 400 && s < 500 || s == 503
}

// wrapAs wraps err in an error of kind k that keeps what the backend said:
// the code of the last attempt's error and the HTTP status and Retry-After
// observed, so that CodeOf and HTTPStatusOf see through the wrapping. last
// is the error whose code and status are kept (the last attempt's).
func wrapAs(k *Kind, err, last error, msg string) *Error {
	code := CodeOf(last)
	if k != nil && (last == nil || code == CodeInternalError && AsError(last) == nil) {
		code = k.code
	}
	e := newError(code, k, msg, err)
	if inner := AsError(last); inner != nil {
		e = e.withObserved(inner.observedStatus(), inner.RetryAfter())
	}
	return e
}
