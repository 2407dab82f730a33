package mlerr_test

import (
	"bytes"
	"encoding/json"
	"net/http"
	"runtime"
	"strings"
	"testing"
	"time"
	"unicode/utf8"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/mlerr/mlerr"
)

var fuzzBodies = []string{
	`{"error_code":"RESOURCE_DOES_NOT_EXIST","message":"Run with id=abc not found"}`,
	`{"error_code":404,"message":null,"x":[1,{"a":"b"}]}`,
	`{"error_code":"503","message":{"a" : 1}}`,
	`{"error_code":9999,"message":"\u00e9\ud800\"<>&"}`,
	`{"error_code":"FOO","_message":1,"message":"m","__detail":2,"detail":"d","status":"418"}`,
	`{"detail":[{"loc":["body"],"msg":"x"}]}`,
	`{"type":"about:blank","title":"T","status":409,"detail":"d","instance":"/i","error_code":true}`,
	`<html><head><title>502 Bad Gateway</title></head><body>nginx</body></html>`,
	"{\"message\":\"a\xffb\",\"k\xfe\":[\"\xff\"]}",
	`{"error_code":1e3,"message":-0.5e-3}`,
	`[[[[]]]]`, `{`, `{"a":`, `"str"`, ``, `null`,
}

// allocBound is a generous bound on what decoding a body may allocate.
func allocBound(n int) uint64 { return uint64(64*n + 256<<10) }

func allocated(f func()) uint64 {
	var before, after runtime.MemStats
	runtime.ReadMemStats(&before)
	f()
	runtime.ReadMemStats(&after)
	return after.TotalAlloc - before.TotalAlloc
}

// checkRoundTrip checks that e's two encodings are valid JSON and decode back
// to e.
func checkRoundTrip(t *testing.T, e *mlerr.Error) {
	t.Helper()
	require.True(t, utf8.ValidString(e.Message()), "message %q", e.Message())
	require.True(t, utf8.ValidString(e.Name()), "name %q", e.Name())

	j, err := e.MarshalJSON()
	require.NoError(t, err)
	require.True(t, json.Valid(j), "%s", j)
	var back mlerr.Error
	require.NoError(t, back.UnmarshalJSON(j), "%s", j)
	require.Equal(t, viewOf(e), viewOf(&back), "MLflow JSON %s", j)

	p, err := e.MarshalProblem()
	require.NoError(t, err)
	require.True(t, json.Valid(p), "%s", p)
	pe, err := parseProblem(p)
	require.NoError(t, err, "%s", p)
	require.Equal(t, viewOf(e), viewOf(pe), "problem %s", p)
	require.Equal(t, e.HTTPStatus(), pe.HTTPStatus(), "problem %s", p)
}

func FuzzDecodeError(f *testing.F) {
	for i, b := range fuzzBodies {
		ctype := []string{"", "application/json", "text/html", "application/problem+json"}[i%4]
		f.Add(400+i, ctype, "12", []byte(b))
	}
	f.Add(503, "", "Wed, 21 Oct 2015 07:28:00 GMT", []byte(""))
	f.Fuzz(func(t *testing.T, status int, ctype, retryAfter string, body []byte) {
		h := http.Header{}
		h.Set("Content-Type", ctype)
		h.Set("Retry-After", retryAfter)
		var e *mlerr.Error
		n := allocated(func() { e = mlerr.Decoder{}.DecodeError(status, h, body) })
		require.LessOrEqual(t, n, allocBound(len(body)), "allocated %d for %d bytes", n, len(body))
		require.NotNil(t, e)
		if status >= 100 && status <= 999 {
			require.Equal(t, status, e.HTTPStatus())
		}
		require.GreaterOrEqual(t, e.RetryAfter(), time.Duration(0))
		require.Same(t, mlerr.ErrRest, e.Kind())
		checkRoundTrip(t, e)

		// Decoding the MLflow JSON encoding as a response gives e again.
		j, _ := e.MarshalJSON()
		again := mlerr.Decoder{}.DecodeError(status, nil, j)
		require.Equal(t, viewOf(e), viewOf(again))
	})
}

func FuzzUnmarshalJSON(f *testing.F) {
	for _, b := range fuzzBodies {
		f.Add([]byte(b))
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		var e mlerr.Error
		var err error
		n := allocated(func() { err = e.UnmarshalJSON(data) })
		require.LessOrEqual(t, n, allocBound(len(data)))
		checkAgainstEncodingJSON(t, data, err == nil && !isNull(data), false)
		if err != nil {
			require.Equal(t, mlerr.CodeMalformedRequest, mlerr.CodeOf(err))
			return
		}
		if isNull(data) {
			return
		}
		checkRoundTrip(t, &e)
		checkMembers(t, data, &e, false)
	})
}

func FuzzUnmarshalProblem(f *testing.F) {
	for _, b := range fuzzBodies {
		f.Add([]byte(b))
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		var e *mlerr.Error
		var err error
		n := allocated(func() { e, err = parseProblem(data) })
		require.LessOrEqual(t, n, allocBound(len(data)))
		checkAgainstEncodingJSON(t, data, err == nil, true)
		if err != nil {
			require.Nil(t, e)
			require.Equal(t, mlerr.CodeMalformedRequest, mlerr.CodeOf(err))
			return
		}
		checkRoundTrip(t, e)
		checkMembers(t, data, e, true)
	})
}

func FuzzMarshalJSON(f *testing.F) {
	f.Add(3002, "Run 42 not found", "stack", "a\nb")
	f.Add(1, "\xff<\u2028>&\x00", "message", "x")
	f.Add(7, "", "_status", "\xfe")
	f.Add(9999, "m", "k\xff", "v")
	f.Fuzz(func(t *testing.T, n int, msg, key, value string) {
		codes := mlerr.Codes()
		code := codes[uint(n)%uint(len(codes))]
		e := mlerr.New(code, msg).WithDetail(key, value)
		j, err := e.MarshalJSON()
		require.NoError(t, err)

		// Byte for byte what encoding/json writes for the same data.
		var want bytes.Buffer
		want.WriteString(`{"error_code":"` + code.String() + `","message":`)
		m, _ := json.Marshal(msg)
		want.Write(m)
		want.WriteString("}")
		std, _ := json.Marshal(mlerr.New(code, msg))
		require.Equal(t, want.String(), string(std))

		var got map[string]any
		require.NoError(t, json.Unmarshal(j, &got), "%s", j)
		var wantMsg string
		require.NoError(t, json.Unmarshal(m, &wantMsg))
		require.Equal(t, wantMsg, got["message"])

		// decode(encode(e)) == e, up to invalid UTF-8 in the strings.
		want2 := viewOf(e)
		want2.Message = validUTF8(msg)
		want2.Details = map[string]string{validUTF8(key): want2.Details[key]}
		var back mlerr.Error
		require.NoError(t, back.UnmarshalJSON(j))
		require.Equal(t, want2, viewOf(&back), "%s", j)
	})
}

// validUTF8 replaces each byte of invalid UTF-8 with U+FFFD, as encoding/json
// does.
func validUTF8(s string) string {
	var b strings.Builder
	for i := 0; i < len(s); {
		r, size := utf8.DecodeRuneInString(s[i:])
		b.WriteRune(r)
		i += size
	}
	return b.String()
}

func isNull(data []byte) bool { return string(bytes.TrimSpace(data)) == "null" }

// checkAgainstEncodingJSON checks that the decoder accepts exactly the JSON
// objects encoding/json accepts (objects nested deeper than the decoder's
// bound excepted).
func checkAgainstEncodingJSON(t *testing.T, data []byte, accepted, problem bool) {
	t.Helper()
	var obj map[string]json.RawMessage
	stdOK := json.Unmarshal(data, &obj) == nil && obj != nil
	if accepted {
		require.True(t, stdOK, "accepted what encoding/json rejects: %q", data)
		return
	}
	if stdOK && nesting(data) <= 1000 {
		t.Fatalf("rejected a JSON object encoding/json accepts: %q", data)
	}
}

func nesting(data []byte) int {
	depth, deepest := 0, 0
	for _, c := range data {
		switch c {
		case '[', '{':
			depth++
			deepest = max(deepest, depth)
		case ']', '}':
			depth--
		}
	}
	return deepest
}

// checkMembers compares the decoded error with what encoding/json reads
// from the same document.
func checkMembers(t *testing.T, data []byte, e *mlerr.Error, problem bool) {
	t.Helper()
	var obj map[string]json.RawMessage
	require.NoError(t, json.Unmarshal(data, &obj))
	msgKey := "message"
	if problem {
		msgKey = "detail"
	}
	if _, ok := obj[msgKey]; !ok && !problem {
		if _, ok := obj["detail"]; ok {
			msgKey = "detail"
		}
	}
	want := map[string]string{}
	for k, v := range obj {
		switch {
		case k == "error_code", k == msgKey, problem && k == "status":
			continue
		case strings.TrimLeft(k, "_") != k && isReserved(strings.TrimLeft(k, "_"), problem):
			k = k[1:]
		}
		var c bytes.Buffer
		require.NoError(t, json.Compact(&c, v))
		want[k] = c.String()
	}
	got := viewOf(e).Details
	if got == nil {
		got = map[string]string{}
	}
	require.Equal(t, want, got, "%q", data)

	if raw, ok := obj[msgKey]; ok {
		var s string
		if json.Unmarshal(raw, &s) == nil && raw[0] == '"' {
			assert.Equal(t, s, e.Message())
		}
	}
	if raw, ok := obj["error_code"]; ok {
		var s string
		if json.Unmarshal(raw, &s) == nil && raw[0] == '"' {
			if c, err := mlerr.ParseCode(s); err == nil && c != 0 {
				assert.Equal(t, c, e.Code())
			}
		}
	}
}

func isReserved(k string, problem bool) bool {
	if problem {
		return k == "error_code" || k == "status" || k == "detail"
	}
	return k == "error_code" || k == "message"
}
