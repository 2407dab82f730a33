package localstore

import (
	"encoding/binary"
	"errors"
	"math"
	"time"

	"github.com/mlerr/mlerr"
)

// The payload of a record is one batch:
//
//	[seq uvarint][count uvarint] item*count
//
// and an item is
//
//	[kind u8][flags u8][key] [value 8 bytes LE]? [text]? [step zigzag]? [sec zigzag][nsec uvarint]?
//
// where flags say which optional fields follow (a zero field is left out) and
// key is a reference into the batch's key table: 0 followed by the key's
// length and bytes for a key not seen yet in the batch, i>0 for the i-th key
// already seen. Metric values are stored as their IEEE 754 bits, so NaN
// payloads, ±Inf and -0 come back exactly.
const (
	flagValue = 1 << iota
	flagText
	flagStep
	flagTime
	flagsKnown = flagValue | flagText | flagStep | flagTime
)

// minItemSize is the smallest encoded item (kind, flags, key ref); it bounds
// the item count a payload can claim.
const minItemSize = 3

// errDecode is what a payload that does not decode yields; callers turn it
// into an ErrCorrupted error with the file and offset.
var errDecode = errors.New("payload does not decode")

// appendBatch appends the encoding of a batch to dst. keys is scratch space
// reused between calls.
func appendBatch(dst []byte, seq uint64, items []mlerr.Item, keys map[string]uint64) []byte {
	clear(keys)
	dst = binary.AppendUvarint(dst, seq)
	dst = binary.AppendUvarint(dst, uint64(len(items)))
	for i := range items {
		dst = appendItem(dst, &items[i], keys)
	}
	return dst
}

func appendItem(dst []byte, it *mlerr.Item, keys map[string]uint64) []byte {
	var flags byte
	bits := math.Float64bits(it.Value)
	if bits != 0 {
		flags |= flagValue
	}
	if it.Text != "" {
		flags |= flagText
	}
	if it.Step != 0 {
		flags |= flagStep
	}
	if !it.Time.IsZero() {
		flags |= flagTime
	}
	dst = append(dst, byte(it.Kind), flags)
	if ref, ok := keys[it.Key]; ok {
		dst = binary.AppendUvarint(dst, ref)
	} else {
		keys[it.Key] = uint64(len(keys) + 1)
		dst = append(dst, 0)
		dst = appendString(dst, it.Key)
	}
	if flags&flagValue != 0 {
		dst = binary.LittleEndian.AppendUint64(dst, bits)
	}
	if flags&flagText != 0 {
		dst = appendString(dst, it.Text)
	}
	if flags&flagStep != 0 {
		dst = binary.AppendVarint(dst, it.Step)
	}
	if flags&flagTime != 0 {
		dst = binary.AppendVarint(dst, it.Time.Unix())
		dst = binary.AppendUvarint(dst, uint64(it.Time.Nanosecond()))
	}
	return dst
}

func appendString(dst []byte, s string) []byte {
	dst = binary.AppendUvarint(dst, uint64(len(s)))
	return append(dst, s...)
}

// decoder reads a payload. The zero error is sticky: after the first failure
// every read returns zero values and err stays set.
type decoder struct {
	p   []byte
	err error
}

func (d *decoder) uvarint() uint64 {
	if d.err != nil {
		return 0
	}
	v, n := binary.Uvarint(d.p)
	if n <= 0 {
		d.err = errDecode
		return 0
	}
	d.p = d.p[n:]
	return v
}

func (d *decoder) varint() int64 {
	if d.err != nil {
		return 0
	}
	v, n := binary.Varint(d.p)
	if n <= 0 {
		d.err = errDecode
		return 0
	}
	d.p = d.p[n:]
	return v
}

func (d *decoder) byte() byte {
	if d.err != nil || len(d.p) == 0 {
		d.err = errDecode
		return 0
	}
	b := d.p[0]
	d.p = d.p[1:]
	return b
}

func (d *decoder) bytes(n uint64) []byte {
	if d.err != nil || n > uint64(len(d.p)) {
		d.err = errDecode
		return nil
	}
	b := d.p[:n]
	d.p = d.p[n:]
	return b
}

// maxRecordItems bounds the items of a record, so that decoding one takes
// bounded memory (an Item is 80 bytes where the smallest encoded item is 3:
// a 64 MiB payload of them would otherwise decode into 1.8 GB).
const maxRecordItems = 1 << 20

// header reads the batch's seq and item count, checking the count against
// the bytes left and maxRecordItems so that a bad count cannot ask for a
// huge allocation.
func (d *decoder) header() (seq uint64, count int) {
	seq = d.uvarint()
	n := d.uvarint()
	if d.err == nil && (n > uint64(len(d.p))/minItemSize || n > maxRecordItems) {
		d.err = errDecode
	}
	return seq, int(n)
}

// decodeBatch decodes a payload written by appendBatch.
func decodeBatch(p []byte) (seq uint64, items []mlerr.Item, err error) {
	d := decoder{p: p}
	seq, n := d.header()
	if d.err != nil {
		return 0, nil, d.err
	}
	items = make([]mlerr.Item, n)
	keys := make([]string, 0, 8)
	for i := range items {
		keys = d.item(&items[i], keys)
	}
	if d.err == nil && len(d.p) != 0 {
		d.err = errDecode // trailing bytes
	}
	if d.err != nil {
		return 0, nil, d.err
	}
	return seq, items, nil
}

func (d *decoder) item(it *mlerr.Item, keys []string) []string {
	it.Kind = mlerr.ItemKind(d.byte())
	flags := d.byte()
	if flags&^flagsKnown != 0 || it.Kind < mlerr.ItemMetric || it.Kind > mlerr.ItemTag {
		d.err = errDecode
		return keys
	}
	switch ref := d.uvarint(); {
	case d.err != nil:
		return keys
	case ref == 0:
		it.Key = string(d.bytes(d.uvarint()))
		keys = append(keys, it.Key)
	case ref <= uint64(len(keys)):
		it.Key = keys[ref-1]
	default:
		d.err = errDecode
		return keys
	}
	if flags&flagValue != 0 {
		if b := d.bytes(8); b != nil {
			it.Value = math.Float64frombits(binary.LittleEndian.Uint64(b))
		}
	}
	if flags&flagText != 0 {
		it.Text = string(d.bytes(d.uvarint()))
	}
	if flags&flagStep != 0 {
		it.Step = d.varint()
	}
	if flags&flagTime != 0 {
		sec := d.varint()
		nsec := d.uvarint()
		if nsec >= 1e9 {
			d.err = errDecode
		}
		it.Time = time.Unix(sec, int64(nsec)).UTC()
	}
	return keys
}

// counts are the number of items of each kind in a batch.
type counts struct {
	Metrics, Params, Tags int
}

// Items returns the total number of items.
func (c counts) Items() int { return c.Metrics + c.Params + c.Tags }

// add counts one item of kind; it reports false for a kind that is not a
// metric, param or tag, which it does not count.
func (c *counts) add(kind mlerr.ItemKind) bool {
	switch kind {
	case mlerr.ItemMetric:
		c.Metrics++
	case mlerr.ItemParam:
		c.Params++
	case mlerr.ItemTag:
		c.Tags++
	default:
		return false
	}
	return true
}

// countBatch checks a payload and counts its items by kind without building
// them (no string is allocated).
func countBatch(p []byte) (seq uint64, c counts, err error) {
	d := decoder{p: p}
	seq, n := d.header()
	nkeys := uint64(0)
	for i := 0; i < n && d.err == nil; i++ {
		kind := mlerr.ItemKind(d.byte())
		flags := d.byte()
		if flags&^flagsKnown != 0 {
			d.err = errDecode
		}
		if !c.add(kind) {
			d.err = errDecode
		}
		switch ref := d.uvarint(); {
		case ref == 0:
			d.bytes(d.uvarint())
			nkeys++
		case ref > nkeys:
			d.err = errDecode
		}
		if flags&flagValue != 0 {
			d.bytes(8)
		}
		if flags&flagText != 0 {
			d.bytes(d.uvarint())
		}
		if flags&flagStep != 0 {
			d.varint()
		}
		if flags&flagTime != 0 {
			d.varint()
			if d.uvarint() >= 1e9 {
				d.err = errDecode
			}
		}
	}
	if d.err == nil && len(d.p) != 0 {
		d.err = errDecode
	}
	if d.err != nil {
		return 0, counts{}, d.err
	}
	return seq, c, nil
}
