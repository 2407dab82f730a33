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

// Each benchmark family has a standard-library baseline measured in the same
// run; docs/readme-wire.md quotes the ratios. Run:
//
//	go test -run '^$' -bench . -benchmem -count 6 | tee new.txt
//	go run golang.org/x/perf/cmd/benchstat@latest new.txt

var (
	sinkErr    error
	sinkBool   bool
	sinkCode   mlerr.Code
	sinkInt    int
	sinkBytes  []byte
	errBase    = errors.New("disk full")
	errRunGone = mlerr.New(mlerr.CodeResourceDoesNotExist, "Run 42 not found")
)

func BenchmarkNew(b *testing.B) {
	b.Run("errors.New", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			sinkErr = errors.New("Run 42 not found")
		}
	})
	b.Run("mlerr.New", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			sinkErr = mlerr.New(mlerr.CodeResourceDoesNotExist, "Run 42 not found")
		}
	})
}

func BenchmarkErrorf(b *testing.B) {
	b.Run("fmt.Errorf", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			sinkErr = fmt.Errorf("writing run %s: %w", "abc", errBase)
		}
	})
	b.Run("mlerr.Errorf", func(b *testing.B) {
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
		b.Run("sentinel/depth="+strconv.Itoa(depth), func(b *testing.B) {
			b.ReportAllocs()
			for b.Loop() {
				sinkBool = errors.Is(sentinel, errBase)
			}
		})
		b.Run("code/depth="+strconv.Itoa(depth), func(b *testing.B) {
			b.ReportAllocs()
			for b.Loop() {
				sinkBool = errors.Is(coded, mlerr.CodeResourceDoesNotExist)
			}
		})
		b.Run("kind/depth="+strconv.Itoa(depth), func(b *testing.B) {
			b.ReportAllocs()
			for b.Loop() {
				sinkBool = errors.Is(kinded, mlerr.ErrTracing)
			}
		})
	}
}

func BenchmarkCodeOf(b *testing.B) {
	wrapped := fmt.Errorf("get run: %w", errRunGone)
	b.Run("errors.As/depth=1", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			var e *mlerr.Error
			if errors.As(wrapped, &e) {
				sinkCode = e.Code()
			}
		}
	})
	b.Run("CodeOf/depth=1", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			sinkCode = mlerr.CodeOf(wrapped)
		}
	})
	joined := errors.Join(errBase, wrapN(errRunGone, 5))
	b.Run("CodeOf/join+depth=5", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			sinkCode = mlerr.CodeOf(joined)
		}
	})
	b.Run("HTTPStatusOf/depth=1", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			sinkInt = mlerr.HTTPStatusOf(wrapped)
		}
	})
}

func BenchmarkHTTPStatus(b *testing.B) {
	codes := mlerr.Codes()
	byMap := make(map[mlerr.Code]int, len(codes))
	for _, c := range codes {
		byMap[c] = c.HTTPStatus()
	}
	b.Run("map-lookup", func(b *testing.B) {
		b.ReportAllocs()
		i := 0
		for b.Loop() {
			sinkInt = byMap[codes[i%len(codes)]]
			i++
		}
	})
	b.Run("Code.HTTPStatus", func(b *testing.B) {
		b.ReportAllocs()
		i := 0
		for b.Loop() {
			sinkInt = codes[i%len(codes)].HTTPStatus()
			i++
		}
	})
	statuses := []int{400, 401, 403, 404, 409, 429, 500, 502, 503, 504}
	b.Run("CodeForHTTPStatus", func(b *testing.B) {
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
	b.Run("encoding-json", func(b *testing.B) {
		v := stdError{"RESOURCE_DOES_NOT_EXIST", benchMessage}
		b.ReportAllocs()
		for b.Loop() {
			sinkBytes, _ = json.Marshal(&v)
		}
	})
	b.Run("MarshalJSON", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			sinkBytes, _ = plain.MarshalJSON()
		}
	})
	b.Run("details/encoding-json", func(b *testing.B) {
		v := stdErrorDetails{"INVALID_PARAMETER_VALUE", "Param value too long", "learning_rate", 6000}
		b.ReportAllocs()
		for b.Loop() {
			sinkBytes, _ = json.Marshal(&v)
		}
	})
	b.Run("details/MarshalJSON", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			sinkBytes, _ = detailed.MarshalJSON()
		}
	})
	b.Run("problem/MarshalProblem", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			sinkBytes, _ = plain.MarshalProblem()
		}
	})
}

func BenchmarkDecode(b *testing.B) {
	plain := []byte(`{"error_code": "RESOURCE_DOES_NOT_EXIST", "message": "` + benchMessage + `"}`)
	detailed := []byte(`{"error_code": "INVALID_PARAMETER_VALUE", "message": "Param value too long", "key": "learning_rate", "limit": 6000}`)
	b.Run("encoding-json", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			var v stdError
			_ = json.Unmarshal(plain, &v)
		}
	})
	b.Run("UnmarshalJSON", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			var e mlerr.Error
			_ = e.UnmarshalJSON(plain)
		}
	})
	b.Run("DecodeError", func(b *testing.B) {
		h := http.Header{"Content-Type": {"application/json"}}
		b.ReportAllocs()
		for b.Loop() {
			sinkErr = mlerr.DecodeError(404, h, plain)
		}
	})
	b.Run("details/encoding-json", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			var v stdErrorDetails
			_ = json.Unmarshal(detailed, &v)
		}
	})
	b.Run("details/UnmarshalJSON", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			var e mlerr.Error
			_ = e.UnmarshalJSON(detailed)
		}
	})
}
