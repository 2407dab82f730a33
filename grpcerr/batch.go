package grpcerr

import (
	"encoding/json"
	"errors"
	"strconv"

	"github.com/mlerr/mlerr"
	"google.golang.org/genproto/googleapis/rpc/errdetails"
)

// The ErrorInfo metadata keys that carry a batch (see Status).
const (
	metaBatchTotal    = "batch_total"
	metaBatchFailures = "batch_failures"
)

// maxFailures bounds the failures FromStatus reads back from one status, so
// that a status of many tiny violations cannot make it allocate without
// bound. It is ten times MLflow's largest batch (1,000 metrics).
const maxFailures = 10_000

// batchError is what Status recognises as a batch: a *mlerr.BatchError of
// any item type, which encodes itself as MLflow JSON with its failures in
// details.failures.
type batchError interface {
	error
	Code() mlerr.Code
	MarshalJSON() ([]byte, error)
	MarshalProblem() ([]byte, error)
	Unwrap() []error
}

// batchIn returns the first batch in err's chain, or nil.
func batchIn(err error) batchError {
	if err == nil {
		return nil // without a cause, nothing escapes to the heap
	}
	var b batchError
	if errors.As(err, &b) {
		return b
	}
	return nil
}

// batchWire is a batch error in MLflow JSON (BatchError.MarshalJSON), with
// only the members Status uses.
type batchWire struct {
	Details struct {
		Total    json.RawMessage `json:"total"`
		Failures json.RawMessage `json:"failures"`
	} `json:"details"`
	failures []wireFailure
}

// wireFailure is one entry of details.failures.
type wireFailure struct {
	Index     int             `json:"index"`
	ErrorCode string          `json:"error_code"`
	Reason    string          `json:"reason"`
	Item      json.RawMessage `json:"item"`
}

// batchWireOf returns b's MLflow JSON, decoded, or nil when b is nil or
// does not encode as a batch.
func batchWireOf(b batchError) *batchWire {
	if b == nil {
		return nil
	}
	data, err := b.MarshalJSON()
	w := new(batchWire)
	if err != nil || json.Unmarshal(data, w) != nil || json.Unmarshal(w.Details.Failures, &w.failures) != nil ||
		len(w.failures) == 0 || len(w.Details.Total) == 0 {
		return nil
	}
	return w
}

// badRequest returns a violation per failure.
func (w *batchWire) badRequest() *errdetails.BadRequest {
	bad := &errdetails.BadRequest{FieldViolations: make([]*errdetails.BadRequest_FieldViolation, len(w.failures))}
	for i, f := range w.failures {
		field, ok := itemKey(f.Item)
		if !ok {
			field = strconv.Itoa(f.Index)
		}
		bad.FieldViolations[i] = &errdetails.BadRequest_FieldViolation{
			Field:       validUTF8(field),
			Description: validUTF8(f.Reason),
			Reason:      validUTF8(f.ErrorCode),
		}
	}
	return bad
}

// itemKey returns the "key" member of an item encoded as a JSON object
// (matched without regard to case, as encoding/json does, so mlerr.Item's
// Key), when it is a non-empty string.
func itemKey(item json.RawMessage) (string, bool) {
	if len(item) == 0 || item[0] != '{' {
		return "", false
	}
	var k struct{ Key *string }
	if json.Unmarshal(item, &k) != nil || k.Key == nil || *k.Key == "" {
		return "", false
	}
	return *k.Key, true
}

// batchFromMetadata rebuilds the batch Status wrote into an ErrorInfo's
// metadata; ok is false when the metadata holds none.
func batchFromMetadata(meta map[string]string) (be *mlerr.BatchError[json.RawMessage], ok bool) {
	total, hasTotal := meta[metaBatchTotal]
	failures, hasFailures := meta[metaBatchFailures]
	if !hasTotal || !hasFailures {
		return nil, false
	}
	var entries []json.RawMessage
	if json.Unmarshal([]byte(failures), &entries) != nil {
		return nil, false
	}
	if len(entries) > maxFailures {
		entries = entries[:maxFailures]
	}
	var doc struct {
		Details struct {
			Total    json.RawMessage   `json:"total"`
			Failures []json.RawMessage `json:"failures"`
		} `json:"details"`
	}
	doc.Details.Total, doc.Details.Failures = json.RawMessage(total), entries
	data, err := json.Marshal(doc)
	if err != nil {
		return nil, false
	}
	be = new(mlerr.BatchError[json.RawMessage])
	if be.UnmarshalJSON(data) != nil {
		return nil, false
	}
	return be, true
}

// batchFromViolations turns a BadRequest that did not come with the batch
// itself (a server other than this package's) into a batch: one failure per
// violation (the first maxFailures), at the violation's position, whose item is the field as a JSON
// string, whose reason is the description (the code's name when it is
// empty, as mlerr.NewBatchError completes a failure), and whose code is the
// violation's reason when that is an MLflow code name, else def.
func batchFromViolations(bad *errdetails.BadRequest, def mlerr.Code) *mlerr.BatchError[json.RawMessage] {
	vs := bad.GetFieldViolations()
	total := len(vs)
	if total == 0 {
		return nil
	}
	if len(vs) > maxFailures {
		vs = vs[:maxFailures]
	}
	failures := make([]mlerr.Failure[json.RawMessage], len(vs))
	for i, v := range vs {
		code, err := mlerr.ParseCode(v.GetReason())
		if err != nil || code == 0 {
			code = def
		}
		reason := v.GetDescription()
		if reason == "" {
			reason = code.String()
		}
		item, _ := json.Marshal(v.GetField())
		failures[i] = mlerr.Failure[json.RawMessage]{Item: item, Index: i, Reason: reason, Code: code, Cause: mlerr.New(code, reason)}
	}
	return &mlerr.BatchError[json.RawMessage]{Failures: failures, Total: total}
}
