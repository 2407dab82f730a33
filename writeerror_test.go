package mlerr_test

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"net/http/httptest"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/mlerr/mlerr"
)

func TestWriteError(t *testing.T) {
	notFound := mlerr.New(mlerr.CodeResourceDoesNotExist, "Run 42 not found")
	tests := []struct {
		name       string
		err        error
		accept     []string
		status     int
		ctype      string
		body       string
		retryAfter string
	}{
		{"mlflow by default", notFound, nil, 404, "application/json",
			`{"error_code":"RESOURCE_DOES_NOT_EXIST","message":"Run 42 not found"}`, ""},
		{"problem when asked", notFound, []string{"application/problem+json"}, 404, "application/problem+json",
			`{"status":404,"detail":"Run 42 not found","error_code":"RESOURCE_DOES_NOT_EXIST"}`, ""},
		{"problem preferred by q", notFound, []string{"application/json;q=0.5, application/problem+json"}, 404, "application/problem+json",
			`{"status":404,"detail":"Run 42 not found","error_code":"RESOURCE_DOES_NOT_EXIST"}`, ""},
		{"json preferred by q", notFound, []string{"application/problem+json;q=0.2", "application/json"}, 404, "application/json",
			`{"error_code":"RESOURCE_DOES_NOT_EXIST","message":"Run 42 not found"}`, ""},
		{"problem refused with q=0", notFound, []string{"application/problem+json;q=0"}, 404, "application/json",
			`{"error_code":"RESOURCE_DOES_NOT_EXIST","message":"Run 42 not found"}`, ""},
		{"wildcard gets mlflow", notFound, []string{"*/*"}, 404, "application/json",
			`{"error_code":"RESOURCE_DOES_NOT_EXIST","message":"Run 42 not found"}`, ""},
		{"wrapped *Error", fmt.Errorf("get run: %w", notFound), nil, 404, "application/json",
			`{"error_code":"RESOURCE_DOES_NOT_EXIST","message":"Run 42 not found"}`, ""},
		{"plain error", errors.New("disk on fire"), nil, 500, "application/json",
			`{"error_code":"INTERNAL_ERROR","message":"disk on fire"}`, ""},
		{"context canceled", fmt.Errorf("query: %w", context.Canceled), nil, 499, "application/json",
			`{"error_code":"CANCELLED","message":"query: context canceled"}`, ""},
		{"deadline", context.DeadlineExceeded, []string{"application/problem+json"}, 504, "application/problem+json",
			`{"status":504,"detail":"context deadline exceeded","error_code":"DEADLINE_EXCEEDED"}`, ""},
		{"own Code method wins over inner *Error", ownCoder{mlerr.New(mlerr.CodeDataLoss, "inner")}, nil, 409, "application/json",
			`{"error_code":"ABORTED","message":"ownCoder"}`, ""},
		{"a kind", mlerr.ErrRunNotFound, nil, 404, "application/json",
			`{"error_code":"RESOURCE_DOES_NOT_EXIST","message":"RunNotFound"}`, ""},
		{"observed status kept", mlerr.New(mlerr.CodeInternalError, "upstream").WithHTTPStatus(502), []string{"application/problem+json"}, 502,
			"application/problem+json", `{"status":502,"detail":"upstream","error_code":"INTERNAL_ERROR"}`, ""},
		{"non-error status becomes 500", mlerr.New(mlerr.CodeBadRequest, "odd").WithHTTPStatus(302), []string{"application/problem+json"}, 500,
			"application/problem+json", `{"status":500,"detail":"odd","error_code":"BAD_REQUEST"}`, ""},
		{"zero code becomes 500", mlerr.New(0, "nothing"), nil, 500, "application/json",
			`{"error_code":"INTERNAL_ERROR","message":"nothing"}`, ""},
		{"retry after rounded up", mlerr.New(mlerr.CodeTemporarilyUnavailable, "busy").WithRetryAfter(1200 * time.Millisecond), nil, 503, "application/json",
			`{"error_code":"TEMPORARILY_UNAVAILABLE","message":"busy"}`, "2"},
		{"details", mlerr.InvalidParameterValue("bad key %q", "a b").WithDetail("key", "a b"), []string{"application/problem+json"}, 400,
			"application/problem+json", `{"status":400,"detail":"bad key \"a b\"","error_code":"INVALID_PARAMETER_VALUE","key":"a b"}`, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := httptest.NewRequest(http.MethodGet, "/api/2.0/mlflow/runs/get", nil)
			for _, a := range tt.accept {
				r.Header.Add("Accept", a)
			}
			w := httptest.NewRecorder()
			mlerr.WriteError(w, r, tt.err)
			assert.Equal(t, tt.status, w.Code)
			assert.Equal(t, tt.ctype, w.Header().Get("Content-Type"))
			assert.Equal(t, tt.body, w.Body.String())
			assert.Equal(t, tt.retryAfter, w.Header().Get("Retry-After"))
			assert.Equal(t, fmt.Sprint(len(tt.body)), w.Header().Get("Content-Length"))
			assert.Equal(t, "nosniff", w.Header().Get("X-Content-Type-Options"))

			// What was written reads back as the same code.
			want := mlerr.CodeOf(tt.err)
			if want == 0 {
				want = mlerr.CodeInternalError
			}
			back := mlerr.Decoder{}.DecodeError(w.Code, w.Header(), w.Body.Bytes())
			assert.Equal(t, want, back.Code())
			assert.Equal(t, tt.status, back.HTTPStatus())
		})
	}
}

func TestWriteErrorNil(t *testing.T) {
	w := httptest.NewRecorder()
	mlerr.WriteError(w, nil, nil)
	assert.Equal(t, 0, w.Body.Len())
	assert.Empty(t, w.Header())

	// A nil request gets MLflow JSON.
	mlerr.WriteError(w, nil, mlerr.New(mlerr.CodeBadRequest, "x"))
	require.Equal(t, 400, w.Code)
	assert.Equal(t, "application/json", w.Header().Get("Content-Type"))
}

func TestWriteErrorBatch(t *testing.T) {
	be := mlerr.NewBatchError(3, []mlerr.Failure[string]{
		{Item: "c.jpg", Index: 2, Reason: "asset not found", Code: mlerr.CodeResourceDoesNotExist, Time: time.Unix(0, 0).UTC()},
	})
	err := fmt.Errorf("upload: %w", be)
	for _, accept := range []string{"", "application/problem+json"} {
		r := httptest.NewRequest(http.MethodPost, "/upload", nil)
		if accept != "" {
			r.Header.Set("Accept", accept)
		}
		w := httptest.NewRecorder()
		mlerr.WriteError(w, r, err)
		assert.Equal(t, 404, w.Code, accept)
		want, mErr := be.MarshalJSON()
		if accept != "" {
			want, mErr = be.MarshalProblem()
			assert.Equal(t, "application/problem+json", w.Header().Get("Content-Type"))
		}
		require.NoError(t, mErr)
		assert.Equal(t, string(want), w.Body.String(), "the batch writes its own body")
		var back mlerr.BatchError[string] // either form
		require.NoError(t, json.Unmarshal(w.Body.Bytes(), &back))
		assert.Equal(t, []string{"c.jpg"}, back.Failed())
	}
}
