package mlerr_test

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/mlerr/mlerr"
)

// endless is a body that never ends; it counts what is read and whether it
// was closed.
type endless struct {
	read   int64
	closed bool
}

func (b *endless) Read(p []byte) (int, error) {
	for i := range p {
		p[i] = 'x'
	}
	b.read += int64(len(p))
	return len(p), nil
}

func (b *endless) Close() error { b.closed = true; return nil }

// brokenBody is a body that breaks after some bytes.
type brokenBody struct {
	r      io.Reader
	closed bool
}

var errReset = errors.New("connection reset by peer")

func (b *brokenBody) Read(p []byte) (int, error) {
	n, err := b.r.Read(p)
	if err == io.EOF {
		return n, errReset
	}
	return n, err
}

func (b *brokenBody) Close() error { b.closed = true; return nil }

func response(status int, body io.ReadCloser, header ...string) *http.Response {
	h := http.Header{}
	for i := 0; i+1 < len(header); i += 2 {
		h.Set(header[i], header[i+1])
	}
	return &http.Response{StatusCode: status, Header: h, Body: body}
}

func TestFromResponseSuccessLeavesBody(t *testing.T) {
	for _, status := range []int{200, 201, 204, 299} {
		body := &endless{}
		assert.NoError(t, mlerr.FromResponse(response(status, body)), status)
		assert.Zero(t, body.read, status)
		assert.False(t, body.closed, status)
	}
}

func TestFromResponseErrors(t *testing.T) {
	tests := []struct {
		status int
		body   string
		header []string
		code   mlerr.Code
		msg    string
		after  time.Duration
	}{
		{404, `{"error_code":"RESOURCE_DOES_NOT_EXIST","message":"Run with id=abc not found"}`, nil,
			mlerr.CodeResourceDoesNotExist, "Run with id=abc not found", 0},
		{429, `{"error_code":"REQUEST_LIMIT_EXCEEDED","message":"slow down"}`, []string{"Retry-After", "3"},
			mlerr.CodeRequestLimitExceeded, "slow down", 3 * time.Second},
		{503, ``, []string{"Retry-After", "1"}, mlerr.CodeTemporarilyUnavailable, "", time.Second},
		{502, `<html><title>Bad Gateway</title></html>`, []string{"Content-Type", "text/html"}, mlerr.CodeInternalError, "Bad Gateway", 0},
		{301, ``, nil, mlerr.CodeInternalError, "", 0},
		{199, ``, nil, mlerr.CodeInternalError, "", 0},
	}
	for _, tt := range tests {
		t.Run(fmt.Sprint(tt.status), func(t *testing.T) {
			err := mlerr.FromResponse(response(tt.status, io.NopCloser(strings.NewReader(tt.body)), tt.header...))
			require.Error(t, err)
			var e *mlerr.Error
			require.ErrorAs(t, err, &e)
			assert.Equal(t, tt.code, e.Code())
			assert.Equal(t, tt.msg, e.Message())
			assert.Equal(t, tt.status, e.HTTPStatus())
			assert.Equal(t, tt.status, mlerr.HTTPStatusOf(fmt.Errorf("call: %w", err)))
			assert.Equal(t, tt.after, e.RetryAfter())
			assert.ErrorIs(t, err, mlerr.ErrRest)
			assert.Nil(t, e.Unwrap())
		})
	}
}

func TestFromResponseEndlessBody(t *testing.T) {
	body := &endless{}
	d := mlerr.Decoder{MaxBodyBytes: 4096}
	err := d.FromResponse(response(500, body, "Content-Type", "text/plain"))
	require.Error(t, err)
	assert.True(t, body.closed)
	assert.LessOrEqual(t, body.read, int64(4096+64<<10+32<<10), "reads are bounded")
	assert.LessOrEqual(t, len(mlerr.AsError(err).Message()), defaultExcerptBytes+len("…"))

	// The default limit bounds an endless body too (a 1 GB body is never read).
	body = &endless{}
	err = mlerr.FromResponse(response(502, body))
	require.Error(t, err)
	assert.True(t, body.closed)
	assert.LessOrEqual(t, body.read, int64(defaultMaxBodyBytes+128<<10))
	assert.Equal(t, mlerr.CodeInternalError, mlerr.CodeOf(err))
}

func TestFromResponseOverlongJSON(t *testing.T) {
	body := `{"error_code":"BAD_REQUEST","message":"` + strings.Repeat("a", 100) + `"}`
	d := mlerr.Decoder{MaxBodyBytes: 50}
	err := d.FromResponse(response(400, io.NopCloser(strings.NewReader(body))))
	e := mlerr.AsError(err)
	require.NotNil(t, e)
	assert.Equal(t, mlerr.CodeBadRequest, e.Code(), "cut JSON: the status decides")
	assert.Equal(t, body[:50], e.Message())
}

func TestFromResponseReadErrorIsCause(t *testing.T) {
	rc := &brokenBody{r: strings.NewReader(`{"error_code":"INTERNAL_ERROR","message":"boom"}`)}
	err := mlerr.FromResponse(response(500, rc))
	require.Error(t, err)
	assert.ErrorIs(t, err, errReset)
	assert.True(t, rc.closed)
	assert.Equal(t, "boom", mlerr.AsError(err).Message())
}

func TestFromResponseNil(t *testing.T) {
	err := mlerr.FromResponse(nil)
	require.Error(t, err)
	assert.Equal(t, mlerr.CodeInternalError, mlerr.CodeOf(err))

	// A response without a body (as some test doubles build) is fine.
	err = mlerr.FromResponse(&http.Response{StatusCode: 404})
	assert.Equal(t, mlerr.CodeEndpointNotFound, mlerr.CodeOf(err))
}

func TestFromResponseOverHTTP(t *testing.T) {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		mlerr.WriteError(w, r, mlerr.New(mlerr.CodeRequestLimitExceeded, "too many").
			WithDetail("limit", 10).WithRetryAfter(1500*time.Millisecond))
	}))
	defer srv.Close()
	for _, accept := range []string{"", "application/problem+json"} {
		req, err := http.NewRequestWithContext(context.Background(), http.MethodGet, srv.URL, nil)
		require.NoError(t, err)
		if accept != "" {
			req.Header.Set("Accept", accept)
		}
		resp, err := srv.Client().Do(req)
		require.NoError(t, err)
		err = mlerr.FromResponse(resp)
		e := mlerr.AsError(err)
		require.NotNil(t, e, accept)
		assert.Equal(t, mlerr.CodeRequestLimitExceeded, e.Code(), accept)
		assert.Equal(t, "too many", e.Message(), accept)
		assert.Equal(t, 429, e.HTTPStatus(), accept)
		assert.Equal(t, 2*time.Second, e.RetryAfter(), accept)
		var limit int
		assert.True(t, e.Detail("limit", &limit), accept)
		assert.Equal(t, 10, limit, accept)
	}
}
