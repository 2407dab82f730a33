package jsonwire

import "unicode/utf8"

// JSON string escaping, written by hand so that encoding an error body costs
// one allocation (the result) and no reflection. The output is byte for byte what encoding/json writes for a
// string: '"', '\\' and control characters escaped (\b \f \n \r \t short, the
// rest as \u00XX), '<', '>' and '&' as \u003c \u003e \u0026 (HTML-safe),
// U+2028 and U+2029 as \u2028 \u2029, and every byte of invalid UTF-8 as
// \ufffd.

const hexDigits = "0123456789abcdef"

// jsonSafe[b] is true for the ASCII bytes written as they are.
var jsonSafe = func() (t [utf8.RuneSelf]bool) {
	for b := 0x20; b < utf8.RuneSelf; b++ {
		t[b] = b != '"' && b != '\\' && b != '<' && b != '>' && b != '&'
	}
	return t
}()

// SWAR constants: every byte 0x01, every byte 0x80.
const (
	lsb = 0x0101010101010101
	msb = 0x8080808080808080
)

// zeroBytes returns a word whose 0x80 bits are set (among others) when a byte
// of x is zero; its 0x80 bits are all clear when no byte of x is zero.
func zeroBytes(x uint64) uint64 { return (x - lsb) &^ x }

// SafePrefix returns the length of the longest prefix of s whose bytes are
// all written as they are (printable ASCII other than " \ < > &). It reads
// eight bytes at a time.
func SafePrefix(s string) int {
	i := 0
	for ; i+8 <= len(s); i += 8 {
		w := s[i : i+8]
		x := uint64(w[0]) | uint64(w[1])<<8 | uint64(w[2])<<16 | uint64(w[3])<<24 |
			uint64(w[4])<<32 | uint64(w[5])<<40 | uint64(w[6])<<48 | uint64(w[7])<<56
		// Bytes to stop at: non-ASCII, control characters, '"' and '&' (0x22,
		// 0x26: equal once bit 0x04 is cleared), '<' and '>' (0x3c, 0x3e:
		// equal once bit 0x02 is cleared), and '\'.
		stop := x | (x-0x20*lsb)&^x |
			zeroBytes((x&^(0x04*lsb))^(0x22*lsb)) |
			zeroBytes((x&^(0x02*lsb))^(0x3c*lsb)) |
			zeroBytes(x^('\\'*lsb))
		if stop&msb != 0 {
			break
		}
	}
	for i < len(s) && s[i] < utf8.RuneSelf && jsonSafe[s[i]] {
		i++
	}
	return i
}

// shortEscape[b] is the letter of the two-byte escape of the ASCII byte b
// (\" \\ \b \f \n \r \t), 0 when b has none.
var shortEscape = [utf8.RuneSelf]byte{'"': '"', '\\': '\\', '\b': 'b', '\f': 'f', '\n': 'n', '\r': 'r', '\t': 't'}

// asciiLen returns the length of the ASCII byte b once escaped.
func asciiLen(b byte) int {
	switch {
	case jsonSafe[b]:
		return 1
	case shortEscape[b] != 0:
		return 2
	}
	return 6 // \u00XX
}

// decodeRune decodes the non-ASCII rune at the start of s; escape reports
// whether it is written as a \u escape: a byte of invalid UTF-8 (as \ufffd),
// U+2028 or U+2029.
func decodeRune(s string) (size int, escape bool) {
	r, size := utf8.DecodeRuneInString(s)
	return size, r == utf8.RuneError && size == 1 || r == '\u2028' || r == '\u2029'
}

// QuotedLen returns the length of s once quoted by AppendQuoted.
func QuotedLen(s string) int {
	n := 2
	for i := 0; i < len(s); {
		if j := SafePrefix(s[i:]); j > 0 {
			n += j
			i += j
			continue
		}
		if s[i] < utf8.RuneSelf {
			n += asciiLen(s[i])
			i++
			continue
		}
		size, escape := decodeRune(s[i:])
		if escape {
			n += 6
		} else {
			n += size
		}
		i += size
	}
	return n
}

// AppendQuoted appends s to dst as a JSON string.
func AppendQuoted(dst []byte, s string) []byte {
	dst = append(dst, '"')
	dst = AppendEscaped(dst, s)
	return append(dst, '"')
}

// AppendEscaped appends s escaped for a JSON string, without quotes.
func AppendEscaped(dst []byte, s string) []byte {
	start := 0
	for i := 0; i < len(s); {
		if j := SafePrefix(s[i:]); j > 0 {
			i += j
			continue
		}
		// s[i] is not written as it is when it is ASCII; a rune may be.
		size, escape := 1, true
		if s[i] >= utf8.RuneSelf {
			size, escape = decodeRune(s[i:])
		}
		if escape {
			dst = appendEscape(append(dst, s[start:i]...), s[i:i+size])
			start = i + size
		}
		i += size
	}
	return append(dst, s[start:]...)
}

// appendEscape appends the escape of c: an ASCII byte that is not written as
// it is, a byte of invalid UTF-8, or U+2028 or U+2029.
func appendEscape(dst []byte, c string) []byte {
	b := c[0]
	switch {
	case b < utf8.RuneSelf && shortEscape[b] != 0:
		return append(dst, '\\', shortEscape[b])
	case b < utf8.RuneSelf:
		return append(dst, '\\', 'u', '0', '0', hexDigits[b>>4], hexDigits[b&0xF])
	case len(c) == 1:
		return append(dst, `\ufffd`...)
	}
	r, _ := utf8.DecodeRuneInString(c)
	return append(dst, '\\', 'u', '2', '0', '2', hexDigits[r&0xF])
}
