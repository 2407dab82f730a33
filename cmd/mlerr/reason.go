package main

import (
	"errors"
	"fmt"
	"net"
	"net/url"
	"strings"

	"github.com/mlerr/mlerr"
	"github.com/mlerr/mlerr/localstore"
)

// reason turns an error into the one line the user reads: the innermost
// useful message, without the wrapping of retries.
func reason(err error) string {
	var re *mlerr.RetryError
	if errors.As(err, &re) && re.Last != nil {
		err = re.Last
	}
	// The user's own setup mistakes read better without a code in front.
	if e := mlerr.AsError(err); e != nil && e.Message() != "" &&
		(errors.Is(err, localstore.ErrNotStore) || errors.Is(err, mlerr.ErrMissingConfig) || errors.Is(err, mlerr.ErrInvalidURL)) {
		return oneLine(e.Message())
	}
	return oneLine(err.Error())
}

// serverReason explains an error of a sync: the server unreachable, the
// credentials refused, or else the error itself.
func serverReason(err error, uri string) string {
	switch {
	case unauthorized(err):
		return fmt.Sprintf("the MLflow server at %s refused the credentials (HTTP %d): check MLFLOW_TRACKING_TOKEN, or MLFLOW_TRACKING_USERNAME and MLFLOW_TRACKING_PASSWORD",
			uri, mlerr.HTTPStatusOf(err))
	case unreachable(err):
		return fmt.Sprintf("cannot reach the MLflow server at %s (%s); run sync again once it is up: it resumes where it stopped", uri, netCause(err))
	}
	return reason(err) + "; run sync again to resume"
}

func unauthorized(err error) bool {
	if errors.Is(err, mlerr.ErrUnauthorized) || errors.Is(err, mlerr.CodeUnauthenticated) || errors.Is(err, mlerr.CodePermissionDenied) {
		return true
	}
	e := mlerr.AsError(err)
	return e != nil && (e.HTTPStatus() == 401 || e.HTTPStatus() == 403)
}

func unreachable(err error) bool {
	var op *net.OpError
	var dns *net.DNSError
	var ue *url.Error
	var te *mlerr.TimeoutError
	return errors.As(err, &op) || errors.As(err, &dns) || errors.As(err, &ue) || errors.As(err, &te)
}

// netCause returns the innermost network error's text, such as
// "connection refused".
func netCause(err error) string {
	var op *net.OpError
	if errors.As(err, &op) && op.Err != nil {
		return oneLine(op.Err.Error())
	}
	var dns *net.DNSError
	if errors.As(err, &dns) {
		return oneLine(dns.Error())
	}
	var te *mlerr.TimeoutError
	if errors.As(err, &te) {
		return "timed out"
	}
	return reason(err)
}

func oneLine(s string) string {
	s = strings.Join(strings.Fields(s), " ")
	if len(s) > 400 {
		s = s[:400] + "..."
	}
	return s
}
