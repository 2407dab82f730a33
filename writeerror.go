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
	answerFor(err, problem).write(w, problem)
}

// contentType is the Content-Type of problem+json, or of MLflow JSON.
func contentType(problem bool) string {
	if problem {
		return problemMediaType
	}
	return "application/json"
}

// answer is what WriteError writes: the status, the body and the delay of
// the Retry-After header (none when 0).
type answer struct {
	status     int
	body       []byte
	retryAfter time.Duration
}

// write writes a as the response, its body in problem+json or MLflow JSON;
// the Retry-After header is in whole seconds, rounded up.
func (a answer) write(w http.ResponseWriter, problem bool) {
	h := w.Header()
	h.Set("Content-Type", contentType(problem))
	h.Set("Content-Length", strconv.Itoa(len(a.body)))
	h.Set("X-Content-Type-Options", "nosniff")
	if a.retryAfter > 0 {
		h.Set("Retry-After", strconv.FormatInt(int64((a.retryAfter+time.Second-1)/time.Second), 10))
	}
	w.WriteHeader(a.status)
	_, _ = w.Write(a.body)
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
	q := acceptQualities{problem: -1, json: -1}
	for _, line := range accept {
		for _, rng := range strings.Split(line, ",") {
			q.add(rng)
		}
	}
	return q.problem > 0 && q.problem >= q.json
}

// acceptQualities are the highest qualities Accept headers give
// application/problem+json and application/json; -1 when they name none.
type acceptQualities struct{ problem, json float64 }

// add reads one media range of an Accept header.
func (q *acceptQualities) add(rng string) {
	mt, params, _ := strings.Cut(rng, ";")
	switch strings.ToLower(strings.TrimSpace(mt)) {
	case problemMediaType:
		q.problem = max(q.problem, acceptQuality(params))
	case "application/json":
		q.json = max(q.json, acceptQuality(params))
	}
}

// acceptQuality returns the q parameter of a media range's parameters, 1
// when absent or unreadable.
func acceptQuality(params string) float64 {
	for params != "" {
		var p string
		p, params, _ = strings.Cut(params, ";")
		k, v, _ := strings.Cut(p, "=")
		if strings.EqualFold(strings.TrimSpace(k), "q") {
			return parseQuality(v)
		}
	}
	return 1
}

// parseQuality reads a q parameter's value, 1 when it is unreadable or
// below 0 or above 1.
func parseQuality(v string) float64 {
	q, err := strconv.ParseFloat(strings.TrimSpace(v), 64)
	if err != nil || q < 0 || q > 1 {
		return 1
	}
	return q
}
