package localstore

import (
	"os"

	"github.com/mlerr/mlerr"
)

// appendFile is a log file written by appending whole records, each one
// fsynced before write returns. A failed write or fsync is undone (the file
// is cut back to its previous end) so that no partial record stays in the
// middle of the file; when even that fails the file is broken and refuses
// further writes until it is reopened (and its tail recovered).
type appendFile struct {
	f      *os.File
	path   string
	size   int64 // end of the last good record
	broken error
}

// write appends rec at the end of the file and fsyncs it.
func (a *appendFile) write(rec []byte) error {
	if a.broken != nil {
		return a.broken
	}
	_, err := writeAt(a.f, rec, a.size)
	if err == nil {
		err = datasync(a.f)
	}
	if err != nil {
		if terr := a.undo(); terr != nil {
			a.broken = mlerr.Wrap(terr, mlerr.CodeIOError, a.path+" is unusable until reopened")
		}
		return mlerr.Wrap(err, mlerr.CodeIOError, "writing "+a.path)
	}
	a.size += int64(len(rec))
	return nil
}

// undo cuts the file back to the end of the last good record.
func (a *appendFile) undo() error {
	if err := a.f.Truncate(a.size); err != nil {
		return err
	}
	return datasync(a.f)
}

// writeAt is the write used for records; tests replace it to tear records
// or to fail.
var writeAt = func(f *os.File, p []byte, off int64) (int, error) { return f.WriteAt(p, off) }

// recoverTail checks the file header (name), calls fn with each good record
// and cuts a torn tail, writing a fresh header when the file had none. cut
// reports whether there was a torn tail.
func recoverTail(f *os.File, path, name string, fn func(record) error) (size int64, cut bool, err error) {
	s, tornHeader, err := newScanner(f, path, name)
	if err != nil {
		return 0, false, err
	}
	if tornHeader {
		if err := f.Truncate(0); err != nil {
			return 0, false, err
		}
		if _, err := f.WriteAt(fileHeader(name), 0); err != nil {
			return 0, false, err
		}
		if err := datasync(f); err != nil {
			return 0, false, err
		}
		return fileHeaderSize, s.size > 0, nil
	}
	for s.Next() {
		if err := fn(s.Record()); err != nil {
			return 0, false, err
		}
	}
	if err := s.Err(); err != nil {
		return 0, false, err
	}
	if torn, at := s.Torn(); torn {
		if err := f.Truncate(at); err != nil {
			return 0, false, err
		}
		if err := datasync(f); err != nil {
			return 0, false, err
		}
		return at, true, nil
	}
	return s.End(), false, nil
}
