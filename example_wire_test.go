package mlerr_test

import (
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"time"

	"github.com/mlerr/mlerr"
)

// FromResponse turns an MLflow error response into an *Error; a 2xx
// response gives nil.
func ExampleFromResponse() {
	resp := &http.Response{
		StatusCode: http.StatusTooManyRequests,
		Header:     http.Header{"Content-Type": {"application/json"}, "Retry-After": {"5"}},
		Body:       io.NopCloser(strings.NewReader(`{"error_code": "REQUEST_LIMIT_EXCEEDED", "message": "Too many requests", "limit": 100}`)),
	}
	err := mlerr.FromResponse(resp)

	var e *mlerr.Error
	if errors.As(err, &e) {
		var limit int
		e.Detail("limit", &limit)
		fmt.Println(e.Code(), e.HTTPStatus(), e.RetryAfter(), limit)
		fmt.Println(e.Message())
		fmt.Println(errors.Is(err, mlerr.ErrRest))
	}
	// Output:
	// REQUEST_LIMIT_EXCEEDED 429 5s 100
	// Too many requests
	// true
}

// A proxy's HTML error page, an HTTP status or a protobuf number as the
// error_code, an unknown name: a Decoder reads them all.
func ExampleDecoder_DecodeError() {
	html := http.Header{"Content-Type": {"text/html"}}
	for _, r := range []struct {
		status int
		header http.Header
		body   string
	}{
		{502, html, "<html><head><title>502 Bad Gateway</title></head><body><h1>502 Bad Gateway</h1></body></html>"},
		{500, nil, `{"error_code": 404, "message": "no such endpoint"}`},
		{500, nil, `{"error_code": 3002, "message": null}`},
		{400, nil, `{"error_code": "SOMETHING_NEW", "message": "from a newer server"}`},
		{503, nil, `{"message": "no code: the status decides"}`},
	} {
		e := mlerr.Decoder{}.DecodeError(r.status, r.header, []byte(r.body))
		fmt.Printf("%s | %s | %q\n", e.Code(), e.Name(), e.Message())
	}
	// Output:
	// INTERNAL_ERROR | INTERNAL_ERROR | "502 Bad Gateway 502 Bad Gateway"
	// ENDPOINT_NOT_FOUND | ENDPOINT_NOT_FOUND | "no such endpoint"
	// RESOURCE_DOES_NOT_EXIST | RESOURCE_DOES_NOT_EXIST | ""
	// INTERNAL_ERROR | SOMETHING_NEW | "from a newer server"
	// TEMPORARILY_UNAVAILABLE | TEMPORARILY_UNAVAILABLE | "no code: the status decides"
}

// WriteError answers MLflow JSON, or problem+json when the client asks for
// it.
func ExampleWriteError() {
	err := fmt.Errorf("get run: %w", mlerr.New(mlerr.CodeResourceDoesNotExist, "Run with id=abc not found"))

	for _, accept := range []string{"", "application/problem+json"} {
		r := httptest.NewRequest(http.MethodGet, "/api/2.0/mlflow/runs/get?run_id=abc", nil)
		if accept != "" {
			r.Header.Set("Accept", accept)
		}
		w := httptest.NewRecorder()
		mlerr.WriteError(w, r, err)
		fmt.Println(w.Code, w.Header().Get("Content-Type"))
		fmt.Println(w.Body.String())
	}
	// Output:
	// 404 application/json
	// {"error_code":"RESOURCE_DOES_NOT_EXIST","message":"Run with id=abc not found"}
	// 404 application/problem+json
	// {"status":404,"detail":"Run with id=abc not found","error_code":"RESOURCE_DOES_NOT_EXIST"}
}

// Problem details (RFC 9457) carry the code and details as extension
// members; type, title and instance are details of those names.
// UnmarshalProblem reads them back.
func ExampleError_MarshalProblem() {
	e := mlerr.New(mlerr.CodeRequestLimitExceeded, "Too many requests").
		WithDetail("type", "https://example.com/problems/rate-limit").
		WithDetail("instance", "/api/2.0/mlflow/runs/log-batch").
		WithDetail("limit", 100).
		WithRetryAfter(2 * time.Second)

	b, _ := e.MarshalProblem()
	fmt.Println(string(b))

	var back mlerr.Error
	_ = back.UnmarshalProblem(b)
	fmt.Println(back.Code(), back.Message(), len(back.Details()))
	// Output:
	// {"type":"https://example.com/problems/rate-limit","status":429,"detail":"Too many requests","instance":"/api/2.0/mlflow/runs/log-batch","error_code":"REQUEST_LIMIT_EXCEEDED","limit":100}
	// REQUEST_LIMIT_EXCEEDED Too many requests 3
}

// MarshalJSON writes MLflow's error body; UnmarshalJSON reads it back.
func ExampleError_MarshalJSON() {
	e := mlerr.InvalidParameterValue("Invalid metric name: %q", "loss/<val>").WithDetail("max_length", 250)
	b, _ := e.MarshalJSON()
	fmt.Println(string(b))

	var back mlerr.Error
	_ = back.UnmarshalJSON(b)
	fmt.Println(back.Error())
	// Output:
	// {"error_code":"INVALID_PARAMETER_VALUE","message":"Invalid metric name: \"loss/\u003cval\u003e\"","max_length":250}
	// INVALID_PARAMETER_VALUE: Invalid metric name: "loss/<val>"
}
