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
	problem := r != nil && prefersProblem(r.Header.Values("Accept"))
	a := answerFor(err, problem)
	h := w.Header()
	contentType := "application/json"
	if problem {
		contentType = problemMediaType
	}
	h.Set("Content-Type", contentType)
	h.Set("Content-Length", strconv.Itoa(len(a.body)))
	h.Set("X-Content-Type-Options", "nosniff")
	if a.retryAfter > 0 {
		h.Set("Retry-After", strconv.FormatInt(int64((a.retryAfter+time.Second-1)/time.Second), 10))
	}
	w.WriteHeader(a.status)
	_, _ = w.Write(a.body)
}

// answer is what WriteError writes: the status, the body and the delay of
// the Retry-After header (none when 0).
type answer struct {
	status     int
	body       []byte
	retryAfter time.Duration
}

// answerFor chooses what to write for err: the error of its chain that gives
// CodeOf(err) its code, as WriteError's doc says.
func answerFor(err error, problem bool) answer {
	found := walker{goal: goalCode}.find(err)
	code := codeFound(found)
	status := clampErrorStatus(code.HTTPStatus())
	switch e := found.(type) {
	case *Error:
		return answerForError(e, problem)
	case wireEncoder:
		if body, mErr := encodeWire(e, problem); mErr == nil {
			return answer{status: status, body: body}
		}
	}
	return answer{status: status, body: New(code, err.Error()).WithHTTPStatus(status).marshal(problem)}
}

// answerForError writes an *Error whole, with its HTTPStatus (500 when it is
// no error status) and RetryAfter; the zero code is written as
// INTERNAL_ERROR.
func answerForError(e *Error, problem bool) answer {
	if e.code == 0 && e.rawName() == "" {
		e = e.clone()
		e.code = CodeInternalError
	}
	status := clampErrorStatus(e.HTTPStatus())
	if status != e.HTTPStatus() {
		e = e.WithHTTPStatus(status)
	}
	return answer{status: status, body: e.marshal(problem), retryAfter: e.RetryAfter()}
}

// encodeWire has an error that encodes itself write problem+json or MLflow
// JSON.
func encodeWire(e wireEncoder, problem bool) ([]byte, error) {
	if problem {
		return e.MarshalProblem()
	}
	return e.MarshalJSON()
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
	switch statusClass(status) {
	case 4, 5:
		return status
	}
	return http.StatusInternalServerError
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
