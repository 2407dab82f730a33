package fakebackend

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/http"
	"net/url"
	"os"
	"strconv"
	"sync"
	"syscall"
	"time"

	"github.com/mlerr/mlerr"
)

// Fault is what a backend call does instead of simply succeeding. Every
// fault produces the error a real MLflow client would see: real socket
// errors from the loopback interface, REST errors decoded from MLflow's own
// response bodies.
type Fault struct {
	name   string
	before func(ctx context.Context) error // the call fails with it, storing nothing
	after  func(ctx context.Context) error // the call stores, then fails with it
	reject func(mlerr.Item) string         // per-item rejection reason, "" to store
	panicV any                             // the call panics with it
	panics bool
}

// String names the fault.
func (f Fault) String() string { return f.name }

// endpoint is the URL the fake pretends to call, for *url.Error.
const endpoint = "http://127.0.0.1:5000/api/2.0/mlflow/runs/log-batch"

// asHTTPClient wraps a socket error as net/http's client does.
func asHTTPClient(err error) error {
	return &url.Error{Op: "Post", URL: endpoint, Err: err}
}

var (
	refusedOnce sync.Once
	refusedErr  error
	resetOnce   sync.Once
	resetErr    error
)

// Refused fails with the error of a connection refused: dialling a loopback
// port that was just closed.
func Refused() Fault {
	refusedOnce.Do(func() { refusedErr = dialClosedPort() })
	return Fault{name: "connection refused", before: func(context.Context) error { return asHTTPClient(refusedErr) }}
}

func dialClosedPort() error {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return &net.OpError{Op: "dial", Net: "tcp", Err: os.NewSyscallError("connect", syscall.ECONNREFUSED)}
	}
	addr := l.Addr().String()
	l.Close()
	c, err := net.DialTimeout("tcp", addr, time.Second)
	if err == nil { // the port was taken again meanwhile: build the same error
		c.Close()
		return &net.OpError{Op: "dial", Net: "tcp", Err: os.NewSyscallError("connect", syscall.ECONNREFUSED)}
	}
	return err
}

// Reset fails with the error of a connection reset by the peer: a loopback
// server closes the connection with SO_LINGER 0 while the client reads.
func Reset() Fault {
	resetOnce.Do(func() { resetErr = readResetConn() })
	return Fault{name: "connection reset", before: func(context.Context) error { return asHTTPClient(resetErr) }}
}

func readResetConn() error {
	fallback := &net.OpError{Op: "read", Net: "tcp", Err: os.NewSyscallError("read", syscall.ECONNRESET)}
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return fallback
	}
	defer l.Close()
	go func() {
		c, err := l.Accept()
		if err != nil {
			return
		}
		buf := make([]byte, 16)
		c.Read(buf) // the request
		c.(*net.TCPConn).SetLinger(0)
		c.Close()
	}()
	c, err := net.DialTimeout("tcp", l.Addr().String(), time.Second)
	if err != nil {
		return fallback
	}
	defer c.Close()
	c.Write([]byte("POST / HTTP/1.1\r\n"))
	c.SetReadDeadline(time.Now().Add(5 * time.Second))
	_, err = c.Read(make([]byte, 16))
	if err == nil || !errors.Is(err, syscall.ECONNRESET) {
		return fallback
	}
	return err
}

// Hang blocks until the call's context is done and fails with its error,
// as a server that accepted the connection and never answers.
func Hang() Fault {
	return Fault{name: "hang", before: func(ctx context.Context) error {
		<-ctx.Done()
		return asHTTPClient(ctx.Err())
	}}
}

// mlflowBody is an MLflow error body.
func mlflowBody(code mlerr.Code, msg string) []byte {
	return []byte(fmt.Sprintf(`{"error_code": %q, "message": %q}`, code.String(), msg))
}

// Status fails with the REST error of an HTTP status, decoded from the body
// MLflow sends with it (kind ErrRest, the status observed).
func Status(status int) Fault {
	code := mlerr.CodeForHTTPStatus(status)
	body := mlflowBody(code, fmt.Sprintf("fake server says %d %s", status, http.StatusText(status)))
	return rest(fmt.Sprintf("HTTP %d", status), status, nil, body)
}

// TooManyRequests fails with 429 RESOURCE_EXHAUSTED and a Retry-After of d
// (whole seconds).
func TooManyRequests(d time.Duration) Fault {
	h := http.Header{"Retry-After": {strconv.Itoa(int(d / time.Second))}}
	return rest("HTTP 429", 429, h, mlflowBody(mlerr.CodeResourceExhausted, "too many requests, slow down"))
}

// Unauthorized fails with 401 UNAUTHENTICATED.
func Unauthorized() Fault {
	return rest("HTTP 401", 401, nil, mlflowBody(mlerr.CodeUnauthenticated, "Invalid token"))
}

// Forbidden fails with 403 PERMISSION_DENIED.
func Forbidden() Fault {
	return rest("HTTP 403", 403, nil, mlflowBody(mlerr.CodePermissionDenied, "User does not have permission to write to this experiment"))
}

// RunGone fails with MLflow's 404 RESOURCE_DOES_NOT_EXIST for a run.
func RunGone() Fault {
	return rest("run gone", 404, nil, mlflowBody(mlerr.CodeResourceDoesNotExist, "Run with id=abc not found"))
}

// BadGateway fails with a proxy's HTML 502 page: a body that is not MLflow
// JSON, decoded as a retryable 5xx.
func BadGateway() Fault {
	return rest("HTML 502", 502, http.Header{"Content-Type": {"text/html"}},
		[]byte("<html><head><title>502 Bad Gateway</title></head><body><center><h1>502 Bad Gateway</h1></center><hr><center>nginx</center></body></html>"))
}

// Malformed fails as a 200 response whose body does not parse: not
// retryable, nothing is known to be stored.
func Malformed() Fault {
	e := mlerr.Decoder{}.DecodeError(200, nil, []byte(`{"run": {"info": `))
	return Fault{name: "malformed response", before: func(context.Context) error {
		return mlerr.Errorf(mlerr.CodeUnparseableHTTPError, "runs/log-batch: the response does not parse: %w", e)
	}}
}

func rest(name string, status int, h http.Header, body []byte) Fault {
	e := mlerr.Decoder{}.DecodeError(status, h, body)
	return Fault{name: name, before: func(context.Context) error { return e }}
}

// Reject stores the batch but the items for which reason returns a
// non-empty reason, which come back in a *mlerr.BatchError[mlerr.Item] of
// INVALID_PARAMETER_VALUE failures.
func Reject(reason func(mlerr.Item) string) Fault {
	return Fault{name: "per-item rejections", reject: reason}
}

// AppliedButLost stores the batch, then fails with a connection reset: the
// server applied the write and the response was lost. A retry of the same
// Seq is stored once.
func AppliedButLost() Fault {
	resetOnce.Do(func() { resetErr = readResetConn() })
	return Fault{name: "applied, response lost", after: func(context.Context) error { return asHTTPClient(resetErr) }}
}

// AppliedThenHang stores the batch, then hangs until the call's context is
// done and fails with its error: the server applied the write and its
// answer never came.
func AppliedThenHang() Fault {
	return Fault{name: "applied, then hang", after: func(ctx context.Context) error {
		<-ctx.Done()
		return asHTTPClient(ctx.Err())
	}}
}

// Panic makes the call panic with v.
func Panic(v any) Fault {
	return Fault{name: "panic", panicV: v, panics: true}
}

// Gate holds the call until open is closed, then lets it succeed; when the
// call's context ends first, it fails with the context's error. Tests use it
// to keep the sender busy while they fill the queue.
func Gate(open <-chan struct{}) Fault {
	return Fault{name: "gate", before: func(ctx context.Context) error {
		select {
		case <-open:
			return nil
		case <-ctx.Done():
			return asHTTPClient(ctx.Err())
		}
	}}
}
