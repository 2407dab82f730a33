package mlerr

import (
	"strings"
	"unicode/utf16"
	"unicode/utf8"
)

// A small validating JSON scanner for the top level of an error body. It reads
// one object, member by member, and records where each key and value lie; the
// values of members it does not interpret are validated (RFC 8259 grammar,
// nesting at most maxNesting deep) and later copied without insignificant
// whitespace. It never panics on any input and allocates nothing itself.

// maxNesting bounds how deeply arrays and objects may nest in a value.
const maxNesting = 1000

// Token types of a member's value.
const (
	tokString = 's'
	tokNumber = 'n'
	tokNull   = 'z'
	tokOther  = 'o' // true, false, object, array
)

// span is one member of the top-level object: body[kStart:kEnd] is the key
// between its quotes, body[vStart:vEnd] the value as written.
type span struct {
	kStart, kEnd int
	vStart, vEnd int
	kEsc         bool // the key holds escapes or bytes >= 0x80
	vEsc         bool // a string value holds escapes or bytes >= 0x80
	vSpace       bool // the value holds insignificant whitespace
	tok          byte
}

type scanner struct {
	b     []byte
	i     int
	space bool // whitespace seen inside the value being skipped
}

func isSpace(c byte) bool { return c == ' ' || c == '\t' || c == '\n' || c == '\r' }

func (s *scanner) skipSpace() {
	for s.i < len(s.b) && isSpace(s.b[s.i]) {
		s.i++
	}
}

// scanObject reads a whole document that must be one object, appending its
// members to spans. It reports false for anything else.
func scanObject(b []byte, spans []span) ([]span, bool) {
	s := scanner{b: b}
	s.skipSpace()
	if s.i >= len(b) || b[s.i] != '{' {
		return spans, false
	}
	s.i++
	s.skipSpace()
	if s.i < len(b) && b[s.i] == '}' {
		s.i++
		s.skipSpace()
		return spans, s.i == len(b)
	}
	for {
		var m span
		s.skipSpace()
		if s.i >= len(b) || b[s.i] != '"' {
			return spans, false
		}
		m.kStart = s.i + 1
		esc, ok := s.scanString()
		if !ok {
			return spans, false
		}
		m.kEnd, m.kEsc = s.i-1, esc
		s.skipSpace()
		if s.i >= len(b) || b[s.i] != ':' {
			return spans, false
		}
		s.i++
		s.skipSpace()
		if s.i >= len(b) {
			return spans, false
		}
		m.vStart = s.i
		switch c := b[s.i]; {
		case c == '"':
			m.tok = tokString
			if m.vEsc, ok = s.scanString(); !ok {
				return spans, false
			}
		case c == 'n':
			m.tok = tokNull
			if !s.literal("null") {
				return spans, false
			}
		case c == '-' || (c >= '0' && c <= '9'):
			m.tok = tokNumber
			if !s.number() {
				return spans, false
			}
		default:
			m.tok = tokOther
			s.space = false
			if !s.value(1) {
				return spans, false
			}
			m.vSpace = s.space
		}
		m.vEnd = s.i
		spans = append(spans, m)
		s.skipSpace()
		if s.i >= len(b) {
			return spans, false
		}
		switch b[s.i] {
		case ',':
			s.i++
		case '}':
			s.i++
			s.skipSpace()
			return spans, s.i == len(b)
		default:
			return spans, false
		}
	}
}

// value skips one value of any type at nesting depth depth.
func (s *scanner) value(depth int) bool {
	if s.i >= len(s.b) {
		return false
	}
	switch c := s.b[s.i]; {
	case c == '"':
		_, ok := s.scanString()
		return ok
	case c == '{':
		return s.container(depth, '}')
	case c == '[':
		return s.container(depth, ']')
	case c == 't':
		return s.literal("true")
	case c == 'f':
		return s.literal("false")
	case c == 'n':
		return s.literal("null")
	case c == '-' || (c >= '0' && c <= '9'):
		return s.number()
	}
	return false
}

// container skips an object (end '}') or an array (end ']').
func (s *scanner) container(depth int, end byte) bool {
	if depth > maxNesting {
		return false
	}
	s.i++ // '{' or '['
	start := s.i
	s.skipSpace()
	s.space = s.space || s.i != start
	if s.i < len(s.b) && s.b[s.i] == end {
		s.i++
		return true
	}
	for {
		if end == '}' {
			if s.i >= len(s.b) || s.b[s.i] != '"' {
				return false
			}
			if _, ok := s.scanString(); !ok {
				return false
			}
			s.skipSpaceInside()
			if s.i >= len(s.b) || s.b[s.i] != ':' {
				return false
			}
			s.i++
			s.skipSpaceInside()
		}
		if !s.value(depth + 1) {
			return false
		}
		s.skipSpaceInside()
		if s.i >= len(s.b) {
			return false
		}
		switch s.b[s.i] {
		case ',':
			s.i++
			s.skipSpaceInside()
		case end:
			s.i++
			return true
		default:
			return false
		}
	}
}

func (s *scanner) skipSpaceInside() {
	start := s.i
	s.skipSpace()
	if s.i != start {
		s.space = true
	}
}

func (s *scanner) literal(lit string) bool {
	if len(s.b)-s.i < len(lit) || string(s.b[s.i:s.i+len(lit)]) != lit {
		return false
	}
	s.i += len(lit)
	return true
}

// number skips a number: -?(0|[1-9][0-9]*)(\.[0-9]+)?([eE][+-]?[0-9]+)?
func (s *scanner) number() bool {
	b := s.b
	if s.i < len(b) && b[s.i] == '-' {
		s.i++
	}
	switch {
	case s.i >= len(b):
		return false
	case b[s.i] == '0':
		s.i++
	case b[s.i] >= '1' && b[s.i] <= '9':
		s.digits()
	default:
		return false
	}
	if s.i < len(b) && b[s.i] == '.' {
		s.i++
		if !s.digits() {
			return false
		}
	}
	if s.i < len(b) && (b[s.i] == 'e' || b[s.i] == 'E') {
		s.i++
		if s.i < len(b) && (b[s.i] == '+' || b[s.i] == '-') {
			s.i++
		}
		if !s.digits() {
			return false
		}
	}
	return true
}

func (s *scanner) digits() bool {
	start := s.i
	for s.i < len(s.b) && s.b[s.i] >= '0' && s.b[s.i] <= '9' {
		s.i++
	}
	return s.i > start
}

// scanString skips a string starting at its opening quote. esc reports
// whether it holds escapes or non-ASCII bytes (and so needs unquoting).
func (s *scanner) scanString() (esc, ok bool) {
	b := s.b
	s.i++ // opening quote
	for s.i < len(b) {
		c := b[s.i]
		switch {
		case c == '"':
			s.i++
			return esc, true
		case c == '\\':
			esc = true
			s.i++
			if s.i >= len(b) {
				return esc, false
			}
			switch b[s.i] {
			case '"', '\\', '/', 'b', 'f', 'n', 'r', 't':
				s.i++
			case 'u':
				if len(b)-s.i < 5 || !isHex4(b[s.i+1:s.i+5]) {
					return esc, false
				}
				s.i += 5
			default:
				return esc, false
			}
		case c < 0x20:
			return esc, false
		default:
			if c >= utf8.RuneSelf {
				esc = true
			}
			s.i++
		}
	}
	return esc, false
}

func isHex4(b []byte) bool {
	for _, c := range b[:4] {
		if !(c >= '0' && c <= '9' || c >= 'a' && c <= 'f' || c >= 'A' && c <= 'F') {
			return false
		}
	}
	return true
}

func hex4(b []byte) rune {
	var r rune
	for _, c := range b[:4] {
		switch {
		case c >= '0' && c <= '9':
			c -= '0'
		case c >= 'a' && c <= 'f':
			c = c - 'a' + 10
		default:
			c = c - 'A' + 10
		}
		r = r<<4 | rune(c)
	}
	return r
}

// writeUnquoted writes the contents of a validated string (without its
// quotes) to sb, decoding escapes as encoding/json does: invalid UTF-8 bytes
// and lone surrogates become U+FFFD.
func writeUnquoted(sb *strings.Builder, raw []byte) {
	for i := 0; i < len(raw); {
		c := raw[i]
		switch {
		case c == '\\':
			switch raw[i+1] {
			case 'b':
				sb.WriteByte('\b')
			case 'f':
				sb.WriteByte('\f')
			case 'n':
				sb.WriteByte('\n')
			case 'r':
				sb.WriteByte('\r')
			case 't':
				sb.WriteByte('\t')
			case 'u':
				r := hex4(raw[i+2:])
				i += 6
				if utf16.IsSurrogate(r) {
					if i+6 <= len(raw) && raw[i] == '\\' && raw[i+1] == 'u' {
						if r2 := utf16.DecodeRune(r, hex4(raw[i+2:])); r2 != utf8.RuneError {
							sb.WriteRune(r2)
							i += 6
							continue
						}
					}
					r = utf8.RuneError
				}
				sb.WriteRune(r)
				continue
			default: // '"', '\\', '/'
				sb.WriteByte(raw[i+1])
			}
			i += 2
		case c < utf8.RuneSelf:
			j := i + 1
			for j < len(raw) && raw[j] < utf8.RuneSelf && raw[j] != '\\' {
				j++
			}
			sb.Write(raw[i:j])
			i = j
		default:
			r, size := utf8.DecodeRune(raw[i:])
			if r == utf8.RuneError && size == 1 {
				sb.WriteRune(utf8.RuneError)
			} else {
				sb.Write(raw[i : i+size])
			}
			i += size
		}
	}
}

// appendCompact appends a validated value without the whitespace outside
// its strings.
func appendCompact(dst, v []byte) []byte {
	inString := false
	start := 0
	for i := 0; i < len(v); i++ {
		c := v[i]
		switch {
		case inString:
			if c == '\\' {
				i++
			} else if c == '"' {
				inString = false
			}
		case c == '"':
			inString = true
		case isSpace(c):
			dst = append(dst, v[start:i]...)
			start = i + 1
		}
	}
	return append(dst, v[start:]...)
}
