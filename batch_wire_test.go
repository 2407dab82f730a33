package mlerr

import (
	"encoding/json"
	"errors"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

type batchAsset struct {
	Path string `json:"path"`
	Size int    `json:"size"`
}

func batchWireSample() *BatchError[batchAsset] {
	return NewBatchError(100, []Failure[batchAsset]{
		{Item: batchAsset{"a.jpg", 1}, Index: 3, Reason: "asset not found", Code: CodeResourceDoesNotExist, Time: batchT0},
		{Item: batchAsset{"b.png", 2}, Index: 41, Reason: "invalid format", Code: CodeInvalidParameterValue, Time: batchT0.Add(1500 * time.Millisecond)},
		{Item: batchAsset{"c.jpg", 3}, Index: 99, Reason: "asset not found", Code: CodeResourceDoesNotExist, Time: batchT0},
	})
}

func TestBatchErrorMLflowJSON(t *testing.T) {
	b, err := json.Marshal(batchWireSample())
	require.NoError(t, err)
	assert.JSONEq(t, `{
		"error_code": "RESOURCE_DOES_NOT_EXIST",
		"message": "3 of 100 items failed: 2 x asset not found, 1 x invalid format",
		"details": {"total": 100, "failures": [
			{"index": 3, "error_code": "RESOURCE_DOES_NOT_EXIST", "reason": "asset not found", "time": "2026-02-02T15:32:30Z", "item": {"path": "a.jpg", "size": 1}},
			{"index": 41, "error_code": "INVALID_PARAMETER_VALUE", "reason": "invalid format", "time": "2026-02-02T15:32:31.5Z", "item": {"path": "b.png", "size": 2}},
			{"index": 99, "error_code": "RESOURCE_DOES_NOT_EXIST", "reason": "asset not found", "time": "2026-02-02T15:32:30Z", "item": {"path": "c.jpg", "size": 3}}
		]}}`, string(b))
}

func TestBatchErrorProblemJSON(t *testing.T) {
	b, err := batchWireSample().MarshalProblem()
	require.NoError(t, err)
	assert.JSONEq(t, `{
		"type": "urn:mlerr:problem:partial-failure",
		"title": "Some items of the batch failed",
		"status": 404,
		"detail": "3 of 100 items failed: 2 x asset not found, 1 x invalid format",
		"error_code": "RESOURCE_DOES_NOT_EXIST",
		"total": 100,
		"errors": [
			{"index": 3, "error_code": "RESOURCE_DOES_NOT_EXIST", "reason": "asset not found", "time": "2026-02-02T15:32:30Z", "item": {"path": "a.jpg", "size": 1}},
			{"index": 41, "error_code": "INVALID_PARAMETER_VALUE", "reason": "invalid format", "time": "2026-02-02T15:32:31.5Z", "item": {"path": "b.png", "size": 2}},
			{"index": 99, "error_code": "RESOURCE_DOES_NOT_EXIST", "reason": "asset not found", "time": "2026-02-02T15:32:30Z", "item": {"path": "c.jpg", "size": 3}}
		]}`, string(b))
}

// decodeBatch decodes data with json.Unmarshal into a new *BatchError[T], as
// a user does: UnmarshalJSON reads both encodings.
func decodeBatch[T any](data []byte) (*BatchError[T], error) {
	be := new(BatchError[T])
	if err := json.Unmarshal(data, be); err != nil {
		return nil, err
	}
	return be, nil
}

// assertSameBatchFailures checks what must survive a round trip.
func assertSameBatchFailures[A, B any](t *testing.T, want *BatchError[A], got *BatchError[B]) {
	t.Helper()
	require.NotNil(t, got)
	assert.Equal(t, want.Total, got.Total)
	require.Len(t, got.Failures, len(want.Failures))
	for i, w := range want.Failures {
		g := got.Failures[i]
		assert.Equal(t, w.Index, g.Index)
		assert.Equal(t, w.Code, g.Code)
		assert.Equal(t, w.Reason, g.Reason)
		assert.True(t, w.Time.Equal(g.Time), "time %v != %v", w.Time, g.Time)
	}
	assert.Equal(t, want.Error(), got.Error())
	assert.Equal(t, want.Code(), got.Code())
}

func TestBatchErrorRoundTrip(t *testing.T) {
	want := batchWireSample()
	encodings := []struct {
		name   string
		encode func(*BatchError[batchAsset]) ([]byte, error)
		decode func([]byte) (*BatchError[batchAsset], error)
		raw    func([]byte) (*BatchError[json.RawMessage], error)
	}{
		{"mlflow", (*BatchError[batchAsset]).MarshalJSON, decodeBatch[batchAsset], decodeBatch[json.RawMessage]},
		{"problem", (*BatchError[batchAsset]).MarshalProblem, decodeBatch[batchAsset], decodeBatch[json.RawMessage]},
	}
	for _, enc := range encodings {
		t.Run(enc.name, func(t *testing.T) {
			b, err := enc.encode(want)
			require.NoError(t, err)
			got, err := enc.decode(b)
			require.NoError(t, err)
			assertSameBatchFailures(t, want, got)
			assert.Equal(t, want.Failed(), got.Failed(), "JSON items come back")
			for _, f := range got.Failures {
				assert.ErrorIs(t, f.Cause, f.Code, "the decoded cause carries the code")
				assert.Equal(t, f.Code.String()+": "+f.Reason, f.Cause.Error())
			}

			raw, err := enc.raw(b)
			require.NoError(t, err)
			assertSameBatchFailures(t, want, raw)
			assert.JSONEq(t, `{"path":"b.png","size":2}`, string(raw.Failures[1].Item))

			again, err := enc.encode(got)
			require.NoError(t, err)
			assert.JSONEq(t, string(b), string(again), "decode then encode is stable")
		})
	}
}

func TestBatchErrorUnmarshalIntoValue(t *testing.T) {
	b, err := json.Marshal(batchWireSample())
	require.NoError(t, err)
	var got BatchError[batchAsset]
	require.NoError(t, json.Unmarshal(b, &got))
	assertSameBatchFailures(t, batchWireSample(), &got)
	var target *BatchError[batchAsset]
	require.True(t, errors.As(error(&got), &target))
}

func TestBatchErrorItemsThatAreNotJSON(t *testing.T) {
	be := NewBatchError(3, []Failure[chan int]{{Item: make(chan int), Index: 1, Reason: "r", Code: CodeAborted, Time: batchT0}})
	b, err := json.Marshal(be)
	require.NoError(t, err, "an item that cannot be encoded is left out, not an error")
	assert.NotContains(t, string(b), `"item"`)
	got, err := decodeBatch[chan int](b)
	require.NoError(t, err)
	assertSameBatchFailures(t, be, got)
	assert.Nil(t, got.Failures[0].Item)
}

func TestBatchErrorDecodeUnknownCode(t *testing.T) {
	got, err := decodeBatch[json.RawMessage]([]byte(`{"error_code":"X","message":"m","details":{"total":2,"failures":[
		{"index":1,"error_code":"SOMETHING_NEW","reason":"odd"},{"index":0}]}}`))
	require.NoError(t, err)
	assert.Equal(t, CodeInternalError, got.Failures[1].Code)
	assert.Equal(t, "odd", got.Failures[1].Reason)
	assert.Equal(t, "SOMETHING_NEW: odd", got.Failures[1].Cause.Error(), "the name sent is kept")
	assert.Equal(t, "INTERNAL_ERROR", got.Failures[0].Reason, "no reason: the code's name")
	assert.True(t, got.Failures[0].Time.IsZero(), "no time stays no time")

	b, err := json.Marshal(got)
	require.NoError(t, err)
	assert.Contains(t, string(b), `"error_code":"SOMETHING_NEW"`, "re-encoded with the name sent")
}

func TestBatchErrorDecodeRejects(t *testing.T) {
	tests := []struct {
		name, mlflow string
	}{
		{"not JSON", `{`},
		{"not an object", `[1]`},
		{"no details", `{"error_code":"BAD_REQUEST","message":"x"}`},
		{"no failures", `{"details":{"total":3}}`},
		{"empty failures", `{"details":{"total":3,"failures":[]}}`},
		{"missing index", `{"details":{"total":3,"failures":[{"reason":"x"}]}}`},
		{"negative index", `{"details":{"total":3,"failures":[{"index":-1}]}}`},
		{"index not below total", `{"details":{"total":3,"failures":[{"index":3}]}}`},
		{"fractional index", `{"details":{"total":3,"failures":[{"index":1.5}]}}`},
		{"index twice", `{"details":{"total":3,"failures":[{"index":1},{"index":1}]}}`},
		{"total below failures", `{"details":{"total":1,"failures":[{"index":0},{"index":1}]}}`},
		{"bad time", `{"details":{"total":3,"failures":[{"index":1,"time":"yesterday"}]}}`},
		{"item of another shape", `{"details":{"total":3,"failures":[{"index":1,"item":"a string"}]}}`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			before := batchWireSample()
			err := before.UnmarshalJSON([]byte(tt.mlflow))
			require.Error(t, err)
			assert.Equal(t, CodeInvalidParameterValue, CodeOf(err))
			assertSameBatchFailures(t, batchWireSample(), before) // left unchanged

			got, err := decodeBatch[batchAsset]([]byte(tt.mlflow))
			assert.Nil(t, got)
			require.Error(t, err)
			if json.Valid([]byte(tt.mlflow)) { // else json.Unmarshal's own *json.SyntaxError
				assert.Equal(t, CodeInvalidParameterValue, CodeOf(err))
			}
		})
	}
	for _, problem := range []string{
		`{"type":"about:blank","status":400}`, // another type: read as MLflow JSON, which it is not
		`{"type":"` + problemTypePartialFailure + `","status":400}`,
		`{"type":"` + problemTypePartialFailure + `","errors":[{"index":0},{"index":0}]}`,
		`{"type":"` + problemTypePartialFailure + `","total":1,"errors":[{"index":0},{"index":1}]}`,
		`{"type":"` + problemTypePartialFailure + `","details":{"total":3,"failures":[{"index":1}]}}`,
	} {
		before := batchWireSample()
		err := json.Unmarshal([]byte(problem), before)
		assert.Equal(t, CodeInvalidParameterValue, CodeOf(err), "%s", problem)
		assertSameBatchFailures(t, batchWireSample(), before)
	}
}

func TestBatchErrorUnmarshalChoosesTheForm(t *testing.T) {
	tests := []struct {
		name, doc string
		wantTotal int
	}{
		{"MLflow JSON", `{"error_code":"ABORTED","details":{"total":5,"failures":[{"index":1,"error_code":"ABORTED"}]}}`, 5},
		{"problem", `{"type":"` + problemTypePartialFailure + `","total":6,"errors":[{"index":1,"error_code":"ABORTED"}]}`, 6},
		{"problem, type escaped", `{"type":"urn:mlerr:problem:partial\u002dfailure","total":7,"errors":[{"index":1}]}`, 7},
		{"another type is MLflow JSON", `{"type":"about:blank","total":9,"errors":[{"index":1}],"details":{"total":8,"failures":[{"index":1}]}}`, 8},
		{"a type that is no string is MLflow JSON", `{"type":1,"details":{"total":4,"failures":[{"index":1}]}}`, 4},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := decodeBatch[json.RawMessage]([]byte(tt.doc))
			require.NoError(t, err)
			assert.Equal(t, tt.wantTotal, got.Total)
			assert.Equal(t, []int{1}, failureIndexes(got))
		})
	}
}

func TestBatchProblemWithoutTotal(t *testing.T) {
	got, err := decodeBatch[json.RawMessage]([]byte(`{"type":"` + problemTypePartialFailure + `","errors":[{"index":7,"error_code":"ABORTED"},{"index":2}]}`))
	require.NoError(t, err)
	assert.Equal(t, 8, got.Total, "the largest index plus one")
	assert.Equal(t, []int{2, 7}, failureIndexes(got))
}

// FuzzBatchErrorUnmarshalJSON feeds arbitrary bytes to UnmarshalJSON. Whatever it
// accepts must be a valid batch error that survives both encodings and
// decoding again unchanged.
func FuzzBatchErrorUnmarshalJSON(f *testing.F) {
	mlflow, _ := json.Marshal(batchWireSample())
	problem, _ := batchWireSample().MarshalProblem()
	f.Add(mlflow)
	f.Add(problem)
	f.Add([]byte(`{"details":{"failures":[{"index":0,"error_code":"NOPE"}]}}`))
	f.Add([]byte(`{"type":"` + problemTypePartialFailure + `","errors":[{"index":9,"time":"2026-01-01T00:00:00.123456789+02:00","item":[1,{"a":null}]}]}`))
	f.Add([]byte(`{"details":{"total":5,"failures":[{"index":4,"error_code":"OK","reason":"\u00e9\ud800"}]}}`))
	f.Add([]byte(`{"errors":null}`))
	f.Fuzz(func(t *testing.T, data []byte) {
		be := new(BatchError[json.RawMessage])
		if err := be.UnmarshalJSON(data); err != nil {
			if CodeOf(err) != CodeInvalidParameterValue {
				t.Fatalf("error with code %v: %v", CodeOf(err), err)
			}
			return
		}
		encoders := []func(*BatchError[json.RawMessage]) ([]byte, error){
			(*BatchError[json.RawMessage]).MarshalJSON,
			(*BatchError[json.RawMessage]).MarshalProblem,
		}
		for _, encode := range encoders {
			if len(be.Failures) == 0 || be.Total < len(be.Failures) {
				t.Fatalf("accepted an invalid batch error: %+v", be)
			}
			for i, fl := range be.Failures {
				if fl.Index < 0 || fl.Index >= be.Total || i > 0 && fl.Index <= be.Failures[i-1].Index {
					t.Fatalf("failure %d has index %d (total %d)", i, fl.Index, be.Total)
				}
				if fl.Code == 0 || fl.Reason == "" || fl.Cause == nil {
					t.Fatalf("failure %d is incomplete: %+v", i, fl)
				}
			}
			b, err := encode(be)
			if err != nil {
				t.Fatalf("re-encoding: %v", err)
			}
			again, err := decodeBatch[json.RawMessage](b)
			if err != nil {
				t.Fatalf("decoding the re-encoded %s: %v", b, err)
			}
			if again.Total != be.Total || len(again.Failures) != len(be.Failures) {
				t.Fatalf("round trip changed the batch: %+v -> %+v", be, again)
			}
			for i, fl := range be.Failures {
				g := again.Failures[i]
				if g.Index != fl.Index || g.Code != fl.Code || g.Reason != fl.Reason || !g.Time.Equal(fl.Time) ||
					failureCodeName(&g) != failureCodeName(&fl) {
					t.Fatalf("failure %d changed: %+v -> %+v", i, fl, g)
				}
			}
		}
	})
}
