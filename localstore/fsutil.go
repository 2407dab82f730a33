package localstore

import (
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
)

// DefaultFileMode is the permission of the files a Store, a Spool or a
// Replay creates, before the process's umask: the owner's alone, since a
// run's params, tags and metrics may be private. Directories get the same
// bits plus search (x) where a read bit is set: 0700 by default. See
// WithFileMode and WithSpoolFileMode.
const DefaultFileMode fs.FileMode = 0o600

// dirMode returns the mode of a directory whose files have mode m: m's
// bits, plus search where m can read (0600 -> 0700, 0640 -> 0750).
func dirMode(m fs.FileMode) fs.FileMode { return m.Perm() | (m.Perm()&0o444)>>2 }

// writeFileAtomic replaces path with data so that a crash leaves either the
// old content or the new one: it writes a temporary file (mode, before the
// umask) in the same directory, fsyncs it, renames it over path and fsyncs
// the directory. A symbolic link at the temporary name is not followed.
func writeFileAtomic(path string, data []byte, mode fs.FileMode) error {
	dir := filepath.Dir(path)
	var b [8]byte
	_, _ = rand.Read(b[:]) // crypto/rand.Read never fails (Go 1.24)
	tmp := filepath.Join(dir, "."+filepath.Base(path)+".tmp"+hex.EncodeToString(b[:]))
	f, err := os.OpenFile(tmp, os.O_WRONLY|os.O_CREATE|os.O_EXCL|openNoFollow, mode.Perm())
	if err != nil {
		return err
	}
	ok := false
	defer func() {
		if !ok {
			f.Close()
			os.Remove(tmp)
		}
	}()
	if _, err := f.Write(data); err != nil {
		return err
	}
	if err := f.Sync(); err != nil {
		return err
	}
	if err := f.Close(); err != nil {
		return err
	}
	if err := os.Rename(tmp, path); err != nil {
		return err
	}
	ok = true
	return syncDir(dir)
}

// syncClose ends writing f: when err (the writing's error) is nil it fsyncs
// f; it closes f in any case, and returns the first error of the three.
func syncClose(f *os.File, err error) error {
	if err == nil {
		err = f.Sync()
	}
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	return err
}

// syncDir fsyncs a directory, making the creation, removal or renaming of
// its entries durable.
func syncDir(dir string) error {
	d, err := os.Open(dir)
	if err != nil {
		return err
	}
	err = d.Sync()
	if cerr := d.Close(); err == nil {
		err = cerr
	}
	return err
}

// mkdirDurable creates dir (and its parents, with mode) and makes its entry
// durable in its parent. dir may be a symbolic link to a directory: it is
// one the caller named (a store's root, a spool).
func mkdirDurable(dir string, mode fs.FileMode) error {
	if _, err := os.Stat(dir); err == nil {
		return nil
	}
	if err := os.MkdirAll(dir, mode.Perm()); err != nil {
		return err
	}
	return syncDir(filepath.Dir(dir))
}

// mkdirInside is mkdirDurable for a directory inside a store (a run's
// directory, its sync directory): one that exists must be a directory, not
// a symbolic link, so that nothing is written outside the store.
func mkdirInside(dir string, mode fs.FileMode) error {
	if err := checkDir(dir); err == nil || !errors.Is(err, fs.ErrNotExist) {
		return err
	}
	if err := os.Mkdir(dir, mode.Perm()); err != nil {
		return err
	}
	return syncDir(filepath.Dir(dir))
}

// checkDir returns nil when dir is a directory and not a symbolic link, an
// error wrapping fs.ErrNotExist when it does not exist, else an ErrCorrupted
// error naming it.
func checkDir(dir string) error {
	st, err := os.Lstat(dir)
	switch {
	case err != nil:
		return err
	case st.Mode()&fs.ModeSymlink != 0:
		return unsafeEntry(dir, "is a symbolic link (links in a store are not followed)")
	case !st.IsDir():
		return unsafeEntry(dir, "is not a directory")
	}
	return nil
}

// openInside opens a file inside a store without following a symbolic link
// and refuses anything but a regular file (a FIFO would block, a device
// never end), so that nothing outside the store is read or written.
func openInside(path string, flag int, mode fs.FileMode) (*os.File, error) {
	if st, err := os.Lstat(path); err == nil {
		if err := regular(path, st); err != nil {
			return nil, err
		}
	}
	f, err := os.OpenFile(path, flag|openNoFollow, mode.Perm())
	if err != nil {
		if isLinkError(err) {
			return nil, unsafeEntry(path, "is a symbolic link (links in a store are not followed)")
		}
		return nil, err
	}
	st, err := f.Stat()
	if err == nil {
		err = regular(path, st)
	}
	if err != nil {
		f.Close()
		return nil, err
	}
	return f, nil
}

// regular refuses what is not a regular file.
func regular(path string, st fs.FileInfo) error {
	switch {
	case st.Mode()&fs.ModeSymlink != 0:
		return unsafeEntry(path, "is a symbolic link (links in a store are not followed)")
	case !st.Mode().IsRegular():
		return unsafeEntry(path, fmt.Sprintf("is not a regular file (%s)", st.Mode().Type()))
	}
	return nil
}

// readInside reads a whole small file inside a store (a manifest, a
// cursor): openInside's rules, and at most max bytes, so that a huge file
// cannot take the memory.
func readInside(path string, max int64) ([]byte, error) {
	f, err := openInside(path, os.O_RDONLY, 0)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	if st, err := f.Stat(); err == nil && st.Size() > max {
		return nil, unsafeEntry(path, fmt.Sprintf("is %d bytes, more than the %d such a file may have", st.Size(), max))
	}
	data, err := io.ReadAll(io.LimitReader(f, max+1))
	if err != nil {
		return nil, err
	}
	if int64(len(data)) > max {
		return nil, unsafeEntry(path, fmt.Sprintf("is larger than the %d bytes such a file may have", max))
	}
	return data, nil
}

// unsafeEntry is an ErrCorrupted error for an entry the store never writes.
func unsafeEntry(path, what string) error {
	return ErrCorrupted.Errorf("%s %s", path, what).WithDetail("path", path)
}

// fileModeOf returns the permission of the file at path, or DefaultFileMode.
func fileModeOf(path string) fs.FileMode {
	if st, err := os.Lstat(path); err == nil && st.Mode().IsRegular() {
		return st.Mode().Perm()
	}
	return DefaultFileMode
}
