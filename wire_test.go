package mlerr_test

import (
	"encoding/json"
	"errors"
	"net/http"
	"strings"
	"testing"
	"time"
	"unicode/utf8"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/mlerr/mlerr"
)

// view is everything an *Error carries that the wire formats can carry,
// for comparing decoded errors.
type view struct {
	Code    mlerr.Code
	Name    string
	Message string
	Details map[string]string
}

// The zero Decoder's limits, as its doc states them.
const (
	defaultExcerptBytes = 512
	defaultMaxBodyBytes = 1 << 20
)

// parseProblem decodes problem+json into a new *Error: nil and the error
// when UnmarshalProblem fails.
func parseProblem(data []byte) (*mlerr.Error, error) {
	e := new(mlerr.Error)
	if err := e.UnmarshalProblem(data); err != nil {
		return nil, err
	}
	return e, nil
}

func viewOf(e *mlerr.Error) view {
	v := view{Code: e.Code(), Name: e.Name(), Message: e.Message()}
	if len(e.Details()) > 0 {
		v.Details = make(map[string]string, len(e.Details()))
		for k, raw := range e.Details() {
			v.Details[k] = string(raw)
		}
	}
	return v
}

func TestDecodeErrorBody(t *testing.T) {
	const html502 = "<html>\r\n<head><title>502 Bad Gateway</title></head>\r\n<body>\r\n<center><h1>502 Bad Gateway</h1></center>\r\n<hr><center>nginx/1.25.3</center>\r\n</body>\r\n</html>\r\n"
	tests := []struct {
		name   string
		status int
		ctype  string
		body   string
		want   view
	}{
		{"mlflow", 404, "application/json",
			`{"error_code": "RESOURCE_DOES_NOT_EXIST", "message": "Run with id=abc not found"}`,
			view{mlerr.CodeResourceDoesNotExist, "RESOURCE_DOES_NOT_EXIST", "Run with id=abc not found", nil}},
		{"details kept compact", 400, "",
			`{"error_code":"INVALID_PARAMETER_VALUE","message":"bad","stack_trace": "a\nb", "related" : [ 1, {"x" : true} ] }`,
			view{mlerr.CodeInvalidParameterValue, "INVALID_PARAMETER_VALUE", "bad",
				map[string]string{"stack_trace": `"a\nb"`, "related": `[1,{"x":true}]`}}},
		{"code as HTTP status number", 500, "", `{"error_code":404,"message":"m"}`,
			view{mlerr.CodeEndpointNotFound, "ENDPOINT_NOT_FOUND", "m", nil}},
		{"code as HTTP status string", 500, "", `{"error_code":"429","message":"m"}`,
			view{mlerr.CodeResourceExhausted, "RESOURCE_EXHAUSTED", "m", nil}},
		{"unmapped HTTP status", 400, "", `{"error_code":418,"message":"m"}`,
			view{mlerr.CodeInternalError, "INTERNAL_ERROR", "m", nil}},
		{"protobuf number", 500, "", `{"error_code":3002,"message":"m"}`,
			view{mlerr.CodeResourceDoesNotExist, "RESOURCE_DOES_NOT_EXIST", "m", nil}},
		{"protobuf number as string", 500, "", `{"error_code":"1000","message":"m"}`,
			view{mlerr.CodeInvalidParameterValue, "INVALID_PARAMETER_VALUE", "m", nil}},
		{"unknown protobuf number kept", 400, "", `{"error_code":9999,"message":"m"}`,
			view{mlerr.CodeInternalError, "9999", "m", nil}},
		{"negative number kept", 400, "", `{"error_code":-3,"message":"m"}`,
			view{mlerr.CodeInternalError, "-3", "m", nil}},
		{"fractional number kept", 400, "", `{"error_code":404.0,"message":"m"}`,
			view{mlerr.CodeInternalError, "404.0", "m", nil}},
		{"huge number kept", 400, "", `{"error_code":123456789012345678901234567890}`,
			view{mlerr.CodeInternalError, "123456789012345678901234567890", "", nil}},
		{"unknown name kept", 503, "", `{"error_code":"MODEL_BUSY","message":"m"}`,
			view{mlerr.CodeInternalError, "MODEL_BUSY", "m", nil}},
		{"OK is no error code", 503, "", `{"error_code":"OK"}`,
			view{mlerr.CodeInternalError, "OK", "", nil}},
		{"bool code kept as text", 503, "", `{"error_code":true}`,
			view{mlerr.CodeInternalError, "true", "", nil}},
		{"object code kept compact", 503, "", `{"error_code":{ "a" : 1 }}`,
			view{mlerr.CodeInternalError, `{"a":1}`, "", nil}},
		{"null code: status decides", 503, "", `{"error_code":null,"message":"busy"}`,
			view{mlerr.CodeTemporarilyUnavailable, "TEMPORARILY_UNAVAILABLE", "busy", nil}},
		{"empty code: status decides", 409, "", `{"error_code":"","message":"dup"}`,
			view{mlerr.CodeAlreadyExists, "ALREADY_EXISTS", "dup", nil}},
		{"missing code: status decides", 401, "", `{"message":"who are you"}`,
			view{mlerr.CodeUnauthenticated, "UNAUTHENTICATED", "who are you", nil}},
		{"null message", 400, "", `{"error_code":"BAD_REQUEST","message":null}`,
			view{mlerr.CodeBadRequest, "BAD_REQUEST", "", nil}},
		{"number message", 400, "", `{"error_code":"BAD_REQUEST","message":42}`,
			view{mlerr.CodeBadRequest, "BAD_REQUEST", "42", nil}},
		{"object message", 400, "", `{"error_code":"BAD_REQUEST","message":{"why": [1, 2]}}`,
			view{mlerr.CodeBadRequest, "BAD_REQUEST", `{"why":[1,2]}`, nil}},
		{"escapes in strings", 400, "", `{"error_code":"BAD_REQUEST","message":"a\"\\\/\b\f\n\r\t\u00e9\ud83d\ude00\ud800z"}`,
			view{mlerr.CodeBadRequest, "BAD_REQUEST", "a\"\\/\b\f\n\r\t\u00e9\U0001F600\uFFFDz", nil}},
		{"invalid UTF-8 replaced", 400, "", "{\"error_code\":\"BAD_REQUEST\",\"message\":\"a\xffb\"}",
			view{mlerr.CodeBadRequest, "BAD_REQUEST", "a\uFFFDb", nil}},
		{"escaped key", 400, "", `{"error\u005fcode":"BAD_REQUEST","m\u00e9":1}`,
			view{mlerr.CodeBadRequest, "BAD_REQUEST", "", map[string]string{"mé": "1"}}},
		{"repeated member: last wins", 400, "", `{"error_code":"A","error_code":"BAD_REQUEST","x":1,"x":2}`,
			view{mlerr.CodeBadRequest, "BAD_REQUEST", "", map[string]string{"x": "2"}}},
		{"FastAPI detail is the message", 404, "", `{"detail":"Not Found"}`,
			view{mlerr.CodeEndpointNotFound, "ENDPOINT_NOT_FOUND", "Not Found", nil}},
		{"FastAPI validation detail", 422, "", `{"detail":[{"loc":["body"],"msg":"field required"}]}`,
			view{mlerr.CodeInternalError, "INTERNAL_ERROR", `[{"loc":["body"],"msg":"field required"}]`, nil}},
		{"detail beside message stays a detail", 400, "", `{"error_code":"BAD_REQUEST","message":"m","detail":"d"}`,
			view{mlerr.CodeBadRequest, "BAD_REQUEST", "m", map[string]string{"detail": `"d"`}}},
		{"escaped reserved detail keys", 400, "", `{"error_code":"BAD_REQUEST","message":"m","_message":1,"__error_code":2,"_x":3}`,
			view{mlerr.CodeBadRequest, "BAD_REQUEST", "m", map[string]string{"message": "1", "_error_code": "2", "_x": "3"}}},
		{"empty object", 502, "", `{}`,
			view{mlerr.CodeInternalError, "INTERNAL_ERROR", "", nil}},
		{"html page", 502, "text/html", html502,
			view{mlerr.CodeInternalError, "INTERNAL_ERROR", "502 Bad Gateway 502 Bad Gateway nginx/1.25.3", nil}},
		{"html without content type", 504, "", html502,
			view{mlerr.CodeDeadlineExceeded, "DEADLINE_EXCEEDED", "502 Bad Gateway 502 Bad Gateway nginx/1.25.3", nil}},
		{"plain text keeps angle brackets", 403, "text/plain", "Invalid Host header <evil>\n",
			view{mlerr.CodePermissionDenied, "PERMISSION_DENIED", "Invalid Host header <evil>", nil}},
		{"truncated JSON is text", 500, "application/json", `{"error_code":"INTERNAL_ERROR","mess`,
			view{mlerr.CodeInternalError, "INTERNAL_ERROR", `{"error_code":"INTERNAL_ERROR","mess`, nil}},
		{"JSON that is not an object", 500, "application/json", `["a"]`,
			view{mlerr.CodeInternalError, "INTERNAL_ERROR", `["a"]`, nil}},
		{"trailing garbage", 400, "", `{"error_code":"BAD_REQUEST"} x`,
			view{mlerr.CodeBadRequest, "BAD_REQUEST", `{"error_code":"BAD_REQUEST"} x`, nil}},
		{"trailing comma", 400, "", `{"error_code":"BAD_REQUEST",}`,
			view{mlerr.CodeBadRequest, "BAD_REQUEST", `{"error_code":"BAD_REQUEST",}`, nil}},
		{"raw control character in string", 400, "", "{\"message\":\"a\x01b\"}",
			view{mlerr.CodeBadRequest, "BAD_REQUEST", `{"message":"a b"}`, nil}},
		{"bad escape", 400, "", `{"message":"\x"}`,
			view{mlerr.CodeBadRequest, "BAD_REQUEST", `{"message":"\x"}`, nil}},
		{"bad number in detail", 400, "", `{"message":"m","n":01}`,
			view{mlerr.CodeBadRequest, "BAD_REQUEST", `{"message":"m","n":01}`, nil}},
		{"empty body", 503, "", ``,
			view{mlerr.CodeTemporarilyUnavailable, "TEMPORARILY_UNAVAILABLE", "", nil}},
		{"problem+json", 404, "application/problem+json; charset=utf-8",
			`{"type":"https://example.com/probs/no-run","title":"No such run","status":404,"detail":"Run 42 not found","instance":"/runs/42"}`,
			view{mlerr.CodeEndpointNotFound, "ENDPOINT_NOT_FOUND", "Run 42 not found", map[string]string{
				"type": `"https://example.com/probs/no-run"`, "title": `"No such run"`, "instance": `"/runs/42"`}}},
		{"problem+json with error_code", 404, "application/problem+json",
			`{"status":404,"detail":"Run 42 not found","error_code":"RESOURCE_DOES_NOT_EXIST","message":"kept"}`,
			view{mlerr.CodeResourceDoesNotExist, "RESOURCE_DOES_NOT_EXIST", "Run 42 not found", map[string]string{"message": `"kept"`}}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			h := http.Header{}
			if tt.ctype != "" {
				h.Set("Content-Type", tt.ctype)
			}
			body := []byte(tt.body)
			e := mlerr.Decoder{}.DecodeError(tt.status, h, body)
			require.NotNil(t, e)
			assert.Equal(t, tt.want, viewOf(e))
			assert.Equal(t, tt.status, e.HTTPStatus(), "observed status kept")
			assert.Same(t, mlerr.ErrRest, e.Kind())
			assert.ErrorIs(t, e, mlerr.ErrRest)
			assert.ErrorIs(t, e, tt.want.Code)

			// The decoded error survives its own encodings.
			j, err := e.MarshalJSON()
			require.NoError(t, err)
			require.True(t, json.Valid(j), "%s", j)
			assert.Equal(t, tt.want, viewOf(mlerr.Decoder{}.DecodeError(tt.status, nil, j)), "MLflow JSON round trip: %s", j)
			p, err := e.MarshalProblem()
			require.NoError(t, err)
			require.True(t, json.Valid(p), "%s", p)
			pe, err := parseProblem(p)
			require.NoError(t, err)
			assert.Equal(t, tt.want, viewOf(pe), "problem round trip: %s", p)
			assert.Equal(t, e.HTTPStatus(), pe.HTTPStatus())
		})
	}
}

func TestDecodeErrorDoesNotKeepBody(t *testing.T) {
	body := []byte(`{"error_code":"BAD_REQUEST","message":"abc","d":{"k":"v"}}`)
	e := mlerr.Decoder{}.DecodeError(400, nil, body)
	for i := range body {
		body[i] = 'x'
	}
	assert.Equal(t, "abc", e.Message())
	assert.JSONEq(t, `{"k":"v"}`, string(e.Details()["d"]))
}

func TestDecodeErrorNesting(t *testing.T) {
	deep := func(n int) string {
		return `{"error_code":"BAD_REQUEST","d":` + strings.Repeat("[", n) + strings.Repeat("]", n) + `}`
	}
	e := mlerr.Decoder{}.DecodeError(400, nil, []byte(deep(999)))
	assert.Equal(t, "", e.Message(), "999 levels are accepted")
	assert.Len(t, e.Details()["d"], 2*999)

	e = mlerr.Decoder{}.DecodeError(400, nil, []byte(deep(100000)))
	assert.Equal(t, mlerr.CodeBadRequest, e.Code(), "too deep: not JSON, the status decides")
	assert.LessOrEqual(t, len(e.Message()), defaultExcerptBytes+len("…"))
}

func TestExcerptBounded(t *testing.T) {
	body := "<html><body>" + strings.Repeat("é  \t\n", 1000) + "</body></html>"
	e := mlerr.Decoder{}.DecodeError(502, http.Header{"Content-Type": {"text/html"}}, []byte(body))
	msg := e.Message()
	assert.True(t, utf8.ValidString(msg))
	assert.True(t, strings.HasSuffix(msg, "…"), msg)
	assert.LessOrEqual(t, len(msg), defaultExcerptBytes+len("…"))
	assert.NotContains(t, msg, "  ")
	assert.True(t, strings.HasPrefix(msg, "é é é"), msg)

	d := mlerr.Decoder{MaxExcerptBytes: 8}
	e = d.DecodeError(500, nil, []byte("abc\xffdefghijklmnop"))
	assert.Equal(t, "abc\uFFFDde…", e.Message())
}

func TestRetryAfterHeader(t *testing.T) {
	now := time.Date(2025, 3, 1, 12, 0, 0, 0, time.UTC)
	d := mlerr.Decoder{Now: func() time.Time { return now }}
	tests := []struct {
		value string
		want  time.Duration
	}{
		{"", 0},
		{"0", 0},
		{"120", 120 * time.Second},
		{" 7 ", 7 * time.Second},
		{"-5", 0},
		{"1.5", 0},
		{"soon", 0},
		{"99999999999999999999999", (1<<31 - 1) * time.Second},
		{now.Add(90 * time.Second).Format(http.TimeFormat), 90 * time.Second},
		{now.Add(-time.Hour).Format(http.TimeFormat), 0},
		{"Saturday, 01-Mar-25 12:00:30 GMT", 30 * time.Second}, // RFC 850
		{"Sat Mar  1 12:01:00 2025", time.Minute},              // asctime
	}
	for _, tt := range tests {
		t.Run(tt.value, func(t *testing.T) {
			h := http.Header{}
			if tt.value != "" {
				h.Set("Retry-After", tt.value)
			}
			assert.Equal(t, tt.want, d.DecodeError(503, h, nil).RetryAfter())
		})
	}
}

func TestMarshalJSON(t *testing.T) {
	tests := []struct {
		name string
		err  *mlerr.Error
		want string
	}{
		{"plain", mlerr.New(mlerr.CodeResourceDoesNotExist, "Run 42 not found"),
			`{"error_code":"RESOURCE_DOES_NOT_EXIST","message":"Run 42 not found"}`},
		{"empty message", mlerr.New(mlerr.CodeBadRequest, ""),
			`{"error_code":"BAD_REQUEST","message":""}`},
		{"escaping as encoding/json", mlerr.New(mlerr.CodeBadRequest, "q\"\\<a&b>\n\t\x01\x7f\u2028\xff é"),
			`{"error_code":"BAD_REQUEST","message":"q\"\\\u003ca\u0026b\u003e\n\t\u0001` + "\x7f" + `\u2028\ufffd é"}`},
		{"details sorted", mlerr.New(mlerr.CodeBadRequest, "m").WithDetail("z", 1).WithDetail("a", []int{1, 2}),
			`{"error_code":"BAD_REQUEST","message":"m","a":[1,2],"z":1}`},
		{"reserved detail keys escaped", mlerr.New(mlerr.CodeBadRequest, "m").WithDetail("message", "x").WithDetail("_error_code", 1).WithDetail("status", 2),
			`{"error_code":"BAD_REQUEST","message":"m","__error_code":1,"_message":"x","status":2}`},
		{"unknown code as number", mlerr.New(mlerr.Code(7777), "m"),
			`{"error_code":7777,"message":"m"}`},
		{"zero code", mlerr.New(0, "m"),
			`{"error_code":"OK","message":"m"}`},
		{"cause and status not on the body", mlerr.Wrap(errors.New("io"), mlerr.CodeIOError, "read").(*mlerr.Error).WithHTTPStatus(502).WithRetryAfter(time.Second),
			`{"error_code":"IO_ERROR","message":"read"}`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := tt.err.MarshalJSON()
			require.NoError(t, err)
			assert.Equal(t, tt.want, string(got))
			// encoding/json calls MarshalJSON and finds it valid.
			viaStd, err := json.Marshal(tt.err)
			require.NoError(t, err)
			assert.Equal(t, tt.want, string(viaStd))
		})
	}
	var nilErr *mlerr.Error
	got, err := nilErr.MarshalJSON()
	require.NoError(t, err)
	assert.Equal(t, "null", string(got))
}

// TestMarshalJSONMatchesEncodingJSON checks the hand-written escaping against
// encoding/json on awkward strings.
func TestMarshalJSONMatchesEncodingJSON(t *testing.T) {
	type std struct {
		ErrorCode string `json:"error_code"`
		Message   string `json:"message"`
	}
	for _, msg := range []string{"", "plain", "\x00\x1f\"\\/<>&'", "\u2028\u2029\u00e9\U0001F600",
		"\xed\xa0\x80", "\xf4\x90\x80\x80", "a\xc3", "\xc3(", strings.Repeat("é<", 100)} {
		want, err := json.Marshal(std{"BAD_REQUEST", msg})
		require.NoError(t, err)
		got, err := mlerr.New(mlerr.CodeBadRequest, msg).MarshalJSON()
		require.NoError(t, err)
		assert.Equal(t, string(want), string(got), "%q", msg)
	}
}

func TestUnmarshalJSON(t *testing.T) {
	var e mlerr.Error
	require.NoError(t, json.Unmarshal([]byte(`{"error_code":"RESOURCE_DOES_NOT_EXIST","message":"gone","x":{"y":null}}`), &e))
	assert.Equal(t, view{mlerr.CodeResourceDoesNotExist, "RESOURCE_DOES_NOT_EXIST", "gone", map[string]string{"x": `{"y":null}`}}, viewOf(&e))
	assert.Nil(t, e.Kind())
	assert.Equal(t, 404, e.HTTPStatus())

	// null leaves e unchanged.
	require.NoError(t, json.Unmarshal([]byte(`null`), &e))
	assert.Equal(t, "gone", e.Message())

	// Not an object: a typed error, e unchanged.
	for _, bad := range []string{`[]`, `"x"`, `{"a":}`, `{`} {
		err := e.UnmarshalJSON([]byte(bad))
		require.Error(t, err, bad)
		assert.Equal(t, mlerr.CodeMalformedRequest, mlerr.CodeOf(err), bad)
		assert.Equal(t, "gone", e.Message())
	}

	// As a field, through encoding/json both ways.
	type envelope struct {
		Err *mlerr.Error `json:"err"`
	}
	in := envelope{mlerr.New(mlerr.CodeInvalidParameterValue, "bad <x>").WithDetail("field", "x")}
	b, err := json.Marshal(in)
	require.NoError(t, err)
	var out envelope
	require.NoError(t, json.Unmarshal(b, &out))
	assert.Equal(t, viewOf(in.Err), viewOf(out.Err))
}

func TestUnmarshalProblem(t *testing.T) {
	e := *mlerr.Wrap(errors.New("io"), mlerr.CodeIOError, "before").(*mlerr.Error).WithRetryAfter(time.Second)
	require.NoError(t, e.UnmarshalProblem([]byte(`{"type":"about:blank","status":418,"detail":"gone","error_code":"RESOURCE_DOES_NOT_EXIST","x":1}`)))
	assert.Equal(t, view{mlerr.CodeResourceDoesNotExist, "RESOURCE_DOES_NOT_EXIST", "gone", map[string]string{"type": `"about:blank"`, "x": "1"}}, viewOf(&e))
	assert.Equal(t, 418, e.HTTPStatus(), "a status member other than the code's is kept")
	assert.Nil(t, e.Kind())
	assert.Nil(t, errors.Unwrap(&e), "the cause is replaced too")
	assert.Zero(t, e.RetryAfter())

	// Not an object (null included): a typed error, e unchanged.
	for _, bad := range []string{`null`, `[]`, `"x"`, `{"a":}`, `{`, ``} {
		err := e.UnmarshalProblem([]byte(bad))
		require.Error(t, err, bad)
		assert.Equal(t, mlerr.CodeMalformedRequest, mlerr.CodeOf(err), bad)
		assert.Equal(t, "gone", e.Message(), bad)
	}
}

func TestDecoderDefaults(t *testing.T) {
	// The zero Decoder keeps 512 bytes of a body that is not JSON, as its doc says.
	e := mlerr.Decoder{}.DecodeError(502, nil, []byte(strings.Repeat("x", 2000)))
	assert.Equal(t, strings.Repeat("x", defaultExcerptBytes)+"…", e.Message())
	e = mlerr.Decoder{}.DecodeError(502, nil, []byte(strings.Repeat("x", defaultExcerptBytes)))
	assert.Equal(t, strings.Repeat("x", defaultExcerptBytes), e.Message(), "512 bytes fit")
}

func TestRoundTripConstructed(t *testing.T) {
	errs := []*mlerr.Error{
		mlerr.New(mlerr.CodeResourceDoesNotExist, "Run 42 not found"),
		mlerr.New(mlerr.CodeBadRequest, "").WithDetail("message", "m").WithDetail("_message", 1).WithDetail("__message", 2),
		mlerr.New(mlerr.CodeBadRequest, "x").WithDetail("detail", "d").WithDetail("status", 7).WithDetail("error_code", "E"),
		mlerr.New(mlerr.CodeInternalError, "\u2028<&>").WithDetail("type", "https://x/t").WithDetail("title", "T").WithDetail("instance", "/i"),
		mlerr.New(mlerr.CodeTemporarilyUnavailable, "busy").WithHTTPStatus(502),
		mlerr.InvalidParameterValue("bad %q", "v").WithDetail("", "empty key").WithDetail("_", "u"),
	}
	for _, e := range errs {
		j, err := e.MarshalJSON()
		require.NoError(t, err)
		var back mlerr.Error
		require.NoError(t, json.Unmarshal(j, &back), "%s", j)
		assert.Equal(t, viewOf(e), viewOf(&back), "%s", j)

		p, err := e.MarshalProblem()
		require.NoError(t, err)
		pe, err := parseProblem(p)
		require.NoError(t, err, "%s", p)
		assert.Equal(t, viewOf(e), viewOf(pe), "%s", p)
		assert.Equal(t, e.HTTPStatus(), pe.HTTPStatus(), "%s", p)
	}
}

func TestDecodeAllocations(t *testing.T) {
	// What decoding costs: the *Error with its wire extension, one block for
	// all the strings, and with details one block for their values and the
	// map (two allocations for two entries).
	tests := []struct {
		body   string
		allocs float64
	}{
		{`{"error_code": "RESOURCE_DOES_NOT_EXIST", "message": "Run 42 not found"}`, 2},
		{`{"error_code": "INVALID_PARAMETER_VALUE", "message": "too long", "key": "lr", "limit": 6000}`, 5},
	}
	for _, tt := range tests {
		body := []byte(tt.body)
		got := testing.AllocsPerRun(100, func() {
			var e mlerr.Error
			_ = e.UnmarshalJSON(body)
		})
		assert.Equal(t, tt.allocs, got, tt.body)
	}
}

func TestEncodeAllocatesOnce(t *testing.T) {
	errs := []*mlerr.Error{
		mlerr.New(mlerr.CodeResourceDoesNotExist, "Run 42 not found"),
		mlerr.New(mlerr.CodeBadRequest, "é<>\xff").WithDetail("a", 1).WithDetail("message", "x").WithDetail("type", "t"),
		mlerr.New(mlerr.Code(7777), "m").WithHTTPStatus(502),
	}
	for _, e := range errs {
		assert.Equal(t, 1.0, testing.AllocsPerRun(100, func() { _, _ = e.MarshalJSON() }), e.Error())
		assert.Equal(t, 1.0, testing.AllocsPerRun(100, func() { _, _ = e.MarshalProblem() }), e.Error())
		j, _ := e.MarshalJSON()
		assert.Equal(t, len(j), cap(j), "exact size")
		p, _ := e.MarshalProblem()
		assert.Equal(t, len(p), cap(p), "exact size")
	}
}
