package localstore

import (
	"errors"
	"fmt"

	"github.com/mlerr/mlerr"
)

// Kinds of the errors this package returns, besides the mlerr kinds
// (mlerr.ErrRunNotFound, mlerr.ErrInvalidRunParameters, ...).
var (
	// ErrCorrupted is a log, spool or cursor file that cannot be read back:
	// damage in the middle of a log (followed by good records), a bad file
	// header, a record header claiming more than a record holds, or a
	// record whose checksum matches but whose content does not decode; or an
	// entry the store never writes: a symbolic link, a FIFO or a device where
	// a file or directory of the store should be, a manifest or cursor
	// larger than it may be, a manifest whose id or fork parent is not the
	// run id it must be. Its code is DATA_LOSS; its "path" detail names the
	// file. A torn tail left by a crash is not corruption: it is cut, or
	// ignored by readers.
	ErrCorrupted = mlerr.NewKind("LocalStoreCorrupted", nil, mlerr.CodeDataLoss)

	// ErrLocked is a run or spool that another Store or process has open for
	// writing. Its code is RESOURCE_CONFLICT.
	ErrLocked = mlerr.NewKind("LocalStoreLocked", nil, mlerr.CodeResourceConflict)

	// ErrNotStore is a directory that holds no local store (no marker and no
	// run). Its code is RESOURCE_DOES_NOT_EXIST.
	ErrNotStore = mlerr.NewKind("NotALocalStore", nil, mlerr.CodeResourceDoesNotExist)
)

// corrupted returns an ErrCorrupted error naming the file and the offset.
func corrupted(path string, off int64, format string, args ...any) *mlerr.Error {
	return ErrCorrupted.Errorf("%s at offset %d: %s", path, off, fmt.Sprintf(format, args...)).
		WithDetail("path", path).WithDetail("offset", off)
}

// errLockBusy is what lockFile returns when the lock is held elsewhere.
var errLockBusy = errors.New("locked by another process")
