// Package fault is a fault-injecting HTTP proxy for tests: it listens on
// loopback in front of an upstream (a reverse proxy to a real server, or any
// in-memory http.Handler) and, request by request, passes the request on or
// injects a fault: a closed or reset connection, a stall, an error status
// (with a JSON or HTML body and any headers, such as Retry-After), or a
// response dropped after the upstream applied the request. It can also
// refuse connections altogether (Down/Up). Stats counts requests, faults and
// bytes.
package fault

import (
	"fmt"
	"net/http"
	"strings"
	"time"
)

// Kind is what the proxy does with a request.
type Kind uint8

const (
	// Pass forwards the request to the upstream and its answer back.
	Pass Kind = iota
	// Close closes the client's connection without answering (the client
	// reads EOF).
	Close
	// Reset resets the client's connection (TCP RST) without answering (the
	// client sees "connection reset by peer").
	Reset
	// Stall holds the request for Fault.Delay, or until the client gives up
	// or the proxy closes, then forwards it if the client still waits.
	Stall
	// Respond answers with Fault.Status, Fault.Header and Fault.Body without
	// forwarding.
	Respond
	// DropAfterApply forwards the request, so the upstream applies it, then
	// discards the answer and resets the client's connection: the client
	// cannot tell whether its write happened.
	DropAfterApply
	// Truncate forwards the request and sends the answer's status and
	// headers but only half of its body, then closes the connection.
	Truncate
)

var kindNames = [...]string{"pass", "close", "reset", "stall", "respond", "drop-after-apply", "truncate"}

// String returns the kind's name, such as "reset".
func (k Kind) String() string {
	if int(k) < len(kindNames) {
		return kindNames[k]
	}
	return fmt.Sprintf("Kind(%d)", k)
}

// Fault is what to do with one request.
type Fault struct {
	Kind Kind
	// Status, Header and Body are the answer of a Respond fault.
	Status int
	Header http.Header
	Body   string
	// Delay is how long a Stall holds the request (0: until the client
	// gives up or the proxy closes).
	Delay time.Duration
}

// Faults for the usual cases.
var (
	// PassFault forwards the request.
	PassFault = Fault{Kind: Pass}
	// CloseConn closes the connection without an answer.
	CloseConn = Fault{Kind: Close}
	// ResetConn resets the connection without an answer.
	ResetConn = Fault{Kind: Reset}
	// DropResponse forwards, then resets instead of answering.
	DropResponse = Fault{Kind: DropAfterApply}
	// TruncateBody forwards, then cuts the answer's body in half.
	TruncateBody = Fault{Kind: Truncate}
)

// StallFor holds a request for d (0: until the client gives up), then
// forwards it.
func StallFor(d time.Duration) Fault { return Fault{Kind: Stall, Delay: d} }

// mlflowCodes names the error_code an MLflow server sends with a status.
var mlflowCodes = map[int]string{
	400: "INVALID_PARAMETER_VALUE", 401: "UNAUTHENTICATED", 403: "PERMISSION_DENIED",
	404: "RESOURCE_DOES_NOT_EXIST", 409: "RESOURCE_CONFLICT", 429: "REQUEST_LIMIT_EXCEEDED",
	500: "INTERNAL_ERROR", 501: "NOT_IMPLEMENTED", 503: "TEMPORARILY_UNAVAILABLE", 504: "DEADLINE_EXCEEDED",
}

// Status answers with status and an MLflow JSON error body whose error_code
// matches the status (INTERNAL_ERROR for statuses without one).
func Status(status int) Fault {
	code, ok := mlflowCodes[status]
	if !ok {
		code = "INTERNAL_ERROR"
	}
	return JSONError(status, code, fmt.Sprintf("injected %d %s", status, http.StatusText(status)))
}

// JSONError answers with status and the MLflow error body
// {"error_code": code, "message": message}.
func JSONError(status int, code, message string) Fault {
	return Fault{
		Kind:   Respond,
		Status: status,
		Header: http.Header{"Content-Type": {"application/json"}},
		Body:   fmt.Sprintf(`{"error_code": %q, "message": %q}`, code, message),
	}
}

// RetryAfter answers with status (429 or 503, typically), an MLflow JSON
// error body and "Retry-After: seconds".
func RetryAfter(status int, after time.Duration) Fault {
	f := Status(status)
	f.Header.Set("Retry-After", fmt.Sprint(int(after.Round(time.Second)/time.Second)))
	return f
}

// HTML answers with status and an HTML error page, as a load balancer or a
// reverse proxy in front of a tracking server does.
func HTML(status int) Fault {
	text := http.StatusText(status)
	return Fault{
		Kind:   Respond,
		Status: status,
		Header: http.Header{"Content-Type": {"text/html"}},
		Body: fmt.Sprintf("<html>\r\n<head><title>%d %s</title></head>\r\n<body>\r\n<center><h1>%d %s</h1></center>\r\n<hr><center>nginx</center>\r\n</body>\r\n</html>\r\n",
			status, text, status, text),
	}
}

// Malformed answers 200 with a body that is not JSON.
func Malformed() Fault {
	return Fault{Kind: Respond, Status: 200, Header: http.Header{"Content-Type": {"application/json"}}, Body: `{"run": {"info": `}
}

// Rule applies a fault to matching requests.
type Rule struct {
	// Method matches the request's method; "" matches any.
	Method string
	// Path matches requests whose URL path ends with it, such as
	// "runs/log-batch"; "" matches any.
	Path string
	// Skip lets this many matching requests pass before the rule applies.
	Skip int
	// Times is how many matching requests get the fault; 0 means all.
	Times int
	// Fault is what happens to them.
	Fault Fault
}

func (r *Rule) matches(req *http.Request) bool {
	return (r.Method == "" || strings.EqualFold(r.Method, req.Method)) &&
		(r.Path == "" || strings.HasSuffix(req.URL.Path, r.Path))
}
