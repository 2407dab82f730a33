package mlerr_test

import (
	"errors"
	"io"
	"net/http"
	"strings"
	"testing"
	"time"
	"unsafe"

	"github.com/stretchr/testify/assert"

	"github.com/mlerr/mlerr"
)

// snapshot is everything an *Error reports through its methods.
type snapshot struct {
	Code       mlerr.Code
	Name       string
	Message    string
	Kind       *mlerr.Kind
	Cause      error
	Details    map[string]string
	Status     int
	RetryAfter time.Duration
	Text       string
}

func snap(e *mlerr.Error) snapshot {
	s := snapshot{Code: e.Code(), Name: e.Name(), Message: e.Message(), Kind: e.Kind(), Cause: e.Unwrap(),
		Status: e.HTTPStatus(), RetryAfter: e.RetryAfter(), Text: e.Error()}
	for k, v := range e.Details() {
		if s.Details == nil {
			s.Details = map[string]string{}
		}
		s.Details[k] = string(v)
	}
	return s
}

// TestWithOnEveryShape: an *Error keeps its kind, cause and wire fields
// outside itself, shared between copies and between the errors of one kind.
// Every With method, on every shape an error can have (bare, of a kind,
// with a cause, decoded from the wire), changes its copy only: the original,
// the other errors of the kind and the other fields stay as they were.
func TestWithOnEveryShape(t *testing.T) {
	cause := io.ErrUnexpectedEOF
	decoded := func() *mlerr.Error {
		return mlerr.Decoder{}.DecodeError(429, http.Header{"Retry-After": {"7"}},
			[]byte(`{"error_code":"MODEL_BUSY","message":"busy","limit":5}`))
	}
	bases := []struct {
		name string
		make func() *mlerr.Error
		want snapshot
	}{
		{"New", func() *mlerr.Error { return mlerr.New(mlerr.CodeAborted, "stop") },
			snapshot{Code: mlerr.CodeAborted, Name: "ABORTED", Message: "stop", Status: 409, Text: "ABORTED: stop"}},
		{"kind.New", func() *mlerr.Error { return mlerr.ErrTraceDataNotFound.New("no spans") },
			snapshot{Code: mlerr.CodeNotFound, Name: "NOT_FOUND", Message: "no spans", Kind: mlerr.ErrTraceDataNotFound, Status: 404, Text: "NOT_FOUND: no spans"}},
		{"Errorf with %w", func() *mlerr.Error { return mlerr.Errorf(mlerr.CodeIOError, "reading: %w", cause) },
			snapshot{Code: mlerr.CodeIOError, Name: "IO_ERROR", Message: "reading: unexpected EOF", Cause: cause, Status: 500, Text: "IO_ERROR: reading: unexpected EOF"}},
		{"kind.Wrap", func() *mlerr.Error { return mlerr.ErrNetwork.Wrap(cause, "send").(*mlerr.Error) },
			snapshot{Code: mlerr.CodeTemporarilyUnavailable, Name: "TEMPORARILY_UNAVAILABLE", Message: "send", Kind: mlerr.ErrNetwork, Cause: cause, Status: 503, Text: "TEMPORARILY_UNAVAILABLE: send: unexpected EOF"}},
		{"decoded", decoded,
			snapshot{Code: mlerr.CodeInternalError, Name: "MODEL_BUSY", Message: "busy", Kind: mlerr.ErrRest, Details: map[string]string{"limit": "5"}, Status: 429, RetryAfter: 7 * time.Second, Text: "MODEL_BUSY: busy"}},
	}
	other := errors.New("other")
	withs := []struct {
		name   string
		apply  func(*mlerr.Error) *mlerr.Error
		change func(*snapshot)
	}{
		{"WithKind", func(e *mlerr.Error) *mlerr.Error { return e.WithKind(mlerr.ErrQueueFull) },
			func(s *snapshot) { s.Kind = mlerr.ErrQueueFull }},
		{"WithKind(nil)", func(e *mlerr.Error) *mlerr.Error { return e.WithKind(nil) },
			func(s *snapshot) { s.Kind = nil }},
		{"WithCause", func(e *mlerr.Error) *mlerr.Error { return e.WithCause(other) },
			func(s *snapshot) {
				s.Cause = other
				s.Text = s.Name + ": " + s.Message + ": other"
			}},
		{"WithHTTPStatus", func(e *mlerr.Error) *mlerr.Error { return e.WithHTTPStatus(502) },
			func(s *snapshot) { s.Status = 502 }},
		{"WithRetryAfter", func(e *mlerr.Error) *mlerr.Error { return e.WithRetryAfter(time.Minute) },
			func(s *snapshot) { s.RetryAfter = time.Minute }},
		{"WithDetail", func(e *mlerr.Error) *mlerr.Error { return e.WithDetail("step", 3) },
			func(s *snapshot) {
				d := map[string]string{"step": "3"}
				for k, v := range s.Details {
					d[k] = v
				}
				s.Details = d
			}},
	}
	for _, base := range bases {
		for _, with := range withs {
			t.Run(base.name+"/"+with.name, func(t *testing.T) {
				orig := base.make()
				assert.Equal(t, base.want, snap(orig), "the base itself")
				c := with.apply(orig)
				want := base.want
				with.change(&want)
				assert.Equal(t, want, snap(c), "the copy has its change and keeps the rest")
				assert.Equal(t, base.want, snap(orig), "the original is unchanged")
				assert.Equal(t, base.want, snap(base.make()), "a new error like the original is unchanged")
				// Chained on the copy: the copy is unchanged by its own copies.
				_ = c.WithKind(mlerr.ErrClosed).WithCause(cause).WithHTTPStatus(418).WithRetryAfter(time.Hour).WithDetail("x", 1)
				assert.Equal(t, want, snap(c), "the copy is unchanged by its copies")
			})
		}
	}
}

// TestKindErrorsShareNothingMutable: errors of a kind without a cause share
// the kind's extension; changing one (WithCause, WithHTTPStatus) leaves the
// kind's next errors without a cause or status.
func TestKindErrorsShareNothingMutable(t *testing.T) {
	a := mlerr.ErrDuplicatePoint.New("a")
	_ = a.WithCause(io.EOF).WithHTTPStatus(500).WithDetail("k", "v").WithRetryAfter(time.Second)
	b := mlerr.ErrDuplicatePoint.New("b")
	for _, e := range []*mlerr.Error{a, b} {
		assert.Nil(t, e.Unwrap())
		assert.Nil(t, e.Details())
		assert.Zero(t, e.RetryAfter())
		assert.Equal(t, mlerr.CodeAlreadyExists.HTTPStatus(), e.HTTPStatus())
		assert.Same(t, mlerr.ErrDuplicatePoint, e.Kind())
	}
	// A kind of one's own (NewKind) works the same, and so does a copy of a
	// Kind value, which has no shared extension of its own.
	mine := mlerr.NewKind("Mine", mlerr.ErrTracing, 0)
	assert.ErrorIs(t, mine.New("x"), mlerr.ErrTracing)
	assert.Same(t, mine, mine.New("x").Kind())
	copied := *mine
	assert.Same(t, &copied, copied.New("x").Kind())
	assert.Same(t, &copied, copied.Errorf("n=%d", 1).Kind())
}

// TestConstructorAllocations pins the allocations of the constructors: one
// object each (New, a kind's New and Wrap, Wrap, the With methods), and
// Errorf with %w one more for its message, as fmt.Errorf.
func TestConstructorAllocations(t *testing.T) {
	if raceEnabled {
		t.Skip("under -race sync.Pool drops items at random, so fmt's printer pool allocates now and then")
	}
	e := mlerr.New(mlerr.CodeAborted, "x")
	tests := []struct {
		name   string
		allocs float64
		f      func()
	}{
		{"New", 1, func() { sinkErr = mlerr.New(mlerr.CodeAborted, "x") }},
		{"kind.New", 1, func() { sinkErr = mlerr.ErrClosed.New("x") }},
		{"Wrap", 1, func() { sinkErr = mlerr.Wrap(errBase, mlerr.CodeAborted, "x") }},
		{"kind.Wrap", 1, func() { sinkErr = mlerr.ErrNetwork.Wrap(errBase, "x") }},
		{"Errorf with %w", 2, func() { sinkErr = mlerr.Errorf(mlerr.CodeIOError, "writing run %s: %w", "abc", errBase) }},
		{"WithKind", 1, func() { sinkErr = e.WithKind(mlerr.ErrClosed) }},
		{"WithCause", 1, func() { sinkErr = e.WithCause(errBase) }},
		{"WithHTTPStatus", 1, func() { sinkErr = e.WithHTTPStatus(502) }},
		{"WithRetryAfter", 1, func() { sinkErr = e.WithRetryAfter(time.Second) }},
	}
	for _, tt := range tests {
		assert.Equal(t, tt.allocs, testing.AllocsPerRun(100, tt.f), tt.name)
	}
}

// TestBareErrorMatchesError: BenchmarkNew's second baseline has the size of
// an *Error, so that it measures what any error of that size costs.
func TestBareErrorMatchesError(t *testing.T) {
	assert.Equal(t, unsafe.Sizeof(mlerr.Error{}), unsafe.Sizeof(bareError{}))
}

// TestFromResponseReadErrorIsTheCause: a body that fails to read becomes the
// cause of the decoded error, and only of that one.
func TestFromResponseReadErrorIsTheCause(t *testing.T) {
	resp := &http.Response{StatusCode: 503, Header: http.Header{}, Body: io.NopCloser(io.MultiReader(
		strings.NewReader(`{"error_code":"TEMPORARILY_UNAVAILABLE"`), errReader{io.ErrUnexpectedEOF}))}
	err := mlerr.FromResponse(resp)
	e := mlerr.AsError(err)
	assert.Same(t, mlerr.ErrRest, e.Kind())
	assert.Equal(t, 503, e.HTTPStatus())
	assert.ErrorIs(t, err, io.ErrUnexpectedEOF)
	again := mlerr.Decoder{}.DecodeError(503, nil, []byte(`{"error_code":"TEMPORARILY_UNAVAILABLE"}`))
	assert.Nil(t, again.Unwrap())
}

type errReader struct{ err error }

func (r errReader) Read([]byte) (int, error) { return 0, r.err }
