package mlerr

import (
	"net/http"
	"strconv"
	"strings"
	"time"
)

// WriteError writes err as an HTTP error response, for servers speaking
// MLflow's protocol. The status is HTTPStatusOf(err) (a status outside
// 400-599 becomes 500). The body is MLflow JSON (Content-Type
// application/json), or RFC 9457 problem+json (application/problem+json)
// when the request's Accept header prefers application/problem+json to
// application/json. The first *Error in err's chain is written; any other
// error is written with code CodeOf(err) and err.Error() as the message; the
// zero code (no error) is written as INTERNAL_ERROR. A
// RetryAfter is sent as a Retry-After header in whole seconds, rounded up.
// A nil err writes nothing; r may be nil (MLflow JSON is written then).
func WriteError(w http.ResponseWriter, r *http.Request, err error) {
	if err == nil {
		return
	}
	e := AsError(err)
	if e == nil {
		e = &Error{code: CodeOf(err), message: err.Error()}
	} else if e.code == 0 && e.name == "" {
		e = e.clone()
		e.code = CodeInternalError
	}
	status := HTTPStatusOf(err)
	if status < 400 || status > 599 {
		status = http.StatusInternalServerError
	}
	if status != e.HTTPStatus() {
		e = e.WithHTTPStatus(status)
	}
	var body []byte
	h := w.Header()
	if r != nil && prefersProblem(r.Header.Values("Accept")) {
		body, _ = e.MarshalProblem()
		h.Set("Content-Type", problemMediaType)
	} else {
		body, _ = e.MarshalJSON()
		h.Set("Content-Type", "application/json")
	}
	h.Set("Content-Length", strconv.Itoa(len(body)))
	h.Set("X-Content-Type-Options", "nosniff")
	if d := e.RetryAfter(); d > 0 {
		h.Set("Retry-After", strconv.FormatInt(int64((d+time.Second-1)/time.Second), 10))
	}
	w.WriteHeader(status)
	_, _ = w.Write(body)
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
