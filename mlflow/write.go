package mlflow

import (
	"context"
	"errors"
	"strings"

	"github.com/mlerr/mlerr"
)

// WriteBatch logs a batch's items to run b.RunID with as few runs/log-batch
// requests as MLflow's limits allow (MaxMetricsPerRequest,
// MaxParamsPerRequest, MaxTagsPerRequest, MaxItemsPerRequest), keeping the
// order of the items of each kind.
//
// Before anything is sent, each item is checked (ValidateItem); a param given
// twice in the batch is sent once (a second value that differs is rejected
// with kind mlerr.ErrParamChanged: params are write-once, the first value
// wins); of a tag given twice, the last value is sent. Metric points keep
// their own timestamps (a zero Item.Time is sent as 0), so resending the
// batch, as a retry does, stores every point once: MLflow keeps an identical
// (key, value, timestamp, step) once, a param re-sent with its value is a
// no-op, a tag re-sent is overwritten with itself. That is what makes
// WriteBatch idempotent per batch.
//
// When the server refuses a request holding params with a 400
// INVALID_PARAMETER_VALUE (a param logged before with another value, which
// MLflow refuses for the whole request), the request's metrics and tags are
// sent without the params and each param alone, so only the offending params
// are rejected, with kind mlerr.ErrParamChanged and the server's error as
// cause.
//
// Items rejected before sending or by the server come back in a
// *mlerr.BatchError[mlerr.Item] whose indexes point into b.Items; every other
// item is stored. Any other error (network, 5xx, auth, a missing or deleted
// run, of kind mlerr.ErrRunNotFound) means the batch is not known to be
// stored and may be written again.
func (b *Backend) WriteBatch(ctx context.Context, batch mlerr.Batch) error {
	if batch.RunID == "" {
		return mlerr.ErrInvalidRunParameters.New("mlflow: batch has no run id")
	}
	if len(batch.Items) == 0 {
		return nil
	}
	w := writer{b: b, batch: batch}
	chunks := w.plan()
	for i := range chunks {
		if err := w.send(ctx, &chunks[i]); err != nil {
			return err
		}
	}
	if be := mlerr.NewBatchError(len(batch.Items), w.fails); be != nil {
		return be
	}
	return nil
}

// writer is one WriteBatch call.
type writer struct {
	b     *Backend
	batch mlerr.Batch
	fails []mlerr.Failure[mlerr.Item]
}

// chunk is one runs/log-batch request, with the index in the batch of each
// item it carries.
type chunk struct {
	metrics []Metric
	mIdx    []int
	params  []Param
	pIdx    []int
	tags    []RunTag
	tIdx    []int
}

func (w *writer) reject(i int, err error) {
	w.fails = append(w.fails, mlerr.Failure[mlerr.Item]{
		Item: w.batch.Items[i], Index: i, Reason: reasonFor(err), Cause: err,
	})
}

// plan checks the items and splits the ones to send into requests.
func (w *writer) plan() []chunk {
	items := w.batch.Items
	send := make([]bool, len(items))
	firstParam := map[string]int{}
	lastTag := map[string]int{}
	for i, it := range items {
		if err := ValidateItem(it); err != nil {
			w.reject(i, err)
			continue
		}
		switch it.Kind {
		case mlerr.ItemParam:
			if j, ok := firstParam[it.Key]; ok {
				if items[j].Text != it.Text {
					w.reject(i, mlerr.ErrParamChanged.Errorf(
						"param %q is given twice in the batch with different values; params are write-once and the first value is kept", it.Key))
				}
				continue
			}
			firstParam[it.Key] = i
		case mlerr.ItemTag:
			if j, ok := lastTag[it.Key]; ok {
				send[j] = false
			}
			lastTag[it.Key] = i
		}
		send[i] = true
	}
	var mIdx, pIdx, tIdx []int
	for i, it := range items {
		if !send[i] {
			continue
		}
		switch it.Kind {
		case mlerr.ItemMetric:
			mIdx = append(mIdx, i)
		case mlerr.ItemParam:
			pIdx = append(pIdx, i)
		case mlerr.ItemTag:
			tIdx = append(tIdx, i)
		}
	}
	// Each request takes as many params and tags as it may and fills the
	// rest with metrics: the fewest requests, each kind in its order.
	var chunks []chunk
	for len(mIdx)+len(pIdx)+len(tIdx) > 0 {
		var c chunk
		np := min(len(pIdx), MaxParamsPerRequest)
		nt := min(len(tIdx), MaxTagsPerRequest)
		nm := min(len(mIdx), MaxMetricsPerRequest, MaxItemsPerRequest-np-nt)
		for _, i := range pIdx[:np] {
			c.params = append(c.params, Param{Key: items[i].Key, Value: items[i].Text})
		}
		for _, i := range tIdx[:nt] {
			c.tags = append(c.tags, RunTag{Key: items[i].Key, Value: items[i].Text})
		}
		for _, i := range mIdx[:nm] {
			c.metrics = append(c.metrics, metricOf(items[i]))
		}
		c.pIdx, c.tIdx, c.mIdx = pIdx[:np], tIdx[:nt], mIdx[:nm]
		pIdx, tIdx, mIdx = pIdx[np:], tIdx[nt:], mIdx[nm:]
		chunks = append(chunks, c)
	}
	return chunks
}

// metricOf converts a metric item, keeping its timestamp to the millisecond.
func metricOf(it mlerr.Item) Metric {
	var ts int64
	if !it.Time.IsZero() {
		ts = it.Time.UnixMilli()
	}
	return Metric{Key: it.Key, Value: it.Value, Timestamp: ts, Step: it.Step}
}

// send sends one request; see WriteBatch for what happens on a 400.
func (w *writer) send(ctx context.Context, c *chunk) error {
	runID := w.batch.RunID
	err := w.b.c.LogBatch(ctx, runID, c.metrics, c.params, c.tags)
	if err == nil {
		return nil
	}
	if len(c.params) == 0 || !itemRejection(err) {
		return runGone(err, runID)
	}
	if len(c.metrics)+len(c.tags) > 0 {
		if err := w.b.c.LogBatch(ctx, runID, c.metrics, nil, c.tags); err != nil {
			return runGone(err, runID)
		}
	}
	for i, p := range c.params {
		err := w.b.c.LogBatch(ctx, runID, nil, []Param{p}, nil)
		switch {
		case err == nil:
		case itemRejection(err):
			w.reject(c.pIdx[i], paramRejected(err, p.Key))
		default:
			return runGone(err, runID)
		}
	}
	return nil
}

// itemRejection reports whether err is the server refusing what a request
// carries (400 INVALID_PARAMETER_VALUE), not the run itself.
func itemRejection(err error) bool {
	e := mlerr.AsError(err)
	return e != nil && e.Code() == mlerr.CodeInvalidParameterValue && e.HTTPStatus() == 400 &&
		!strings.Contains(e.Message(), "must be in the 'active' state")
}

// paramRejected gives the server's refusal of one param the kind
// mlerr.ErrParamChanged when it says the value changed, keeping its code and
// status (the server's error is the cause).
func paramRejected(err error, key string) error {
	e := mlerr.AsError(err)
	if !strings.Contains(e.Message(), "Changing param values is not allowed") {
		return err
	}
	return mlerr.New(e.Code(), "param "+quote(key)+" was logged before with another value; params are write-once").
		WithKind(mlerr.ErrParamChanged).WithHTTPStatus(e.HTTPStatus()).WithCause(err)
}

func quote(s string) string { return "\"" + strings.ReplaceAll(s, "\"", "\\\"") + "\"" }

// reasonFor names a rejection's cause for BatchError.ByReason, without the
// item's key, so rejections of one kind group together.
func reasonFor(err error) string {
	switch {
	case errors.Is(err, mlerr.ErrParamChanged):
		return "param value changed"
	case errors.Is(err, mlerr.ErrInvalidName):
		return "invalid key"
	case errors.Is(err, mlerr.ErrValueTooLarge):
		return "value too long"
	}
	if e := mlerr.AsError(err); e != nil {
		return e.Message()
	}
	return err.Error()
}
