package grpcerr_test

import (
	"encoding/json"
	"errors"
	"fmt"
	"testing"
	"time"

	"github.com/mlerr/mlerr"
	"github.com/mlerr/mlerr/grpcerr"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"google.golang.org/genproto/googleapis/rpc/errdetails"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"
)

var failedAt = time.Date(2026, 2, 2, 15, 32, 30, 123456789, time.UTC)

// itemBatch is a batch of 5 metrics of which 3 failed.
func itemBatch() *mlerr.BatchError[mlerr.Item] {
	return mlerr.NewBatchError(5, []mlerr.Failure[mlerr.Item]{
		{Item: mlerr.Item{Kind: mlerr.ItemMetric, Key: "loss", Value: 1.5, Step: 3}, Index: 1, Reason: "not finite",
			Code: mlerr.CodeInvalidParameterValue, Time: failedAt},
		{Item: mlerr.Item{Kind: mlerr.ItemParam, Key: "lr", Text: "0.1"}, Index: 2, Reason: "param changed",
			Code: mlerr.CodeInvalidParameterValue, Time: failedAt},
		{Item: mlerr.Item{Kind: mlerr.ItemTag, Key: "", Text: "x"}, Index: 4, Reason: "run gone",
			Cause: mlerr.New(mlerr.CodeResourceDoesNotExist, "run gone"), Time: failedAt},
	})
}

// failureView is what a failure says, items as JSON, for comparisons.
type failureView struct {
	Index  int
	Reason string
	Code   mlerr.Code
	Time   time.Time
	Item   string
}

func viewOf[T any](t *testing.T, be *mlerr.BatchError[T]) (int, []failureView) {
	t.Helper()
	var out []failureView
	for _, f := range be.Failures {
		item, err := json.Marshal(f.Item)
		require.NoError(t, err)
		out = append(out, failureView{f.Index, f.Reason, f.Code, f.Time, string(item)})
	}
	return be.Total, out
}

func TestBatchRoundTrip(t *testing.T) {
	tests := []struct {
		name  string
		err   error
		batch func() (int, []failureView)
		want  []violation
		code  codes.Code
		extra map[string]string // details of the *mlerr.Error above the batch
	}{
		{
			name:  "a batch of items with keys",
			err:   itemBatch(),
			batch: func() (int, []failureView) { return viewOf(t, itemBatch()) },
			want: []violation{
				{"loss", "not finite", "INVALID_PARAMETER_VALUE"},
				{"lr", "param changed", "INVALID_PARAMETER_VALUE"},
				{"4", "run gone", "RESOURCE_DOES_NOT_EXIST"}, // no key: the index
			},
			code: codes.Code(itemBatch().Code().GRPC()),
		},
		{
			name: "a batch of strings: fields are indexes",
			err: mlerr.NewBatchError(3, []mlerr.Failure[string]{
				{Item: "c.jpg", Index: 2, Reason: "asset not found", Code: mlerr.CodeResourceDoesNotExist, Time: failedAt},
			}),
			batch: func() (int, []failureView) {
				return 3, []failureView{{2, "asset not found", mlerr.CodeResourceDoesNotExist, failedAt, `"c.jpg"`}}
			},
			want: []violation{{"2", "asset not found", "RESOURCE_DOES_NOT_EXIST"}},
			code: codes.NotFound,
		},
		{
			name:  "an *mlerr.Error whose cause is a batch",
			err:   fmt.Errorf("flush: %w", mlerr.New(mlerr.CodeDataLoss, "3 items lost").WithDetail("lost_items", 3).WithCause(itemBatch())),
			batch: func() (int, []failureView) { return viewOf(t, itemBatch()) },
			want: []violation{
				{"loss", "not finite", "INVALID_PARAMETER_VALUE"},
				{"lr", "param changed", "INVALID_PARAMETER_VALUE"},
				{"4", "run gone", "RESOURCE_DOES_NOT_EXIST"},
			},
			code:  codes.DataLoss,
			extra: map[string]string{"lost_items": "3"},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s := grpcerr.Status(tt.err)
			assert.Equal(t, tt.code, s.Code())
			d := detailsOf(t, s)
			assert.Equal(t, tt.want, violationsOf(d.bad))
			require.NotNil(t, d.info)
			assert.Contains(t, d.info.GetMetadata(), "batch_total")
			assert.Contains(t, d.info.GetMetadata(), "batch_failures")

			back := grpcerr.FromStatus(s)
			var be *mlerr.BatchError[json.RawMessage]
			require.ErrorAs(t, back, &be)
			wantTotal, wantFailures := tt.batch()
			gotTotal, gotFailures := viewOf(t, be)
			assert.Equal(t, wantTotal, gotTotal)
			require.Len(t, gotFailures, len(wantFailures))
			for i := range wantFailures {
				assert.True(t, wantFailures[i].Time.Equal(gotFailures[i].Time), "failure %d: time", i)
				wantFailures[i].Time, gotFailures[i].Time = time.Time{}, time.Time{}
			}
			assert.Equal(t, wantFailures, gotFailures)
			assert.Equal(t, tt.extra, decodedOf(t, back).Details, "the batch's metadata is not a detail")
			for _, f := range be.Failures {
				assert.True(t, errors.Is(back, f.Code), "errors.Is finds the failure's code %s", f.Code)
			}
			// Re-encoding the decoded *mlerr.Error gives the same status.
			assertSameStatus(t, s, grpcerr.Status(mlerr.AsError(back)))
		})
	}
}

func TestBatchFromAnotherServersBadRequest(t *testing.T) {
	bad := &errdetails.BadRequest{FieldViolations: []*errdetails.BadRequest_FieldViolation{
		{Field: "metrics[0].key", Description: "must not be empty", Reason: "FIELD_REQUIRED"},
		{Field: "params[1]", Description: "changed", Reason: "RESOURCE_CONFLICT"},
		{Field: "tags[0]"}, // no description: the code's name is the reason, as NewBatchError completes it
	}}
	s := withDetails(t, status.New(codes.InvalidArgument, "bad batch"), bad)
	e := grpcerr.FromStatus(s)
	assert.Equal(t, mlerr.CodeInvalidParameterValue, mlerr.CodeOf(e))
	var be *mlerr.BatchError[json.RawMessage]
	require.ErrorAs(t, e, &be)
	total, failures := viewOf(t, be)
	assert.Equal(t, 3, total)
	assert.Equal(t, []failureView{
		{0, "must not be empty", mlerr.CodeInvalidParameterValue, time.Time{}, `"metrics[0].key"`},
		{1, "changed", mlerr.CodeResourceConflict, time.Time{}, `"params[1]"`},
		{2, "INVALID_PARAMETER_VALUE", mlerr.CodeInvalidParameterValue, time.Time{}, `"tags[0]"`},
	}, failures)
	// Re-encoded, it is the same batch: an empty reason would not survive
	// the batch's JSON, which omits it (found by FuzzFromStatus).
	var again *mlerr.BatchError[json.RawMessage]
	require.ErrorAs(t, grpcerr.FromStatus(grpcerr.Status(mlerr.AsError(e))), &again)
	_, failuresAgain := viewOf(t, again)
	assert.Equal(t, failures, failuresAgain)
}

func TestBatchFromStatusIsBounded(t *testing.T) {
	const n = 12_000
	bad := &errdetails.BadRequest{FieldViolations: make([]*errdetails.BadRequest_FieldViolation, n)}
	for i := range bad.FieldViolations {
		bad.FieldViolations[i] = &errdetails.BadRequest_FieldViolation{Field: "f"}
	}
	s := withDetails(t, status.New(codes.InvalidArgument, "many"), bad)
	var be *mlerr.BatchError[json.RawMessage]
	require.ErrorAs(t, grpcerr.FromStatus(s), &be)
	assert.Len(t, be.Failures, 10_000)
	assert.Equal(t, n, be.Total)

	failures := make([]mlerr.Failure[int], n)
	for i := range failures {
		failures[i] = mlerr.Failure[int]{Item: i, Index: i, Reason: "r", Code: mlerr.CodeAborted, Time: failedAt}
	}
	s = grpcerr.Status(mlerr.NewBatchError(n, failures))
	be = nil
	require.ErrorAs(t, grpcerr.FromStatus(s), &be)
	assert.Len(t, be.Failures, 10_000, "a batch of ours is bounded alike")
	assert.Equal(t, n, be.Total)
}

func TestBatchMetadataThatIsNoBatch(t *testing.T) {
	// An ErrorInfo of ours whose batch keys do not hold a batch: they are
	// plain details, and no batch is made of the BadRequest.
	s := withDetails(t, status.New(codes.InvalidArgument, "m"),
		&errdetails.ErrorInfo{Reason: "INVALID_PARAMETER_VALUE", Domain: grpcerr.Domain,
			Metadata: map[string]string{"batch_total": "2", "batch_failures": "[]"}},
		&errdetails.BadRequest{FieldViolations: []*errdetails.BadRequest_FieldViolation{{Field: "k"}}})
	e := grpcerr.FromStatus(s)
	var be *mlerr.BatchError[json.RawMessage]
	assert.False(t, errors.As(e, &be))
	assert.Equal(t, map[string]string{"batch_total": "2", "batch_failures": "[]"}, decodedOf(t, e).Details)
}
