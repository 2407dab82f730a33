package localstore

import (
	"context"
	"io/fs"
	"path/filepath"

	"github.com/mlerr/mlerr"
)

// BatchLimits bound the requests a replay sends: it joins consecutive
// stored batches into one WriteBatch while the joined batch holds at most
// Metrics metric points, Params params, Tags tags and Items items in all. A
// zero field is MLflow's limit for one runs/log-batch (1000 metrics, 100
// params, 100 tags, 1000 items: mlflow.MaxMetricsPerRequest and its
// neighbours), the default since a store is synced to MLflow. A stored
// batch larger than the limits is sent alone (the backend splits it).
type BatchLimits struct {
	Metrics, Params, Tags, Items int
}

// WithBatchLimits sets the size of the requests a replay sends (see
// BatchLimits); the default is MLflow's.
func WithBatchLimits(l BatchLimits) ReplayOption {
	return func(r *replayer) { r.limits = l }
}

// MLflow's limits for one runs/log-batch (mlflow/limits.go; localstore
// does not import the mlflow package).
const (
	mlflowMaxMetrics = 1000
	mlflowMaxParams  = 100
	mlflowMaxTags    = 100
	mlflowMaxItems   = 1000
)

// withDefaults puts MLflow's limits in place of zeros (and negatives).
func (l BatchLimits) withDefaults() BatchLimits {
	for _, f := range []struct {
		n   *int
		def int
	}{{&l.Metrics, mlflowMaxMetrics}, {&l.Params, mlflowMaxParams}, {&l.Tags, mlflowMaxTags}, {&l.Items, mlflowMaxItems}} {
		if *f.n <= 0 {
			*f.n = f.def
		}
	}
	return l
}

// fits reports whether c is within the limits.
func (l BatchLimits) fits(c counts) bool {
	return c.Metrics <= l.Metrics && c.Params <= l.Params && c.Tags <= l.Tags && c.Items() <= l.Items
}

// uploader sends the log of one run from its cursor on, joining stored
// batches into requests of the replay's limits.
//
// Exactly once: a request carries the stored batches first..last and is
// sent with Seq = last (a log position, as a request of one stored batch
// always had), so its Seq is new to the remote run and the same every time
// it is sent. Before it is sent, the cursor records it as pending; the
// cursor moves past it only once the backend acknowledged it. A replay that
// finds a pending request (the previous one was interrupted while sending
// it) sends exactly that request again, with the same Seq, before joining
// anything else: the log may have grown meanwhile, and a larger request
// under another Seq would store its first batches twice. The pending mark
// and the acknowledgement of the request before it are one cursor write.
type uploader struct {
	r      *replayer
	ctx    context.Context
	dir    string // the run's directory
	remote string // the remote run id
	mode   fs.FileMode
	limits BatchLimits

	cur  *cursor
	rr   *RunReport
	prog *Progress

	g     joined
	dirty bool // cur moved in memory since it was last written
}

// joined is the request being built: stored batches first..last.
type joined struct {
	first, last int
	end         int64 // log offset after batch last
	items       []mlerr.Item
	c           counts
}

// upload sends the run's batches that the cursor does not cover. An error
// of the backend comes back as a backendError.
func (u *uploader) upload() error {
	idx := 0
	err := scanRun(u.dir, func(rec record) error {
		idx++
		if idx <= u.cur.Batches {
			return u.skip(idx, rec)
		}
		return u.add(idx, rec)
	}, nil)
	if err != nil {
		return err
	}
	return u.finish()
}

// skip checks that the last batch the cursor covers ends where it says.
func (u *uploader) skip(idx int, rec record) error {
	if idx == u.cur.Batches && rec.end() != u.cur.Offset {
		return corrupted(filepath.Join(u.dir, logFile), rec.off, "the log does not match its sync cursor (batch %d ends at %d, cursor says %d)", idx, rec.end(), u.cur.Offset)
	}
	return nil
}

// add joins stored batch idx to the request, sending the request first
// when the batch would not fit, and after it when it completes a pending
// request.
func (u *uploader) add(idx int, rec record) error {
	_, items, err := decodeBatch(rec.payload)
	if err != nil {
		return err
	}
	c := countOf(items)
	grown := counts{u.g.c.Metrics + c.Metrics, u.g.c.Params + c.Params, u.g.c.Tags + c.Tags}
	if u.g.last > 0 && idx > u.cur.Pending && !u.limits.fits(grown) {
		if err := u.flush(); err != nil {
			return err
		}
		grown = c
	}
	if u.g.last == 0 {
		u.g.first = idx
	}
	u.g.last, u.g.end, u.g.c = idx, rec.end(), grown
	u.g.items = append(u.g.items, items...)
	if idx == u.cur.Pending {
		return u.flush()
	}
	return nil
}

// flush marks the request pending, sends it and moves the cursor past it
// in memory (the next write saves it).
func (u *uploader) flush() error {
	g := u.g
	u.cur.Pending = g.last
	if err := u.save(); err != nil {
		return callerError{err}
	}
	rejected, err := u.r.send(u.ctx, mlerr.Batch{RunID: u.remote, Seq: uint64(g.last), Items: g.items})
	if err != nil {
		return callerError{backendError{err}}
	}
	if len(rejected) > 0 {
		if err := appendRejections(u.dir, u.r.target, rejected, u.mode); err != nil {
			return callerError{err}
		}
	}
	u.acked(g, len(rejected))
	u.rr.Rejected = append(u.rr.Rejected, rejected...)
	u.g = joined{items: g.items[:0]}
	return nil
}

// acked moves the cursor, the report and the progress past request g.
func (u *uploader) acked(g joined, rejected int) {
	n := len(g.items)
	u.cur.Batches, u.cur.Offset, u.cur.Pending = g.last, g.end, 0
	u.cur.Items += n - rejected
	u.cur.Rejected += rejected
	u.dirty = true
	u.rr.Batches += g.last - g.first + 1
	u.rr.Requests++
	u.rr.Items += n - rejected
	u.r.done += n
	u.prog.Batches, u.prog.Items = g.last, u.r.done
	u.r.report(*u.prog)
}

// finish sends the last request and saves the cursor. A pending request
// the log does not hold whole means the log lost batches: nothing is sent.
func (u *uploader) finish() error {
	if u.cur.Pending > max(u.cur.Batches, u.g.last) {
		return corrupted(filepath.Join(u.dir, logFile), 0, "the log has %d batches but its sync cursor says batches up to %d were being sent", max(u.cur.Batches, u.g.last), u.cur.Pending)
	}
	if u.g.last > 0 {
		if err := u.flush(); err != nil {
			var ce callerError
			if asCaller(err, &ce) {
				return ce.err
			}
			return err
		}
	}
	if u.dirty {
		return u.save()
	}
	return nil
}

// save writes the cursor.
func (u *uploader) save() error {
	u.cur.Updated = u.r.now()
	u.dirty = false
	return writeCursor(u.dir, *u.cur, u.mode)
}

func asCaller(err error, ce *callerError) bool {
	c, ok := err.(callerError)
	if ok {
		*ce = c
	}
	return ok
}

// countOf counts items by kind.
func countOf(items []mlerr.Item) counts {
	var c counts
	for _, it := range items {
		c.add(it.Kind) // artifacts are not counted
	}
	return c
}
