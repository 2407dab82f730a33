package mlerr

import (
	"bytes"
	"io"
	"mime"
	"net/http"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/mlerr/mlerr/internal/jsonwire"
)

// Limits of the zero Decoder.
const (
	// defaultMaxBodyBytes is how much of an error response's body a Decoder
	// reads by default.
	defaultMaxBodyBytes = 1 << 20
	// defaultExcerptBytes bounds by default the message kept from a body
	// that is not JSON.
	defaultExcerptBytes = 512
	// maxDrainBytes is how much more than the body limit FromResponse reads
	// and discards before closing, so that the connection can be reused.
	maxDrainBytes = 64 << 10
)

// A Decoder turns HTTP error responses into *Error values. The zero value
// is ready to use and is what FromResponse uses: it reads at most 1 MiB of a
// body, keeps at most 512 bytes of a body that is not JSON as the message,
// and measures an HTTP-date Retry-After from time.Now.
type Decoder struct {
	// MaxBodyBytes is the most of a body read; 0 means 1 MiB (1 << 20).
	MaxBodyBytes int64
	// MaxExcerptBytes bounds the message taken from a body that is not JSON
	// (an HTML page from a proxy, say); 0 means 512.
	MaxExcerptBytes int
	// Now gives the time an HTTP-date Retry-After is measured from; nil
	// means time.Now.
	Now func() time.Time
}

// FromResponse returns nil when resp has a 2xx status, leaving its body
// untouched. Otherwise it reads at most 1 MiB of the body, discards at most
// 64 KiB more (an endless body costs bounded memory and time), closes the
// body and decodes the response as Decoder.DecodeError does. A failure to
// read the body is kept as the error's cause. A nil resp gives an INTERNAL_ERROR. It is
// Decoder{}.FromResponse: the one call an HTTP client needs.
func FromResponse(resp *http.Response) error { return Decoder{}.FromResponse(resp) }

// FromResponse is the package's FromResponse with d's limits and clock: it
// reads at most d's MaxBodyBytes of the body.
func (d Decoder) FromResponse(resp *http.Response) error {
	if resp == nil {
		return New(CodeInternalError, "mlerr: FromResponse: nil *http.Response").WithKind(ErrRest)
	}
	if statusClass(resp.StatusCode) == 2 {
		return nil
	}
	body, readErr := readBody(resp.Body, d.maxBody())
	e := d.DecodeError(resp.StatusCode, resp.Header, body)
	if readErr != nil {
		e.x.cause = readErr // e is DecodeError's own, not shared yet
	}
	return e
}

// readBody reads at most limit bytes of body, discards a bounded remainder
// so that the connection can be reused when little is left (an endless body
// is never read to its end), and closes body. A nil body is empty.
func readBody(body io.ReadCloser, limit int64) ([]byte, error) {
	if body == nil {
		return nil, nil
	}
	b, err := io.ReadAll(io.LimitReader(body, limit))
	if err == nil && int64(len(b)) == limit {
		_, _ = io.CopyN(io.Discard, body, maxDrainBytes)
	}
	_ = body.Close()
	return b, err
}

// DecodeError decodes an error response from its status, headers and body.
// It always returns an error, of kind ErrRest, that reports status as its
// HTTPStatus (a number outside 100-999 is no HTTP status and is ignored) and
// the header's Retry-After (seconds or an HTTP-date) as its RetryAfter.
//
// A JSON object body is read as MLflow JSON (see MarshalJSON for the rules
// on error_code), or as RFC 9457 problem+json when the Content-Type is
// application/problem+json. Any other body (an HTML error page from a
// proxy, plain text, a truncated document) gives the status's code and a
// message that is an excerpt of the body: tags of an HTML page removed,
// runs of white space and control characters made one space, invalid UTF-8
// replaced, at most MaxExcerptBytes long ("…" marks a cut). DecodeError
// never panics and keeps no reference to body.
//
// What it reads, body by body:
//
//	{"error_code":"RESOURCE_DOES_NOT_EXIST",   that code and message; other members kept as
//	 "message":"..."}                          details (compact raw JSON)
//	error_code 100-599, number or string       an HTTP status, mapped as MLflow maps it
//	  (404, "503")                             (ENDPOINT_NOT_FOUND, ...)
//	any other integer (3002, "1000")           a protobuf code number; an unknown one gives
//	                                           INTERNAL_ERROR, the number kept as Name()
//	an unknown name ("MODEL_BUSY")             INTERNAL_ERROR, the name kept verbatim as
//	                                           Name() (and written back as is)
//	error_code missing, null or ""             the status decides (CodeForHTTPStatus)
//	message null, a number, an object          "", or its JSON text
//	no message, a FastAPI-style detail         detail is the message
//	Content-Type application/problem+json      RFC 9457: detail is the message; type,
//	                                           title and instance are details
//	not JSON (an nginx 502 page, plain text,   the status decides; the message is the
//	  a cut document)                          excerpt described above
//	Retry-After: 120, or an HTTP-date          RetryAfter(); a past date gives 0
//
// The decoders are fuzzed and compared with encoding/json on every input
// (same documents accepted, same members read), and decoding what
// MarshalJSON or MarshalProblem wrote gives the error back: details whose
// names clash with a format's own members (message, status, ...) travel
// with one more leading '_'.
func (d Decoder) DecodeError(status int, header http.Header, body []byte) *Error {
	e := d.decodeBody(status, header.Get("Content-Type"), body)
	// e is the decoder's own: its extensions are not shared yet.
	e.x.kind = ErrRest
	if isHTTPStatus(status) {
		e.x.wire.status = status
	}
	if v := header.Get("Retry-After"); v != "" {
		e.x.wire.retryAfter, _ = parseRetryAfter(v, d.now())
	}
	return e
}

// decodeBody decodes a body as problem+json or MLflow JSON, as its
// Content-Type says; a body that is not a JSON object gives the status's code
// and an excerpt of the body.
func (d Decoder) decodeBody(status int, contentType string, body []byte) *Error {
	var e *Error
	if isProblemType(contentType) {
		e, _ = decodeProblem(body, status)
	} else {
		e, _ = decodeObject(body, false, status)
	}
	if e != nil {
		return e
	}
	e = newWireError()
	e.code, e.message = CodeForHTTPStatus(status), excerpt(body, contentType, d.maxExcerpt())
	return e
}

// isHTTPStatus reports whether n has the three digits of an HTTP status.
func isHTTPStatus(n int) bool { return n >= 100 && n <= 999 }

// statusClass is the first digit of an HTTP status: 2 for 2xx (success), 4
// for 4xx (the client's fault), 5 for 5xx (the server's).
func statusClass(status int) int { return status / 100 }

func (d Decoder) maxBody() int64 {
	if d.MaxBodyBytes > 0 {
		return d.MaxBodyBytes
	}
	return defaultMaxBodyBytes
}

func (d Decoder) maxExcerpt() int {
	if d.MaxExcerptBytes > 0 {
		return d.MaxExcerptBytes
	}
	return defaultExcerptBytes
}

func (d Decoder) now() time.Time {
	if d.Now != nil {
		return d.Now()
	}
	return time.Now()
}

// isProblemType reports whether a Content-Type is application/problem+json.
func isProblemType(contentType string) bool {
	if contentType == "" {
		return false
	}
	mt, _, err := mime.ParseMediaType(contentType)
	return err == nil && mt == problemMediaType
}

// maxRetryAfter caps a Retry-After delay so that it cannot overflow.
const maxRetryAfter = 1<<31 - 1 // seconds, about 68 years

// parseRetryAfter reads a Retry-After header value: a number of seconds, or
// an HTTP-date measured from now. A date in the past, or "0", gives 0 and
// true. A value that is neither (a negative number, garbage) gives 0 and
// false. Very large values are capped at about 68 years.
func parseRetryAfter(value string, now time.Time) (time.Duration, bool) {
	value = strings.TrimSpace(value)
	if value == "" {
		return 0, false
	}
	if isDigit(value[0]) {
		return parseDelaySeconds(value)
	}
	return parseDelayDate(value, now)
}

// parseDelayDate reads a Retry-After HTTP-date as the delay from now to it,
// 0 for a date in the past.
func parseDelayDate(value string, now time.Time) (time.Duration, bool) {
	t, err := http.ParseTime(value)
	if err != nil {
		return 0, false
	}
	return max(t.Sub(now), 0), true
}

// parseDelaySeconds reads a Retry-After number of seconds, capped at
// maxRetryAfter.
func parseDelaySeconds(value string) (time.Duration, bool) {
	var secs int64
	for i := 0; i < len(value); i++ {
		if !isDigit(value[i]) {
			return 0, false
		}
		if secs < maxRetryAfter {
			secs = secs*10 + int64(value[i]-'0')
		}
	}
	return time.Duration(min(secs, maxRetryAfter)) * time.Second, true
}

// excerpt returns a bounded, readable text from a body that is not JSON: the
// tags of an HTML page removed, each run of white space and control
// characters one space, invalid UTF-8 replaced, at most limit bytes ("…"
// marks a cut).
func excerpt(body []byte, contentType string, limit int) string {
	x := excerpter{out: make([]byte, 0, min(len(body), limit)+len("…")), limit: limit, html: looksHTML(body, contentType)}
	for i := 0; i < len(body); {
		n, fits := x.next(body[i:])
		if !fits {
			return string(append(x.out, "…"...))
		}
		i += n
	}
	return string(x.out)
}

// looksHTML reports whether the body is an HTML page: by its Content-Type,
// or without one, by its first byte.
func looksHTML(body []byte, contentType string) bool {
	if strings.Contains(contentType, "html") {
		return true
	}
	return contentType == "" && bytes.HasPrefix(jsonwire.TrimSpace(body), []byte("<"))
}

// decodeRune is utf8.DecodeRune with a fast path for ASCII.
func decodeRune(b []byte) (rune, int) {
	if b[0] < utf8.RuneSelf {
		return rune(b[0]), 1
	}
	return utf8.DecodeRune(b)
}

// excerpter builds an excerpt's text.
type excerpter struct {
	out   []byte
	limit int
	html  bool // the body is an HTML page: its tags are dropped
	inTag bool // within an HTML tag
	space bool // a separator is due before the next rune
}

// next takes what starts rest: a byte of an HTML tag, dropped, or a rune.
// It returns how many bytes it took, and false when the rune does not fit
// in the limit.
func (x *excerpter) next(rest []byte) (n int, fits bool) {
	if x.inHTMLTag(rest[0]) {
		return 1, true
	}
	r, size := decodeRune(rest)
	return size, x.add(r)
}

// inHTMLTag reports whether the byte c is part of an HTML tag, and follows
// the tags: a tag separates words.
func (x *excerpter) inHTMLTag(c byte) bool {
	if !x.html || !x.inTag && c != '<' {
		return false
	}
	x.inTag = c != '>'
	x.space = x.space || !x.inTag
	return true
}

// add appends r, or notes a separator when r is white space or a control
// character. It reports false when r does not fit in the limit.
func (x *excerpter) add(r rune) bool {
	if isExcerptSpace(r) {
		x.space = true
		return true
	}
	sep := x.separator()
	if len(x.out)+len(sep)+utf8.RuneLen(r) > x.limit {
		return false
	}
	x.out = append(x.out, sep...)
	x.space = false
	x.out = utf8.AppendRune(x.out, r)
	return true
}

// separator is the space due before the next rune: none at the start of
// the excerpt.
func (x *excerpter) separator() string {
	if x.space && len(x.out) > 0 {
		return " "
	}
	return ""
}

// isExcerptSpace reports whether r separates words in an excerpt: white
// space or a control character.
func isExcerptSpace(r rune) bool {
	switch r {
	case ' ', 0x7f, '\u00a0', '\u2028', '\u2029':
		return true
	}
	return r < 0x20
}
