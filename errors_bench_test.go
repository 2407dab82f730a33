package mlerr_test

import (
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"strconv"
	"testing"

	"github.com/mlerr/mlerr"
)

// Each benchmark has a standard-library baseline (impl=std) measured in the
// same run; docs/readme-wire.md quotes the ratios. Run (six interleaved
// rounds, so that a noisy machine hits baseline and candidate alike):
//
//	go test -c -o /tmp/mlerr.test . && for i in 1 2 3 4 5 6; do /tmp/mlerr.test -test.run '^$' -test.bench '^Benchmark(New|Errorf|Is|CodeOf|HTTPStatus|Encode|Decode)$' -test.benchmem; done | tee bench.txt
//	go run golang.org/x/perf/cmd/benchstat@latest -col /impl bench.txt
//
// std is errors.New, fmt.Errorf, errors.Is on a sentinel, errors.As, a map
// lookup, and encoding/json on the struct that gives the same JSON.

var (
	sinkErr    error
	sinkBool   bool
	sinkCode   mlerr.Code
	sinkInt    int
	sinkBytes  []byte
	errBase    = errors.New("disk full")
	errRunGone = mlerr.New(mlerr.CodeResourceDoesNotExist, "Run 42 not found")
)

// bareError has the layout of *mlerr.Error (a code, a message, one
// pointer: 32 bytes) and nothing else: BenchmarkNew's second baseline, what
// any error of that size costs to allocate.
type bareError struct {
	code mlerr.Code
	msg  string
	_    *int // the place of Error's extension pointer
}

func (e *bareError) Error() string { return e.code.String() + ": " + e.msg }

func newBareError(code mlerr.Code, msg string) *bareError { return &bareError{code: code, msg: msg} }

// The layouts an *Error could have had, as bare structs of their sizes:
// kind and cause inline besides the extension pointer (64 bytes), cause
// inline (48), every field inline (96).
type (
	bare48 struct {
		code mlerr.Code
		msg  string
		_    error
		_    *int
	}
	bare64 struct {
		code mlerr.Code
		msg  string
		_    *int
		_    error
		_    *int
	}
	bare96 struct {
		code mlerr.Code
		_    string
		msg  string
		_    *int
		_    map[string]int
		_    error
		_    int
		_    int
	}
)

func (e *bare48) Error() string { return e.msg }
func (e *bare64) Error() string { return e.msg }
func (e *bare96) Error() string { return e.msg }

func BenchmarkNew(b *testing.B) {
	b.Run("impl=std", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			sinkErr = errors.New("Run 42 not found")
		}
	})
	b.Run("impl=bare32", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			sinkErr = newBareError(mlerr.CodeResourceDoesNotExist, "Run 42 not found")
		}
	})
	b.Run("impl=bare48", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			sinkErr = &bare48{code: mlerr.CodeResourceDoesNotExist, msg: "Run 42 not found"}
		}
	})
	b.Run("impl=bare64", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			sinkErr = &bare64{code: mlerr.CodeResourceDoesNotExist, msg: "Run 42 not found"}
		}
	})
	b.Run("impl=bare96", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			sinkErr = &bare96{code: mlerr.CodeResourceDoesNotExist, msg: "Run 42 not found"}
		}
	})
	b.Run("impl=mlerr", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			sinkErr = mlerr.New(mlerr.CodeResourceDoesNotExist, "Run 42 not found")
		}
	})
}

func BenchmarkErrorf(b *testing.B) {
	b.Run("impl=std", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			sinkErr = fmt.Errorf("writing run %s: %w", "abc", errBase)
		}
	})
	b.Run("impl=mlerr", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			sinkErr = mlerr.Errorf(mlerr.CodeIOError, "writing run %s: %w", "abc", errBase)
		}
	})
}

// wrapN wraps err n times with fmt.Errorf("%w").
func wrapN(err error, n int) error {
	for i := range n {
		err = fmt.Errorf("layer %d: %w", i, err)
	}
	return err
}

func BenchmarkIs(b *testing.B) {
	for _, depth := range []int{0, 1, 5} {
		sentinel := wrapN(errBase, depth)
		coded := wrapN(errRunGone, depth)
		kinded := wrapN(mlerr.ErrTraceDataNotFound.New("trace 7"), depth)
		b.Run("depth="+strconv.Itoa(depth)+"/impl=std", func(b *testing.B) {
			b.ReportAllocs()
			for b.Loop() {
				sinkBool = errors.Is(sentinel, errBase)
			}
		})
		b.Run("depth="+strconv.Itoa(depth)+"/impl=mlerr", func(b *testing.B) {
			b.ReportAllocs()
			for b.Loop() {
				sinkBool = errors.Is(coded, mlerr.CodeResourceDoesNotExist)
			}
		})
		b.Run("depth="+strconv.Itoa(depth)+"/impl=mlerr-kind", func(b *testing.B) {
			b.ReportAllocs()
			for b.Loop() {
				sinkBool = errors.Is(kinded, mlerr.ErrTracing)
			}
		})
	}
}

func BenchmarkCodeOf(b *testing.B) {
	wrapped := fmt.Errorf("get run: %w", errRunGone)
	b.Run("err=wrapped/impl=std", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			var e *mlerr.Error
			if errors.As(wrapped, &e) {
				sinkCode = e.Code()
			}
		}
	})
	b.Run("err=wrapped/impl=mlerr", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			sinkCode = mlerr.CodeOf(wrapped)
		}
	})
	joined := errors.Join(errBase, wrapN(errRunGone, 5))
	b.Run("err=join+depth5/impl=mlerr", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			sinkCode = mlerr.CodeOf(joined)
		}
	})
	b.Run("err=wrapped/impl=mlerr-HTTPStatusOf", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			sinkInt = mlerr.HTTPStatusOf(wrapped)
		}
	})
	b.Run("err=wrapped/impl=mlerr-AsError", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			sinkErr = mlerr.AsError(wrapped)
		}
	})
	b.Run("err=join+depth5/impl=mlerr-AsError", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			sinkErr = mlerr.AsError(joined)
		}
	})
}

func BenchmarkHTTPStatus(b *testing.B) {
	codes := mlerr.Codes()
	byMap := make(map[mlerr.Code]int, len(codes))
	for _, c := range codes {
		byMap[c] = c.HTTPStatus()
	}
	b.Run("op=HTTPStatus/impl=std", func(b *testing.B) {
		b.ReportAllocs()
		i := 0
		for b.Loop() {
			sinkInt = byMap[codes[i%len(codes)]]
			i++
		}
	})
	b.Run("op=HTTPStatus/impl=mlerr", func(b *testing.B) {
		b.ReportAllocs()
		i := 0
		for b.Loop() {
			sinkInt = codes[i%len(codes)].HTTPStatus()
			i++
		}
	})
	statuses := []int{400, 401, 403, 404, 409, 429, 500, 502, 503, 504}
	byStatus := make(map[int]mlerr.Code, len(statuses))
	for _, s := range statuses {
		byStatus[s] = mlerr.CodeForHTTPStatus(s)
	}
	b.Run("op=CodeForHTTPStatus/impl=std", func(b *testing.B) {
		b.ReportAllocs()
		i := 0
		for b.Loop() {
			sinkCode = byStatus[statuses[i%len(statuses)]]
			i++
		}
	})
	b.Run("op=CodeForHTTPStatus/impl=mlerr", func(b *testing.B) {
		b.ReportAllocs()
		i := 0
		for b.Loop() {
			sinkCode = mlerr.CodeForHTTPStatus(statuses[i%len(statuses)])
			i++
		}
	})
}

// stdError is the struct encoding/json needs for the same body.
type stdError struct {
	ErrorCode string `json:"error_code"`
	Message   string `json:"message"`
}

// stdErrorDetails has two details as typed fields.
type stdErrorDetails struct {
	ErrorCode string `json:"error_code"`
	Message   string `json:"message"`
	Key       string `json:"key"`
	Limit     int    `json:"limit"`
}

const benchMessage = "Run with id=3f2b9c0e7a4d4e0b8c1f2a3b4c5d6e7f not found"

func BenchmarkEncode(b *testing.B) {
	plain := mlerr.New(mlerr.CodeResourceDoesNotExist, benchMessage)
	detailed := mlerr.New(mlerr.CodeInvalidParameterValue, "Param value too long").
		WithDetail("key", "learning_rate").WithDetail("limit", 6000)
	b.Run("body=plain/impl=std", func(b *testing.B) {
		v := stdError{"RESOURCE_DOES_NOT_EXIST", benchMessage}
		b.ReportAllocs()
		for b.Loop() {
			sinkBytes, _ = json.Marshal(&v)
		}
	})
	b.Run("body=plain/impl=mlerr", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			sinkBytes, _ = plain.MarshalJSON()
		}
	})
	b.Run("body=details/impl=std", func(b *testing.B) {
		v := stdErrorDetails{"INVALID_PARAMETER_VALUE", "Param value too long", "learning_rate", 6000}
		b.ReportAllocs()
		for b.Loop() {
			sinkBytes, _ = json.Marshal(&v)
		}
	})
	b.Run("body=details/impl=mlerr", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			sinkBytes, _ = detailed.MarshalJSON()
		}
	})
	b.Run("body=plain/impl=mlerr-problem", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			sinkBytes, _ = plain.MarshalProblem()
		}
	})
}

func BenchmarkDecode(b *testing.B) {
	plain := []byte(`{"error_code": "RESOURCE_DOES_NOT_EXIST", "message": "` + benchMessage + `"}`)
	detailed := []byte(`{"error_code": "INVALID_PARAMETER_VALUE", "message": "Param value too long", "key": "learning_rate", "limit": 6000}`)
	b.Run("body=plain/impl=std", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			var v stdError
			_ = json.Unmarshal(plain, &v)
		}
	})
	b.Run("body=plain/impl=mlerr", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			var e mlerr.Error
			_ = e.UnmarshalJSON(plain)
		}
	})
	b.Run("body=plain/impl=mlerr-DecodeError", func(b *testing.B) {
		h := http.Header{"Content-Type": {"application/json"}}
		b.ReportAllocs()
		for b.Loop() {
			sinkErr = mlerr.Decoder{}.DecodeError(404, h, plain)
		}
	})
	b.Run("body=details/impl=std", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			var v stdErrorDetails
			_ = json.Unmarshal(detailed, &v)
		}
	})
	b.Run("body=details/impl=mlerr", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			var e mlerr.Error
			_ = e.UnmarshalJSON(detailed)
		}
	})
}
