package mlflow

import (
	"context"
	"errors"
	"strings"
	"time"

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

// chunk is one runs/log-batch request: the indexes in the batch of the
// items it carries, of each kind.
type chunk struct {
	mIdx, pIdx, tIdx []int
}

func (w *writer) reject(i int, err error) {
	w.fails = append(w.fails, mlerr.Failure[mlerr.Item]{
		Item: w.batch.Items[i], Index: i, Reason: reasonFor(err), Cause: err,
	})
}

// plan checks the items and splits the ones to send into requests.
func (w *writer) plan() []chunk {
	mIdx, pIdx, tIdx := w.sort(w.check())
	// Each request takes as many params and tags as it may and fills the
	// rest with metrics: the fewest requests, each kind in its order.
	chunks := make([]chunk, 0, 1+len(mIdx)/MaxMetricsPerRequest)
	for len(mIdx)+len(pIdx)+len(tIdx) > 0 {
		np := min(len(pIdx), MaxParamsPerRequest)
		nt := min(len(tIdx), MaxTagsPerRequest)
		nm := min(len(mIdx), MaxMetricsPerRequest, MaxItemsPerRequest-np-nt)
		chunks = append(chunks, chunk{mIdx: mIdx[:nm], pIdx: pIdx[:np], tIdx: tIdx[:nt]})
		pIdx, tIdx, mIdx = pIdx[np:], tIdx[nt:], mIdx[nm:]
	}
	return chunks
}

// check validates the items and returns which ones to send: not rejected,
// a param's first occurrence, a tag's last.
func (w *writer) check() []bool {
	items := w.batch.Items
	send := make([]bool, len(items))
	var firstParam, lastTag map[string]int
	for i := range items {
		it := &items[i]
		if err := validateItem(it); err != nil {
			w.reject(i, err)
			continue
		}
		switch it.Kind {
		case mlerr.ItemParam:
			if firstParam == nil {
				firstParam = map[string]int{}
			}
			if j, ok := firstParam[it.Key]; ok {
				if items[j].Text != it.Text {
					w.reject(i, mlerr.ErrParamChanged.Errorf(
						"param %q is given twice in the batch with different values; params are write-once and the first value is kept", it.Key))
				}
				continue
			}
			firstParam[it.Key] = i
		case mlerr.ItemTag:
			if lastTag == nil {
				lastTag = map[string]int{}
			}
			if j, ok := lastTag[it.Key]; ok {
				send[j] = false
			}
			lastTag[it.Key] = i
		}
		send[i] = true
	}
	return send
}

// sort returns the indexes of the items to send, by kind, in their order.
func (w *writer) sort(send []bool) (mIdx, pIdx, tIdx []int) {
	mIdx = make([]int, 0, len(send))
	for i := range w.batch.Items {
		if !send[i] {
			continue
		}
		switch w.batch.Items[i].Kind {
		case mlerr.ItemMetric:
			mIdx = append(mIdx, i)
		case mlerr.ItemParam:
			pIdx = append(pIdx, i)
		case mlerr.ItemTag:
			tIdx = append(tIdx, i)
		}
	}
	return mIdx, pIdx, tIdx
}

// millis is t in milliseconds since the epoch, 0 for the zero time.
func millis(t time.Time) int64 {
	if t.IsZero() {
		return 0
	}
	return t.UnixMilli()
}

// send sends one request; see WriteBatch for what happens on a 400.
func (w *writer) send(ctx context.Context, c *chunk) error {
	runID, items := w.batch.RunID, w.batch.Items
	err := w.b.c.logBatchBody(ctx, encodeItems(runID, items, c.mIdx, c.pIdx, c.tIdx))
	if err == nil {
		return nil
	}
	if len(c.pIdx) == 0 || !itemRejection(err) {
		return runGone(err, runID)
	}
	if len(c.mIdx)+len(c.tIdx) > 0 {
		if err := w.b.c.logBatchBody(ctx, encodeItems(runID, items, c.mIdx, nil, c.tIdx)); err != nil {
			return runGone(err, runID)
		}
	}
	for n, i := range c.pIdx {
		err := w.b.c.logBatchBody(ctx, encodeItems(runID, items, nil, c.pIdx[n:n+1], nil))
		switch {
		case err == nil:
		case itemRejection(err):
			w.reject(i, paramRejected(err, items[i].Key))
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
