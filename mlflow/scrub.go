package mlflow

import (
	"bytes"
	"fmt"
	"io"
	"net/http"
	"strings"

	"github.com/mlerr/mlerr"
)

// redacted replaces a secret in messages.
const redacted = "[REDACTED]"

// scrubber removes a Client's secrets (its token, password and
// Authorization header) from text that may reach a log: error messages,
// server answers, panic values.
type scrubber struct{ secrets []string }

// newScrubber returns a scrubber of secrets, the longest first, so that a
// header is replaced whole rather than around the password it contains.
func newScrubber(secrets []string) scrubber {
	out := append([]string(nil), secrets...)
	for i := 1; i < len(out); i++ {
		for j := i; j > 0 && len(out[j]) > len(out[j-1]); j-- {
			out[j], out[j-1] = out[j-1], out[j]
		}
	}
	return scrubber{secrets: out}
}

// text returns s with every secret replaced.
func (s scrubber) text(t string) string {
	for _, sec := range s.secrets {
		if strings.Contains(t, sec) {
			t = strings.ReplaceAll(t, sec, redacted)
		}
	}
	return t
}

// bytes is text for a body.
func (s scrubber) bytes(b []byte) []byte {
	for _, sec := range s.secrets {
		if bytes.Contains(b, []byte(sec)) {
			b = bytes.ReplaceAll(b, []byte(sec), []byte(redacted))
		}
	}
	return b
}

// error returns err itself when its message holds no secret, else err
// behind a message without them (errors.Is and errors.As still see err).
func (s scrubber) error(err error) error {
	if err == nil || len(s.secrets) == 0 {
		return err
	}
	if msg := err.Error(); s.text(msg) != msg {
		return &scrubbedError{msg: s.text(msg), err: err}
	}
	return err
}

// scrubbedError is an error whose message had a secret.
type scrubbedError struct {
	msg string
	err error
}

func (e *scrubbedError) Error() string { return e.msg }
func (e *scrubbedError) Unwrap() error { return e.err }

// do sends a request: a TLS failure becomes an ErrTLS error, and no error
// or panic leaves with a secret in its message (a transport that panics with
// the request, headers and all, is re-panicked with the scrubbed text).
func (c *Client) do(req *http.Request) (resp *http.Response, err error) {
	defer func() {
		if p := recover(); p != nil {
			if text := fmt.Sprint(p); c.secrets.text(text) != text {
				panic("mlflow: the HTTP client panicked: " + c.secrets.text(text))
			}
			panic(p)
		}
	}()
	resp, err = c.hc.Do(req)
	if err != nil {
		return nil, c.secrets.error(tlsFailure(err, c.base.Host))
	}
	return resp, nil
}

// maxErrorBody is the most of an error body read: the Decoder's default.
const maxErrorBody = 1 << 20

// decodeError decodes a non-2xx answer as mlerr.FromResponse does, with the
// Client's secrets removed from the body first (a proxy may echo the
// request's headers in its error page).
func (c *Client) decodeError(resp *http.Response) error {
	body, readErr := io.ReadAll(io.LimitReader(resp.Body, maxErrorBody))
	if readErr == nil && int64(len(body)) == maxErrorBody {
		_, _ = io.CopyN(io.Discard, resp.Body, maxDrain)
	}
	_ = resp.Body.Close()
	e := mlerr.Decoder{}.DecodeError(resp.StatusCode, resp.Header, c.secrets.bytes(body))
	if readErr != nil {
		e = e.WithCause(c.secrets.error(readErr))
	}
	return refusedCredentials(overloaded(e))
}

// refusedCredentials gives a 401 or 403 answer the kind
// mlerr.ErrUnauthorized, keeping its code (UNAUTHENTICATED for 401 and
// PERMISSION_DENIED for 403 when the body names none, as MLflow's auth app
// answers with a text body) and status; the decoded error, of kind
// mlerr.ErrRest, is the cause.
func refusedCredentials(e *mlerr.Error) error {
	status := e.HTTPStatus()
	if status != http.StatusUnauthorized && status != http.StatusForbidden {
		return e
	}
	what := "refused the credentials"
	if status == http.StatusForbidden {
		what = "refused the request: the credentials lack the permission"
	}
	return mlerr.New(e.Code(), fmt.Sprintf("mlflow: the tracking server %s (HTTP %d)", what, status)).
		WithKind(mlerr.ErrUnauthorized).WithHTTPStatus(status).WithRetryAfter(e.RetryAfter()).WithCause(e)
}

// maxDrain bounds what is read of an error body past the decoded part, so
// the connection may be reused without reading an endless body.
const maxDrain = 64 << 10
