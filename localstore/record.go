package localstore

import (
	"bufio"
	"bytes"
	"encoding/binary"
	"errors"
	"hash/crc32"
	"io"
	"os"
)

// A log file (a run's log, a spool segment) starts with a header naming its
// format, then holds records:
//
//	[magic u32 LE][length u32 LE][crc32c(length bytes ++ payload) u32 LE][payload]
const (
	recordMagic      = 0x52_4c_4d_b7 // arbitrary, rare in payloads and in zeroed blocks
	recordHeaderSize = 12
	fileHeaderSize   = 16
	// maxPayload bounds a record, so that a damaged length never asks for a
	// huge buffer.
	maxPayload = 64 << 20
	// fileVersion is the format version written in file headers.
	fileVersion = 1
)

var castagnoli = crc32.MakeTable(crc32.Castagnoli)

// fileHeader returns the 16-byte header of a file of the given type: an
// 8-byte name, the format version and a checksum of the first 12 bytes.
func fileHeader(name string) []byte {
	h := make([]byte, fileHeaderSize)
	copy(h, name)
	binary.LittleEndian.PutUint32(h[8:], fileVersion)
	binary.LittleEndian.PutUint32(h[12:], crc32.Checksum(h[:12], castagnoli))
	return h
}

// frame returns buf with a record header in front of payload: buf must hold
// recordHeaderSize free bytes followed by the payload.
func frame(buf []byte) []byte {
	payload := buf[recordHeaderSize:]
	binary.LittleEndian.PutUint32(buf[0:], recordMagic)
	binary.LittleEndian.PutUint32(buf[4:], uint32(len(payload)))
	crc := crc32.Update(0, castagnoli, buf[4:8])
	crc = crc32.Update(crc, castagnoli, payload)
	binary.LittleEndian.PutUint32(buf[8:], crc)
	return buf
}

// record is one good record read from a log.
type record struct {
	off     int64 // offset of the record's header
	payload []byte
}

// end is the offset just after the record.
func (r record) end() int64 { return r.off + recordHeaderSize + int64(len(r.payload)) }

// scanner reads a log's records in order. When it meets bytes that are not a
// good record it decides, by looking for a good record further on, whether
// they are a torn tail (nothing good follows: Next returns false, Err nil,
// Tail reports the offset) or corruption (Err is an ErrCorrupted error).
type scanner struct {
	f    *os.File
	path string
	size int64
	r    *bufio.Reader
	off  int64
	rec  record
	buf  []byte
	err  error
	torn bool // the bytes from off to size are a torn tail
	// claim is the length a record header at off claimed when it was more
	// than maxPayload: no writer makes such a header.
	claim uint32
}

// newScanner checks the file header (name) and returns a scanner positioned
// on the first record. A file shorter than its header is a torn tail at 0: it
// was being created when the process died. A file too short for the header
// and one with no header yield tornHeader = true.
func newScanner(f *os.File, path, name string) (s *scanner, tornHeader bool, err error) {
	st, err := f.Stat()
	if err != nil {
		return nil, false, err
	}
	s = &scanner{f: f, path: path, size: st.Size()}
	if s.size < fileHeaderSize {
		return s, true, nil
	}
	h := make([]byte, fileHeaderSize)
	if _, err := f.ReadAt(h, 0); err != nil {
		return nil, false, err
	}
	if bytes.Equal(h, make([]byte, fileHeaderSize)) {
		// A header of zeros: the file was extended but its first block never
		// written. It is a torn header unless good records follow.
		at, err := findRecord(f, fileHeaderSize, s.size)
		if err != nil {
			return nil, false, err
		}
		if at < 0 {
			return s, true, nil
		}
	}
	if !bytes.Equal(h, fileHeader(name)) {
		if bytes.Equal(h[:8], fileHeader(name)[:8]) && binary.LittleEndian.Uint32(h[8:]) != fileVersion {
			return nil, false, corrupted(path, 0, "unsupported format version %d", binary.LittleEndian.Uint32(h[8:]))
		}
		return nil, false, corrupted(path, 0, "not a %q file (bad header)", name)
	}
	s.off = fileHeaderSize
	s.r = bufio.NewReaderSize(io.NewSectionReader(f, s.off, s.size-s.off), 256<<10)
	return s, false, nil
}

// Next reads the next record; it returns false at the end of the good
// records (check Err and Torn).
func (s *scanner) Next() bool {
	if s.err != nil || s.torn || s.r == nil || s.off >= s.size {
		return false
	}
	rec, ok := s.read()
	if !ok {
		s.classifyTail()
		return false
	}
	s.rec = rec
	s.off = rec.end()
	return true
}

// read reads the record at s.off, reusing s.buf; ok is false when the bytes
// there are not a good record.
func (s *scanner) read() (record, bool) {
	var h [recordHeaderSize]byte
	if _, err := io.ReadFull(s.r, h[:]); err != nil {
		return record{}, false
	}
	n := binary.LittleEndian.Uint32(h[4:])
	if binary.LittleEndian.Uint32(h[0:]) == recordMagic && n > maxPayload {
		s.claim = n
		return record{}, false
	}
	if binary.LittleEndian.Uint32(h[0:]) != recordMagic || int64(n) > s.size-s.off-recordHeaderSize {
		return record{}, false
	}
	if cap(s.buf) < int(n) {
		s.buf = make([]byte, n)
	}
	p := s.buf[:n]
	if _, err := io.ReadFull(s.r, p); err != nil {
		return record{}, false
	}
	crc := crc32.Update(0, castagnoli, h[4:8])
	if crc32.Update(crc, castagnoli, p) != binary.LittleEndian.Uint32(h[8:]) {
		return record{}, false
	}
	return record{off: s.off, payload: p}, true
}

// classifyTail decides what the bad bytes at s.off are: a torn tail when no
// good record starts after them, corruption otherwise. A header claiming
// more than a record may hold is corruption wherever it is: a torn write
// leaves a prefix of what was written (or zeros), never such a length.
func (s *scanner) classifyTail() {
	if s.claim > 0 {
		s.err = corrupted(s.path, s.off, "record header claims %d bytes, more than the %d a record holds", s.claim, maxPayload)
		return
	}
	at, err := findRecord(s.f, s.off+1, s.size)
	switch {
	case err != nil:
		s.err = err
	case at >= 0:
		s.err = corrupted(s.path, s.off, "damaged record followed by a good record at offset %d", at)
	default:
		s.torn = true
	}
}

// Record returns the record read by the last successful Next. Its payload is
// only valid until the next call to Next.
func (s *scanner) Record() record { return s.rec }

// Err returns the error that stopped the scan, nil at a clean end or a torn
// tail.
func (s *scanner) Err() error { return s.err }

// Torn reports whether the scan stopped at a torn tail, and where it starts
// (the end of the last good record).
func (s *scanner) Torn() (bool, int64) { return s.torn, s.off }

// End is the offset just after the last good record read so far.
func (s *scanner) End() int64 { return s.off }

// findRecord returns the offset of the first good record starting at or
// after from, or -1 when there is none before size. Only offsets where the
// magic appears are checked, so a long damaged stretch costs one read.
func findRecord(f *os.File, from, size int64) (int64, error) {
	var magic [4]byte
	binary.LittleEndian.PutUint32(magic[:], recordMagic)
	const chunk = 1 << 20
	buf := make([]byte, chunk+3)
	for base := from; base < size; base += chunk {
		n, err := f.ReadAt(buf[:min(int64(len(buf)), size-base)], base)
		if err != nil && !errors.Is(err, io.EOF) {
			return 0, err
		}
		b := buf[:n]
		for i := 0; ; {
			j := bytes.Index(b[i:], magic[:])
			if j < 0 {
				break
			}
			at := base + int64(i+j)
			if goodRecordAt(f, at, size) {
				return at, nil
			}
			i += j + 1
		}
	}
	return -1, nil
}

// goodRecordAt reports whether a record with a matching checksum starts at
// off.
func goodRecordAt(f *os.File, off, size int64) bool {
	var h [recordHeaderSize]byte
	if off+recordHeaderSize > size {
		return false
	}
	if _, err := f.ReadAt(h[:], off); err != nil {
		return false
	}
	n := int64(binary.LittleEndian.Uint32(h[4:]))
	if binary.LittleEndian.Uint32(h[0:]) != recordMagic || n > maxPayload || off+recordHeaderSize+n > size {
		return false
	}
	// The payload is checked as it is read, a bounded buffer at a time: a
	// damaged stretch with many magics claiming large payloads must not
	// allocate one buffer each.
	crc := crc32.New(castagnoli)
	_, _ = crc.Write(h[4:8])
	if _, err := io.CopyBuffer(crc, io.NewSectionReader(f, off+recordHeaderSize, n), make([]byte, 32<<10)); err != nil {
		return false
	}
	return crc.Sum32() == binary.LittleEndian.Uint32(h[8:])
}

// goodRecordBytes reports whether buf is exactly one record with a matching
// checksum.
func goodRecordBytes(buf []byte) bool {
	if len(buf) < recordHeaderSize || binary.LittleEndian.Uint32(buf) != recordMagic ||
		int(binary.LittleEndian.Uint32(buf[4:])) != len(buf)-recordHeaderSize {
		return false
	}
	crc := crc32.Update(0, castagnoli, buf[4:8])
	return crc32.Update(crc, castagnoli, buf[recordHeaderSize:]) == binary.LittleEndian.Uint32(buf[8:])
}
