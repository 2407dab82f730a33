package localstore

import (
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"sync"

	"github.com/mlerr/mlerr"
)

// spoolName is the 8-byte name in the header of a spool segment.
const spoolName = "MLERRSPL"

const (
	spoolCursorFile = "cursor.json"
	spoolLockFile   = "lock"
	segmentExt      = ".seg"
	// DefaultSegmentSize is the size past which a spool starts a new
	// segment file.
	DefaultSegmentSize = 8 << 20
	// maxPushRecord bounds the items of one spool record; a larger Push is
	// split into several records.
	maxPushRecord = 4096
)

// Spool is a durable FIFO of items on disk: the overflow area of a Run
// whose queue fills up during an outage (mlerr's spill policy). It
// implements mlerr.Spool and is safe for concurrent use.
//
// Push appends to segment files and fsyncs before returning; Ack moves a
// cursor that is saved atomically, and deletes the segments it has passed.
// After a crash, OpenSpool finds every pushed and not acknowledged item
// again, in order (an item acknowledged just before the crash may come back:
// Ack is durable when it returns, not before). A torn tail of the last
// segment is cut.
type Spool struct {
	mu      sync.Mutex
	dir     string
	segSize int64
	lock    *os.File
	active  *appendFile // last segment, open for appending
	seg     uint64      // number of the active segment
	recs    []spoolRec  // records not fully acknowledged, oldest first
	skip    int         // items of recs[0] already acknowledged
	n       int         // items spooled (Len)
	keys    map[string]uint64
	buf     []byte
	closed  bool
	mode    fs.FileMode // of the files it creates
}

var _ mlerr.Spool = (*Spool)(nil)

// spoolRec locates a record of a segment.
type spoolRec struct {
	seg   uint64
	off   int64
	size  int64 // header and payload
	items int
}

// spoolCursor is the durable position of the spool's oldest item.
type spoolCursor struct {
	Segment uint64 `json:"segment"`
	Offset  int64  `json:"offset"`
	Skip    int    `json:"skip"`
}

// SpoolOption configures a Spool.
type SpoolOption func(*Spool)

// WithSegmentSize sets the size past which the spool starts a new segment
// file (default DefaultSegmentSize). Acknowledged items free disk space a
// segment at a time.
func WithSegmentSize(n int64) SpoolOption { return func(s *Spool) { s.segSize = max(n, 1) } }

// WithSpoolFileMode sets the permission of the files the spool creates
// (default DefaultFileMode, 0600: the owner's alone), before the process's
// umask; its directory, when the spool creates it, gets the same bits plus
// search where a read bit is set.
func WithSpoolFileMode(mode fs.FileMode) SpoolOption { return func(s *Spool) { s.mode = mode.Perm() } }

// OpenSpool opens the spool in dir, creating the directory when needed, and
// finds the items pushed and not acknowledged before (by this process or an
// earlier one). Only one Spool may have dir open at a time: another gets an
// ErrLocked error. A segment damaged other than at its torn tail is an
// ErrCorrupted error.
func OpenSpool(dir string, opts ...SpoolOption) (*Spool, error) {
	s := &Spool{dir: dir, segSize: DefaultSegmentSize, keys: map[string]uint64{}, mode: DefaultFileMode}
	for _, o := range opts {
		o(s)
	}
	if err := mkdirDurable(dir, dirMode(s.mode)); err != nil {
		return nil, mlerr.Wrap(err, mlerr.CodeIOError, "creating spool "+dir)
	}
	lock, err := openInside(filepath.Join(dir, spoolLockFile), os.O_RDWR|os.O_CREATE, s.mode)
	if err != nil {
		return nil, mlerr.Wrap(err, mlerr.CodeIOError, "opening spool "+dir)
	}
	if err := lockFile(lock); err != nil {
		lock.Close()
		if errors.Is(err, errLockBusy) {
			return nil, ErrLocked.Errorf("spool %s is open elsewhere", dir)
		}
		return nil, err
	}
	s.lock = lock
	if err := s.load(); err != nil {
		s.closeFiles()
		return nil, err
	}
	return s, nil
}

// load reads the cursor and the segments, rebuilding the record index, and
// opens the last segment for appending.
func (s *Spool) load() error {
	cur, err := s.readCursor()
	if err != nil {
		return err
	}
	segs, err := s.segments()
	if err != nil {
		return err
	}
	var live, acked []uint64
	for _, n := range segs {
		if n < cur.Segment {
			acked = append(acked, n)
		} else {
			live = append(live, n)
		}
	}
	if len(live) == 0 {
		live = []uint64{max(cur.Segment, 1)}
	}
	headFound := cur.Offset == 0
	for i, n := range live {
		last := i == len(live)-1
		if err := s.loadSegment(n, last, cur, &headFound); err != nil {
			return err
		}
	}
	if !headFound {
		return corrupted(s.segPath(cur.Segment), cur.Offset, "the spool cursor points at no record")
	}
	if len(s.recs) > 0 && s.recs[0].seg == cur.Segment && s.recs[0].off == cur.Offset {
		if cur.Skip >= s.recs[0].items {
			return corrupted(s.segPath(cur.Segment), cur.Offset, "the spool cursor skips %d of a record's %d items", cur.Skip, s.recs[0].items)
		}
		s.skip = cur.Skip
		s.n -= cur.Skip
	}
	// Segments before the cursor's were fully acknowledged: their deletion
	// did not happen, or was lost in a crash.
	for _, n := range acked {
		if err := os.Remove(s.segPath(n)); err != nil && !errors.Is(err, fs.ErrNotExist) {
			return err
		}
	}
	return nil
}

// loadSegment indexes segment n's records from the cursor on. Only the last
// segment may have a torn tail: it is cut, and the segment kept open for
// appending. Older segments are only read.
func (s *Spool) loadSegment(n uint64, last bool, cur spoolCursor, headFound *bool) error {
	path := s.segPath(n)
	index := func(rec record) error {
		_, c, err := countBatch(rec.payload)
		if err != nil {
			return corrupted(path, rec.off, "%v", err)
		}
		if n > cur.Segment || rec.off >= cur.Offset {
			if n == cur.Segment && rec.off == cur.Offset {
				*headFound = true
			}
			s.recs = append(s.recs, spoolRec{seg: n, off: rec.off, size: rec.end() - rec.off, items: c.Items()})
			s.n += c.Items()
		}
		return nil
	}
	if !last {
		size, err := scanSegment(path, index)
		if err == nil && n == cur.Segment && cur.Offset == size {
			*headFound = true
		}
		return err
	}
	f, err := openInside(path, os.O_RDWR|os.O_CREATE, s.mode)
	if err != nil {
		return err
	}
	size, _, err := recoverTail(f, path, spoolName, index)
	if err == nil {
		err = syncDir(s.dir)
	}
	if err != nil {
		f.Close()
		return err
	}
	if n == cur.Segment && cur.Offset == size {
		*headFound = true // everything before was acknowledged
	}
	s.active, s.seg = &appendFile{f: f, path: path, size: size}, n
	return nil
}

// scanSegment reads a segment that is no longer written: every byte of it
// must be a good record.
func scanSegment(path string, fn func(record) error) (size int64, err error) {
	f, err := openInside(path, os.O_RDONLY, 0)
	if err != nil {
		return 0, err
	}
	defer f.Close()
	sc, tornHeader, err := newScanner(f, path, spoolName)
	if err != nil {
		return 0, err
	}
	if tornHeader {
		return 0, corrupted(path, 0, "a segment other than the last has no header")
	}
	for sc.Next() {
		if err := fn(sc.Record()); err != nil {
			return 0, err
		}
	}
	if err := sc.Err(); err != nil {
		return 0, err
	}
	if torn, at := sc.Torn(); torn {
		return 0, corrupted(path, at, "a segment other than the last has a torn tail")
	}
	return sc.End(), nil
}

func (s *Spool) readCursor() (spoolCursor, error) {
	path := filepath.Join(s.dir, spoolCursorFile)
	data, err := readInside(path, maxCursorBytes)
	if errors.Is(err, fs.ErrNotExist) {
		return spoolCursor{Segment: 1}, nil
	}
	if err != nil {
		return spoolCursor{}, err
	}
	var c spoolCursor
	if err := json.Unmarshal(data, &c); err != nil || c.Segment == 0 || c.Skip < 0 {
		return spoolCursor{}, corrupted(path, 0, "spool cursor does not decode")
	}
	return c, nil
}

// segments returns the numbers of the segment files, in order.
func (s *Spool) segments() ([]uint64, error) {
	entries, err := os.ReadDir(s.dir)
	if err != nil {
		return nil, err
	}
	var segs []uint64
	for _, e := range entries {
		name := e.Name()
		if !strings.HasSuffix(name, segmentExt) {
			continue
		}
		n, err := strconv.ParseUint(strings.TrimSuffix(name, segmentExt), 10, 64)
		if err != nil || n == 0 {
			continue
		}
		segs = append(segs, n)
	}
	sort.Slice(segs, func(i, j int) bool { return segs[i] < segs[j] })
	return segs, nil
}

func (s *Spool) segPath(n uint64) string {
	return filepath.Join(s.dir, fmt.Sprintf("%020d%s", n, segmentExt))
}

// Push appends items to the spool and returns once they are fsynced. An
// item of an unknown kind makes it push nothing and return an
// INVALID_PARAMETER_VALUE error.
func (s *Spool) Push(items []mlerr.Item) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if err := s.usable(); err != nil {
		return err
	}
	for i, it := range items {
		if !validKind(it.Kind) {
			return mlerr.InvalidParameterValue("spool: item %d (%q) has kind %d: not a metric, param or tag; nothing pushed", i, it.Key, it.Kind)
		}
	}
	for len(items) > 0 {
		chunk := items[:min(len(items), maxPushRecord)]
		if err := s.pushRecord(chunk); err != nil {
			return err
		}
		items = items[len(chunk):]
	}
	return nil
}

func (s *Spool) pushRecord(items []mlerr.Item) error {
	if s.active.size >= s.segSize {
		if err := s.roll(); err != nil {
			return err
		}
	}
	buf := appendBatch(append(s.buf[:0], make([]byte, recordHeaderSize)...), 0, items, s.keys)
	s.buf = buf
	if len(buf)-recordHeaderSize > maxPayload {
		return mlerr.ErrValueTooLarge.Errorf("spooled items encode to %d bytes, more than the %d a record holds", len(buf)-recordHeaderSize, maxPayload)
	}
	off := s.active.size
	if err := s.active.write(frame(buf)); err != nil {
		return err
	}
	s.recs = append(s.recs, spoolRec{seg: s.seg, off: off, size: int64(len(buf)), items: len(items)})
	s.n += len(items)
	return nil
}

// roll closes the active segment and starts the next one.
func (s *Spool) roll() error {
	next := s.seg + 1
	path := s.segPath(next)
	f, err := openInside(path, os.O_RDWR|os.O_CREATE|os.O_TRUNC, s.mode)
	if err != nil {
		return err
	}
	if _, err := f.Write(fileHeader(spoolName)); err != nil {
		f.Close()
		return err
	}
	if err := datasync(f); err != nil {
		f.Close()
		return err
	}
	if err := syncDir(s.dir); err != nil {
		f.Close()
		return err
	}
	s.active.f.Close()
	s.active, s.seg = &appendFile{f: f, path: path, size: fileHeaderSize}, next
	return nil
}

// Peek returns up to max of the oldest items, without removing them.
func (s *Spool) Peek(max int) ([]mlerr.Item, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if err := s.usable(); err != nil {
		return nil, err
	}
	if max <= 0 || s.n == 0 {
		return nil, nil
	}
	out := make([]mlerr.Item, 0, min(max, s.n))
	files := map[uint64]*os.File{}
	defer func() {
		for _, f := range files {
			f.Close()
		}
	}()
	for i, r := range s.recs {
		if len(out) >= max {
			break
		}
		items, err := s.readRecord(r, files)
		if err != nil {
			return nil, err
		}
		if i == 0 {
			items = items[s.skip:]
		}
		out = append(out, items[:min(len(items), max-len(out))]...)
	}
	return out, nil
}

// readRecord reads and decodes one indexed record.
func (s *Spool) readRecord(r spoolRec, files map[uint64]*os.File) ([]mlerr.Item, error) {
	f := files[r.seg]
	if r.seg == s.seg {
		f = s.active.f
	} else if f == nil {
		var err error
		if f, err = openInside(s.segPath(r.seg), os.O_RDONLY, 0); err != nil {
			return nil, err
		}
		files[r.seg] = f
	}
	buf := make([]byte, r.size)
	if _, err := f.ReadAt(buf, r.off); err != nil {
		return nil, err
	}
	path := s.segPath(r.seg)
	if !goodRecordBytes(buf) {
		return nil, corrupted(path, r.off, "spooled record changed on disk")
	}
	_, items, err := decodeBatch(buf[recordHeaderSize:])
	if err != nil {
		return nil, corrupted(path, r.off, "%v", err)
	}
	if len(items) != r.items {
		return nil, corrupted(path, r.off, "spooled record holds %d items, %d expected", len(items), r.items)
	}
	return items, nil
}

// Ack removes the n oldest items. It returns once the new position is
// durable; segments wholly acknowledged are then deleted. n larger than Len
// is an error and removes nothing.
func (s *Spool) Ack(n int) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if err := s.usable(); err != nil {
		return err
	}
	if n < 0 || n > s.n {
		return mlerr.InvalidParameterValue("cannot acknowledge %d items of a spool holding %d", n, s.n)
	}
	if n == 0 {
		return nil
	}
	recs, skip := s.recs, s.skip+n
	for len(recs) > 0 && skip >= recs[0].items {
		skip -= recs[0].items
		recs = recs[1:]
	}
	cur := spoolCursor{Segment: s.seg, Offset: s.active.size}
	if len(recs) > 0 {
		cur = spoolCursor{Segment: recs[0].seg, Offset: recs[0].off, Skip: skip}
	}
	data, _ := json.Marshal(cur)
	if err := writeFileAtomic(filepath.Join(s.dir, spoolCursorFile), data, s.mode); err != nil {
		return mlerr.Wrap(err, mlerr.CodeIOError, "saving spool cursor")
	}
	oldest := s.recs[0].seg
	s.recs = append(s.recs[:0:0], recs...) // let the acknowledged index go
	s.skip = skip
	s.n -= n
	for seg := oldest; seg < cur.Segment; seg++ {
		if err := os.Remove(s.segPath(seg)); err != nil && !errors.Is(err, fs.ErrNotExist) {
			return mlerr.Wrap(err, mlerr.CodeIOError, "deleting an acknowledged spool segment")
		}
	}
	return nil
}

// Len returns the number of items spooled and not acknowledged.
func (s *Spool) Len() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.n
}

// Close releases the spool's files and lock; spooled items stay on disk for
// the next OpenSpool.
func (s *Spool) Close() error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.closed {
		return nil
	}
	s.closed = true
	return s.closeFiles()
}

func (s *Spool) closeFiles() error {
	var errs []error
	if s.active != nil {
		errs = append(errs, s.active.f.Close())
	}
	if s.lock != nil {
		errs = append(errs, s.lock.Close())
	}
	return errors.Join(errs...)
}

func (s *Spool) usable() error {
	if s.closed {
		return mlerr.ErrClosed.Errorf("spool %s is closed", s.dir)
	}
	return nil
}
