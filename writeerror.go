package mlerr

import (
	"net/http"
	"strconv"
	"strings"
	"time"
)

// WriteError writes err as an HTTP error response, for servers speaking
// MLflow's protocol. The body is MLflow JSON (Content-Type
// application/json), or RFC 9457 problem+json (application/problem+json)
// when the request's Accept header prefers application/problem+json to
// application/json; r may be nil (MLflow JSON is written then).
//
// What is written is the error of err's chain that gives CodeOf(err) its
// code: an *Error is written whole (its message, name and details, not the
// text of the errors wrapping it) with its HTTPStatus and, as a Retry-After
// header in whole seconds rounded up, its RetryAfter; an error that encodes
// itself (MarshalJSON and MarshalProblem, as *BatchError does) writes its own
// body with its code's status; any other error is written with code
// CodeOf(err), err.Error() as the message and HTTPStatusOf(err). A status
// outside 400-599 becomes 500, and the zero code (no error) is written as
// INTERNAL_ERROR. A nil err writes nothing.
func WriteError(w http.ResponseWriter, r *http.Request, err error) {
	if err == nil {
		return
	}
	found := walker{goal: goalCode}.find(err)
	code := codeFound(found)
	problem := r != nil && prefersProblem(r.Header.Values("Accept"))
	var body []byte
	var retryAfter time.Duration
	status := code.HTTPStatus()
	switch e := found.(type) {
	case *Error:
		if e.code == 0 && e.rawName() == "" {
			e = e.clone()
			e.code = CodeInternalError
		}
		status = clampErrorStatus(e.HTTPStatus())
		if status != e.HTTPStatus() {
			e = e.WithHTTPStatus(status)
		}
		body, retryAfter = e.marshal(problem), e.RetryAfter()
	case wireEncoder:
		status = clampErrorStatus(status)
		var mErr error
		if problem {
			body, mErr = e.MarshalProblem()
		} else {
			body, mErr = e.MarshalJSON()
		}
		if mErr != nil {
			body = New(code, err.Error()).WithHTTPStatus(status).marshal(problem)
		}
	default:
		status = clampErrorStatus(status)
		body = New(code, err.Error()).WithHTTPStatus(status).marshal(problem)
	}
	h := w.Header()
	if problem {
		h.Set("Content-Type", problemMediaType)
	} else {
		h.Set("Content-Type", "application/json")
	}
	h.Set("Content-Length", strconv.Itoa(len(body)))
	h.Set("X-Content-Type-Options", "nosniff")
	if retryAfter > 0 {
		h.Set("Retry-After", strconv.FormatInt(int64((retryAfter+time.Second-1)/time.Second), 10))
	}
	w.WriteHeader(status)
	_, _ = w.Write(body)
}

// wireEncoder is an error that writes its own MLflow JSON and problem+json,
// such as *BatchError.
type wireEncoder interface {
	MarshalJSON() ([]byte, error)
	MarshalProblem() ([]byte, error)
}

// marshal returns e as problem+json or MLflow JSON.
func (e *Error) marshal(problem bool) []byte {
	if problem {
		b, _ := e.MarshalProblem()
		return b
	}
	b, _ := e.MarshalJSON()
	return b
}

// clampErrorStatus makes a status that is no error status 500.
func clampErrorStatus(status int) int {
	if status < 400 || status > 599 {
		return http.StatusInternalServerError
	}
	return status
}

// prefersProblem reports whether Accept headers give
// application/problem+json a quality above zero and at least that of
// application/json.
func prefersProblem(accept []string) bool {
	qProblem, qJSON := -1.0, -1.0
	for _, line := range accept {
		for _, rng := range strings.Split(line, ",") {
			mt, params, _ := strings.Cut(rng, ";")
			mt = strings.ToLower(strings.TrimSpace(mt))
			if mt != problemMediaType && mt != "application/json" {
				continue
			}
			q := acceptQuality(params)
			if mt == problemMediaType {
				qProblem = max(qProblem, q)
			} else {
				qJSON = max(qJSON, q)
			}
		}
	}
	return qProblem > 0 && qProblem >= qJSON
}

// acceptQuality returns the q parameter of a media range's parameters, 1
// when absent or unreadable.
func acceptQuality(params string) float64 {
	for params != "" {
		var p string
		p, params, _ = strings.Cut(params, ";")
		k, v, _ := strings.Cut(p, "=")
		if strings.EqualFold(strings.TrimSpace(k), "q") {
			q, err := strconv.ParseFloat(strings.TrimSpace(v), 64)
			if err != nil || q < 0 || q > 1 {
				return 1
			}
			return q
		}
	}
	return 1
}
