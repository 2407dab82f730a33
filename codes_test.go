package mlerr_test

import (
	"bufio"
	"os"
	"strconv"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/mlerr/mlerr"
)

// factRow is one row of testdata/mlflow_error_codes.tsv, a copy of MLflow's
// own tables.
type factRow struct {
	name      string
	number    int
	http      int // 0: MLflow maps no status
	canonical bool
}

func readFacts(t *testing.T) []factRow {
	t.Helper()
	f, err := os.Open("testdata/mlflow_error_codes.tsv")
	require.NoError(t, err)
	defer f.Close()
	var rows []factRow
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		line := sc.Text()
		if strings.HasPrefix(line, "#") || strings.HasPrefix(line, "name\t") || line == "" {
			continue
		}
		cols := strings.Split(line, "\t")
		require.Len(t, cols, 4, line)
		n, err := strconv.Atoi(cols[1])
		require.NoError(t, err)
		r := factRow{name: cols[0], number: n, canonical: cols[3] == "yes"}
		if cols[2] != "" {
			r.http, err = strconv.Atoi(cols[2])
			require.NoError(t, err)
		}
		rows = append(rows, r)
	}
	require.NoError(t, sc.Err())
	return rows
}

func TestCodesMatchMLflowFacts(t *testing.T) {
	rows := readFacts(t)
	require.Len(t, rows, 79)
	codes := mlerr.Codes()
	require.Len(t, codes, len(rows), "Codes() lists every code of the facts file")

	canonical := map[int]string{}
	for i, r := range rows {
		c := codes[i]
		t.Run(r.name, func(t *testing.T) {
			assert.Equal(t, r.name, c.String(), "table order")
			assert.Equal(t, r.number, int(c), "protobuf number")
			parsed, err := mlerr.ParseCode(r.name)
			require.NoError(t, err)
			assert.Equal(t, c, parsed)
			want := r.http
			if want == 0 {
				want = 500 // MLflow: codes not in the map are 500
			}
			assert.Equal(t, want, c.HTTPStatus())
			assert.True(t, c.Known())
			assert.Equal(t, r.name, c.Error())
		})
		if r.canonical {
			canonical[r.http] = r.name
		}
	}
	// Reverse direction: every status 0..999 against MLflow's reverse map.
	for status := 0; status < 1000; status++ {
		want, ok := canonical[status]
		if !ok {
			want = "INTERNAL_ERROR"
		}
		assert.Equal(t, want, mlerr.CodeForHTTPStatus(status).String(), "status %d", status)
	}
	assert.Equal(t, mlerr.CodeBadRequest, mlerr.CodeForHTTPStatus(400))
	assert.Equal(t, mlerr.CodeEndpointNotFound, mlerr.CodeForHTTPStatus(404))
	assert.Equal(t, mlerr.CodeAlreadyExists, mlerr.CodeForHTTPStatus(409))
	assert.Equal(t, mlerr.CodeInternalError, mlerr.CodeForHTTPStatus(-1))
}

func TestCodeRoundTripsThroughHTTPForCanonicalCodes(t *testing.T) {
	for _, c := range mlerr.Codes() {
		back := mlerr.CodeForHTTPStatus(c.HTTPStatus())
		assert.Equal(t, c.HTTPStatus(), back.HTTPStatus(), "%s: the canonical code of its status has the same status", c)
	}
}

func TestUnknownAndZeroCodes(t *testing.T) {
	var zero mlerr.Code
	assert.Equal(t, "OK", zero.String())
	assert.Equal(t, 200, zero.HTTPStatus())
	assert.Equal(t, uint32(0), zero.GRPC(), "OK")
	assert.False(t, zero.Retryable())

	unknown := mlerr.Code(4242)
	assert.Equal(t, "Code(4242)", unknown.String())
	assert.Equal(t, 500, unknown.HTTPStatus())
	assert.Equal(t, uint32(2), unknown.GRPC(), "UNKNOWN")
	assert.False(t, unknown.Known())
	assert.False(t, unknown.Retryable())
	assert.False(t, mlerr.Code(-3).Known())
	assert.False(t, mlerr.Code(1<<30).Known())

	_, err := mlerr.ParseCode("NO_SUCH_CODE")
	require.Error(t, err)
	assert.Equal(t, mlerr.CodeInvalidParameterValue, mlerr.CodeOf(err))
	assert.Contains(t, err.Error(), "NO_SUCH_CODE")
	ok, err := mlerr.ParseCode("OK")
	require.NoError(t, err)
	assert.Equal(t, zero, ok)
}

func TestCodesIsACopy(t *testing.T) {
	a := mlerr.Codes()
	a[0] = 12345
	assert.Equal(t, mlerr.CodeInternalError, mlerr.Codes()[0])
}

func TestEveryCodeHasGRPCAndRetryClass(t *testing.T) {
	retryable := map[mlerr.Code]bool{
		mlerr.CodeInternalError:           true,
		mlerr.CodeTemporarilyUnavailable:  true,
		mlerr.CodeDeadlineExceeded:        true,
		mlerr.CodeAborted:                 true,
		mlerr.CodeServiceUnderMaintenance: true,
		mlerr.CodeResourceExhausted:       true,
		mlerr.CodeRequestLimitExceeded:    true,
		mlerr.CodeInvalidParameterValue:   false,
		mlerr.CodeResourceDoesNotExist:    false,
		mlerr.CodePermissionDenied:        false,
		mlerr.CodeUnauthenticated:         false,
		mlerr.CodeCancelled:               false,
		mlerr.CodeNotImplemented:          false,
		mlerr.CodeDataLoss:                false,
	}
	for _, c := range mlerr.Codes() {
		assert.NotZero(t, c.GRPC(), "%s has a gRPC code", c)
		assert.LessOrEqual(t, c.GRPC(), uint32(16), "%s: a canonical gRPC code", c)
		if want, ok := retryable[c]; ok {
			assert.Equal(t, want, c.Retryable(), "%s", c)
		}
		// 4xx caller faults are never retried, except 429 (throttled) and 409 ABORTED.
		if s := c.HTTPStatus(); s >= 400 && s < 500 && s != 429 && c != mlerr.CodeAborted {
			assert.False(t, c.Retryable(), "%s (HTTP %d) is a caller fault", c, s)
		}
	}
}

func TestCodeTextMarshalling(t *testing.T) {
	for _, c := range mlerr.Codes() {
		b, err := c.MarshalText()
		require.NoError(t, err)
		var back mlerr.Code
		require.NoError(t, back.UnmarshalText(b))
		assert.Equal(t, c, back)
	}
	var c mlerr.Code
	assert.Error(t, c.UnmarshalText([]byte("nope")))
}

func TestCodeForGRPC(t *testing.T) {
	// Every gRPC code's canonical MLflow code, by gRPC number.
	want := []mlerr.Code{
		0:  0, // OK
		1:  mlerr.CodeCancelled,
		2:  mlerr.CodeUnparseableHTTPError, // UNKNOWN
		3:  mlerr.CodeInvalidParameterValue,
		4:  mlerr.CodeDeadlineExceeded,
		5:  mlerr.CodeNotFound,
		6:  mlerr.CodeAlreadyExists,
		7:  mlerr.CodePermissionDenied,
		8:  mlerr.CodeResourceExhausted,
		9:  mlerr.CodeInvalidState,
		10: mlerr.CodeAborted,
		11: mlerr.CodeInvalidParameterValue, // OUT_OF_RANGE
		12: mlerr.CodeNotImplemented,
		13: mlerr.CodeInternalError,
		14: mlerr.CodeTemporarilyUnavailable,
		15: mlerr.CodeDataLoss,
		16: mlerr.CodeUnauthenticated,
	}
	for n, c := range want {
		assert.Equal(t, c, mlerr.CodeForGRPC(uint32(n)), "gRPC code %d", n)
	}
	assert.Equal(t, mlerr.CodeInternalError, mlerr.CodeForGRPC(17))
	assert.Equal(t, mlerr.CodeInternalError, mlerr.CodeForGRPC(1<<31))
}

func TestCodeRoundTripsThroughGRPC(t *testing.T) {
	perClass := map[uint32]int{}
	for _, c := range mlerr.Codes() {
		perClass[c.GRPC()]++
	}
	for _, c := range mlerr.Codes() {
		back := mlerr.CodeForGRPC(c.GRPC())
		// The way back keeps the gRPC class; it is the identity for a code
		// alone in its class.
		assert.Equal(t, c.GRPC(), back.GRPC(), "%s", c)
		if perClass[c.GRPC()] == 1 {
			assert.Equal(t, c, back, "%s is alone in gRPC class %d", c, c.GRPC())
		}
	}
}
