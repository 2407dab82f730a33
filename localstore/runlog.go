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
	mu   sync.Mutex
	file appendFile
	seqs map[uint64][]batchID
	keys map[string]uint64 // encoder scratch
	buf  []byte
}

// openRunLog opens (creating it when create is true, with mode) the log at
// path for appending: it takes the run's lock, reads every record to learn the stored
// seqs, and cuts a torn tail. The returned bool is true when a tail was cut.
func openRunLog(path string, create bool, mode fs.FileMode) (*runLog, bool, error) {
	flag := os.O_RDWR
	if create {
		flag |= os.O_CREATE
	}
	f, err := openInside(path, flag, mode)
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
	l := &runLog{file: appendFile{f: f, path: path}, seqs: map[uint64][]batchID{}, keys: map[string]uint64{}}
	size, cut, err := recoverTail(f, path, logName, func(rec record) error {
		seq, id, err := identify(rec.payload)
		if err != nil {
			return corrupted(path, rec.off, "%v", err)
		}
		l.seqs[seq] = append(l.seqs[seq], id)
		return nil
	})
	if err == nil && create && size == fileHeaderSize && !cut {
		err = syncDir(filepath.Dir(path)) // make a new log's entry durable
	}
	if err != nil {
		f.Close()
		return nil, false, err
	}
	l.file.size = size
	return l, cut, nil
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
// log (same seq, same items) is not written again; dup reports it.
func (l *runLog) append(seq uint64, items []mlerr.Item) (dup bool, err error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.file.f == nil {
		return false, mlerr.ErrClosed.Errorf("run log %s is closed", l.file.path)
	}
	if len(items) > maxRecordItems {
		return false, mlerr.ErrValueTooLarge.Errorf("batch %d has %d items, more than the %d a record holds", seq, len(items), maxRecordItems)
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
	if err := l.file.write(frame(buf)); err != nil {
		return false, err
	}
	l.seqs[seq] = append(l.seqs[seq], id)
	return false, nil
}

// close closes the file, releasing the lock.
func (l *runLog) close() error {
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.file.f == nil {
		return nil
	}
	err := l.file.f.Close()
	l.file.f = nil
	return err
}

// lastSeq returns the highest seq in the log (0 for an empty log).
func (l *runLog) lastSeq() uint64 {
	l.mu.Lock()
	defer l.mu.Unlock()
	var last uint64
	for seq := range l.seqs {
		last = max(last, seq)
	}
	return last
}
