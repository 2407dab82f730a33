package mlerr

import (
	"bytes"
	"cmp"
	"encoding/json"
	"slices"
	"time"
)

// problemTypePartialFailure is the problem type (RFC 9457) of a batch error
// encoded by MarshalProblem.
const problemTypePartialFailure = "urn:mlerr:problem:partial-failure"

// batchWireFailure is one failure on the wire, in both encodings.
type batchWireFailure struct {
	Index     *int            `json:"index"`
	ErrorCode string          `json:"error_code,omitempty"`
	Reason    string          `json:"reason,omitempty"`
	Time      time.Time       `json:"time,omitzero"`
	Item      json.RawMessage `json:"item,omitempty"`
}

// batchWireDetails is the "details" member of a batch error in MLflow JSON.
type batchWireDetails struct {
	Total    *int               `json:"total"`
	Failures []batchWireFailure `json:"failures"`
}

// batchWireMLflow is a batch error in MLflow JSON.
type batchWireMLflow struct {
	ErrorCode string            `json:"error_code"`
	Message   string            `json:"message"`
	Details   *batchWireDetails `json:"details"`
}

// batchWireProblem is a batch error as an RFC 9457 problem with the extension
// members error_code, total and errors.
type batchWireProblem struct {
	Type      string             `json:"type"`
	Title     string             `json:"title"`
	Status    int                `json:"status"`
	Detail    string             `json:"detail"`
	ErrorCode string             `json:"error_code"`
	Total     *int               `json:"total"`
	Errors    []batchWireFailure `json:"errors"`
}

// MarshalJSON encodes the batch error as MLflow JSON: error_code is the
// overall code (Code), message the summary (Error), and details holds the
// total and one entry per failure with its index, error_code, reason, time
// (RFC 3339, absent when zero) and item (absent when it does not encode as
// JSON or encodes as null):
//
//	{"error_code":"RESOURCE_DOES_NOT_EXIST","message":"1 of 3 items failed: 1 x asset not found",
//	 "details":{"total":3,"failures":[{"index":2,"error_code":"RESOURCE_DOES_NOT_EXIST",
//	 "reason":"asset not found","time":"2026-02-02T15:32:30Z","item":"c.jpg"}]}}
//
// A nil BatchError encodes as null.
func (e *BatchError[T]) MarshalJSON() ([]byte, error) {
	if e == nil {
		return []byte("null"), nil
	}
	total := e.Total
	return json.Marshal(batchWireMLflow{
		ErrorCode: e.Code().String(),
		Message:   e.Error(),
		Details:   &batchWireDetails{Total: &total, Failures: e.wireFailures()},
	})
}

// MarshalProblem encodes the batch error as an RFC 9457 problem
// (application/problem+json): type problemTypePartialFailure, a title,
// status the overall code's HTTP status, detail the summary (Error), and the
// extension members error_code (the overall code), total, and errors: one
// entry per failure with its index, error_code, reason, time and item, as in
// MarshalJSON.
func (e *BatchError[T]) MarshalProblem() ([]byte, error) {
	if e == nil {
		return []byte("null"), nil
	}
	code := e.Code()
	total := e.Total
	return json.Marshal(batchWireProblem{
		Type:      problemTypePartialFailure,
		Title:     "Some items of the batch failed",
		Status:    code.HTTPStatus(),
		Detail:    e.Error(),
		ErrorCode: code.String(),
		Total:     &total,
		Errors:    e.wireFailures(),
	})
}

func (e *BatchError[T]) wireFailures() []batchWireFailure {
	out := make([]batchWireFailure, len(e.Failures))
	for i := range e.Failures {
		f := &e.Failures[i]
		index := f.Index
		out[i] = batchWireFailure{Index: &index, ErrorCode: failureCodeName(f), Reason: f.Reason, Time: f.Time, Item: wireItem(f.Item)}
	}
	return out
}

// wireItem is a failure's item as JSON; nil when it does not encode as JSON
// or encodes as null.
func wireItem(item any) json.RawMessage {
	raw, err := json.Marshal(item)
	if err != nil || bytes.Equal(raw, []byte("null")) {
		return nil
	}
	return raw
}

// failureCodeName is the error_code of a failure: the code's name, or the name a
// server sent for a code this library does not know.
func failureCodeName[T any](f *Failure[T]) string {
	if e, ok := f.Cause.(*Error); ok && e.code == f.Code && e.rawName() != "" {
		return e.rawName()
	}
	return f.Code.String()
}

// UnmarshalJSON decodes a batch error in either of its encodings, replacing
// e's contents: the problem form of MarshalProblem when the document's type
// member is problemTypePartialFailure, else the MLflow JSON of MarshalJSON.
// Each failure gets back its index, code, reason and time; its item when the
// entry has one (decoded into T: use json.RawMessage for items of unknown
// shape); and as Cause an *Error with the failure's code and reason, so
// errors.Is(err, code) still works. An error_code this library does not know
// gives INTERNAL_ERROR and is kept as the cause's Name. Without a total
// member the total is the number of failures or the largest index plus one,
// whichever is more. The members that only summarise the failures
// (error_code, message, title, status, detail) are not compared with them.
//
// Input that is not such a batch error (no details.failures member in the
// MLflow form, no errors member in the problem form, no failure, an index
// missing, negative, repeated or not below total, an item that does not
// decode into T) gives an *Error with code INVALID_PARAMETER_VALUE and leaves
// e unchanged.
func (e *BatchError[T]) UnmarshalJSON(data []byte) error {
	var form struct {
		Type json.RawMessage `json:"type"`
	}
	if err := json.Unmarshal(data, &form); err != nil {
		return Errorf(CodeInvalidParameterValue, "decoding a batch error: %w", err)
	}
	decode := batchFromMLflow[T]
	if isPartialFailureType(form.Type) {
		decode = batchFromProblem[T]
	}
	be, err := decode(data)
	if err != nil {
		return err
	}
	*e = *be
	return nil
}

// isPartialFailureType reports whether a type member is the string
// problemTypePartialFailure.
func isPartialFailureType(raw json.RawMessage) bool {
	var s string
	return len(raw) > 0 && json.Unmarshal(raw, &s) == nil && s == problemTypePartialFailure
}

// batchFromMLflow decodes the MLflow JSON of MarshalJSON.
func batchFromMLflow[T any](data []byte) (*BatchError[T], error) {
	var w batchWireMLflow
	if err := json.Unmarshal(data, &w); err != nil {
		return nil, Errorf(CodeInvalidParameterValue, "decoding a batch error: %w", err)
	}
	if w.Details == nil || w.Details.Failures == nil {
		return nil, InvalidParameterValue("decoding a batch error: no details.failures member")
	}
	return batchFromWire[T](w.Details.Total, w.Details.Failures)
}

// batchFromProblem decodes the problem form of MarshalProblem.
func batchFromProblem[T any](data []byte) (*BatchError[T], error) {
	var w batchWireProblem
	if err := json.Unmarshal(data, &w); err != nil {
		return nil, Errorf(CodeInvalidParameterValue, "decoding a batch problem: %w", err)
	}
	if w.Errors == nil {
		return nil, InvalidParameterValue("decoding a batch problem: no errors member")
	}
	return batchFromWire[T](w.Total, w.Errors)
}

// batchFromWire builds a BatchError from decoded entries, checking them.
// totalp is the total member, nil when there is none.
func batchFromWire[T any](totalp *int, ws []batchWireFailure) (*BatchError[T], error) {
	if err := checkFailureCount(totalp, len(ws)); err != nil {
		return nil, err
	}
	failures, err := failuresFromWire[T](totalp, ws)
	if err != nil {
		return nil, err
	}
	return &BatchError[T]{Failures: failures, Total: decodedTotal(totalp, failures)}, nil
}

// checkFailureCount fails when a batch error has no failures, or fewer items
// (the total member, when there is one) than failures.
func checkFailureCount(totalp *int, n int) error {
	if n == 0 {
		return InvalidParameterValue("decoding a batch error: no failures")
	}
	if totalp != nil && *totalp < n {
		return InvalidParameterValue("decoding a batch error: total %d is less than the %d failures", *totalp, n)
	}
	return nil
}

// failuresFromWire builds the failures from their entries, sorted by index.
func failuresFromWire[T any](totalp *int, ws []batchWireFailure) ([]Failure[T], error) {
	failures := make([]Failure[T], len(ws))
	for i := range ws {
		f, err := failureFromWire[T](i, &ws[i], totalp)
		if err != nil {
			return nil, err
		}
		failures[i] = f
	}
	return failures, sortByIndex(failures)
}

// decodedTotal is the total member, or without one the number of failures
// or the largest index plus one, whichever is more.
func decodedTotal[T any](totalp *int, failures []Failure[T]) int {
	if totalp != nil {
		return *totalp
	}
	return max(len(failures), failures[len(failures)-1].Index+1)
}

// sortByIndex sorts decoded failures by index, and fails when an index
// appears twice.
func sortByIndex[T any](failures []Failure[T]) error {
	slices.SortStableFunc(failures, func(a, b Failure[T]) int { return cmp.Compare(a.Index, b.Index) })
	for i := 1; i < len(failures); i++ {
		if failures[i].Index == failures[i-1].Index {
			return InvalidParameterValue("decoding a batch error: index %d appears twice", failures[i].Index)
		}
	}
	return nil
}

// failureFromWire builds failure i from its entry w.
func failureFromWire[T any](i int, w *batchWireFailure, totalp *int) (Failure[T], error) {
	if w.Index == nil {
		return Failure[T]{}, InvalidParameterValue("decoding a batch error: failure %d has no index", i)
	}
	f := Failure[T]{Index: *w.Index, Time: w.Time}
	if err := checkIndex(i, f.Index, totalp); err != nil {
		return f, err
	}
	f.Code, f.Reason, f.Cause = failureOutcome(w.ErrorCode, w.Reason)
	if err := decodeItem(w.Item, &f.Item); err != nil {
		return f, Errorf(CodeInvalidParameterValue, "decoding a batch error: item of failure %d (index %d): %w", i, f.Index, err)
	}
	return f, nil
}

// failureOutcome reads a failure's error_code and reason: its code, its
// reason (without one, the name sent or the code's), and its cause.
func failureOutcome(errorCode, reason string) (Code, string, error) {
	code, name := failureCode(errorCode)
	if reason == "" {
		reason = cmp.Or(name, code.String())
	}
	return code, reason, failureCause(code, reason, name)
}

// decodeItem decodes a failure's item member into item; an absent item
// leaves it zero.
func decodeItem[T any](raw json.RawMessage, item *T) error {
	if len(raw) == 0 {
		return nil
	}
	return json.Unmarshal(raw, item)
}

// checkIndex fails when the index of failure i is negative or, with a
// total member (totalp not nil), not below the total.
func checkIndex(i, index int, totalp *int) error {
	if index >= 0 && (totalp == nil || index < *totalp) {
		return nil
	}
	return InvalidParameterValue("decoding a batch error: failure %d has index %d, outside [0,%d)", i, index, valueOr0(totalp))
}

// valueOr0 is *p, or 0 for a nil p.
func valueOr0(p *int) int {
	if p == nil {
		return 0
	}
	return *p
}

// failureCode reads a failure's error_code: its code, and the name when the
// code is one this library does not know (INTERNAL_ERROR then). No name, or
// "OK" (no failure code), gives INTERNAL_ERROR.
func failureCode(errorCode string) (Code, string) {
	if errorCode == "" {
		return CodeInternalError, ""
	}
	c, err := ParseCode(errorCode)
	switch {
	case err != nil:
		return CodeInternalError, errorCode
	case c == 0:
		return CodeInternalError, ""
	}
	return c, ""
}

// failureCause is the Cause of a decoded failure: an *Error with its code and
// reason, and the name sent when the code is not known.
func failureCause(code Code, reason, name string) *Error {
	if name == "" {
		return New(code, reason)
	}
	cause := newWireError()
	cause.code, cause.message, cause.x.wire.name = code, reason, name
	return cause
}
