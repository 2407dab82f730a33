package localstore

import (
	"errors"
	"hash/crc32"
	"io/fs"
	"os"
	"path/filepath"
	"sync"

	"github.com/mlerr/mlerr"
)

// logName is the 8-byte name in the header of a run's log.
const logName = "MLERRLOG"

// batchID is what identifies a stored batch for de-duplication: a retried
// batch has the same seq and the same items, hence the same checksum of its
// encoded items.
type batchID struct {
	items uint32 // item count
	crc   uint32 // crc32c of the encoded items
}

// runLog is a run's log open for appending. Its methods are safe for
// concurrent use.
type runLog struct {
	mu     sync.Mutex
	path   string
	f      *os.File
	size   int64 // end of the last good record
	seqs   map[uint64][]batchID
	keys   map[string]uint64 // encoder scratch
	buf    []byte
	broken error // set when a failed write could not be undone
}

// openRunLog opens (creating it when create is true) the log at path for
// appending: it takes the run's lock, reads every record to learn the stored
// seqs, and cuts a torn tail. The returned bool is true when a tail was cut.
func openRunLog(path string, create bool) (*runLog, bool, error) {
	flag := os.O_RDWR
	if create {
		flag |= os.O_CREATE
	}
	f, err := os.OpenFile(path, flag, 0o644)
	if err != nil {
		if errors.Is(err, fs.ErrNotExist) {
			return nil, false, mlerr.ErrRunNotFound.Errorf("no log at %s", path)
		}
		return nil, false, err
	}
	if err := lockFile(f); err != nil {
		f.Close()
		if errors.Is(err, errLockBusy) {
			return nil, false, ErrLocked.Errorf("run log %s is open for writing elsewhere", path)
		}
		return nil, false, err
	}
	l := &runLog{path: path, f: f, seqs: map[uint64][]batchID{}, keys: map[string]uint64{}}
	cut, err := l.recover()
	if err != nil {
		f.Close()
		return nil, false, err
	}
	return l, cut, nil
}

// recover reads the log, filling l.seqs and l.size, and cuts a torn tail
// (writing the file header when the file had none yet).
func (l *runLog) recover() (cut bool, err error) {
	s, tornHeader, err := newScanner(l.f, l.path, logName)
	if err != nil {
		return false, err
	}
	if tornHeader {
		if err := l.f.Truncate(0); err != nil {
			return false, err
		}
		if _, err := l.f.WriteAt(fileHeader(logName), 0); err != nil {
			return false, err
		}
		if err := datasync(l.f); err != nil {
			return false, err
		}
		if err := syncDir(filepath.Dir(l.path)); err != nil {
			return false, err
		}
		l.size = fileHeaderSize
		return s.size > 0, nil
	}
	for s.Next() {
		rec := s.Record()
		seq, id, err := identify(rec.payload)
		if err != nil {
			return false, corrupted(l.path, rec.off, "%v", err)
		}
		l.seqs[seq] = append(l.seqs[seq], id)
	}
	if err := s.Err(); err != nil {
		return false, err
	}
	l.size = s.End()
	if torn, at := s.Torn(); torn {
		if err := l.f.Truncate(at); err != nil {
			return false, err
		}
		if err := datasync(l.f); err != nil {
			return false, err
		}
		return true, nil
	}
	return false, nil
}

// identify returns a payload's seq and batchID, checking that it decodes.
func identify(payload []byte) (uint64, batchID, error) {
	seq, c, err := countBatch(payload)
	if err != nil {
		return 0, batchID{}, err
	}
	return seq, batchID{items: uint32(c.Items()), crc: itemsCRC(payload)}, nil
}

// itemsCRC is the checksum of a payload's encoded items (what follows the
// seq), the same for every write of the same items whatever the seq.
func itemsCRC(payload []byte) uint32 {
	d := decoder{p: payload}
	d.uvarint()
	return crc32.Checksum(d.p, castagnoli)
}

// append writes one batch as a record and fsyncs it. A batch already in the
// log (same seq, same items) is not written again; dup reports it. When the
// write or the fsync fails, the file is cut back to its previous end so that
// no partial record stays in the middle of the log.
func (l *runLog) append(seq uint64, items []mlerr.Item) (dup bool, err error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.f == nil {
		return false, mlerr.ErrClosed.Errorf("run log %s is closed", l.path)
	}
	if l.broken != nil {
		return false, l.broken
	}
	buf := appendBatch(append(l.buf[:0], make([]byte, recordHeaderSize)...), seq, items, l.keys)
	l.buf = buf
	payload := buf[recordHeaderSize:]
	if len(payload) > maxPayload {
		return false, mlerr.ErrValueTooLarge.Errorf("batch %d encodes to %d bytes, more than the %d a record holds", seq, len(payload), maxPayload)
	}
	id := batchID{items: uint32(len(items)), crc: itemsCRC(payload)}
	for _, have := range l.seqs[seq] {
		if have == id {
			return true, nil
		}
	}
	if err := l.write(frame(buf)); err != nil {
		return false, err
	}
	l.seqs[seq] = append(l.seqs[seq], id)
	return false, nil
}

// write appends rec at l.size and fsyncs, undoing a failed attempt.
func (l *runLog) write(rec []byte) error {
	_, err := writeAt(l.f, rec, l.size)
	if err == nil {
		err = datasync(l.f)
	}
	if err != nil {
		if terr := l.undo(); terr != nil {
			l.broken = mlerr.Wrap(terr, mlerr.CodeIOError, "run log "+l.path+" is unusable until reopened")
		}
		return mlerr.Wrap(err, mlerr.CodeIOError, "writing run log "+l.path)
	}
	l.size += int64(len(rec))
	return nil
}

// undo cuts the file back to the end of the last good record.
func (l *runLog) undo() error {
	if err := l.f.Truncate(l.size); err != nil {
		return err
	}
	return datasync(l.f)
}

// writeAt is the write used for records; tests replace it to tear records.
var writeAt = func(f *os.File, p []byte, off int64) (int, error) { return f.WriteAt(p, off) }

// close closes the file, releasing the lock.
func (l *runLog) close() error {
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.f == nil {
		return nil
	}
	err := l.f.Close()
	l.f = nil
	return err
}
