package jsonwire

import (
	"strings"
	"unicode/utf16"
	"unicode/utf8"
)

// Reading the members ScanObject found: keys and strings unquoted as
// encoding/json unquotes them, other values compacted as json.Compact
// writes them.

// Key returns the member's key: the bytes in body when it holds no escapes,
// else a new unquoted copy.
func (m *Member) Key(body []byte) []byte {
	raw := body[m.KeyStart:m.KeyEnd]
	if !m.KeyEscaped {
		return raw
	}
	var sb strings.Builder
	WriteUnquoted(&sb, raw)
	return []byte(sb.String())
}

// ValueLen returns the length of the value as written.
func (m *Member) ValueLen() int { return m.ValEnd - m.ValStart }

// Value returns the value as written: body[ValStart:ValEnd].
func (m *Member) Value(body []byte) []byte { return body[m.ValStart:m.ValEnd] }

// AppendValue appends the value to dst as compact JSON.
func (m *Member) AppendValue(dst, body []byte) []byte {
	v := m.Value(body)
	if !m.ValSpace {
		return append(dst, v...)
	}
	return AppendCompact(dst, v)
}

// WriteText writes the value as text: a string unquoted, null as nothing,
// anything else as its compact JSON with invalid UTF-8 replaced by U+FFFD.
func (m *Member) WriteText(sb *strings.Builder, body []byte) {
	switch m.Kind {
	case Null:
	case String:
		raw := body[m.ValStart+1 : m.ValEnd-1]
		if m.ValEscaped {
			WriteUnquoted(sb, raw)
		} else {
			sb.Write(raw)
		}
	default:
		v := m.Value(body)
		if m.ValSpace {
			v = AppendCompact(make([]byte, 0, len(v)), v)
		}
		WriteValidUTF8(sb, v)
	}
}

// TrimSpace returns b without its leading and trailing JSON whitespace.
func TrimSpace(b []byte) []byte {
	for len(b) > 0 && IsSpace(b[0]) {
		b = b[1:]
	}
	for len(b) > 0 && IsSpace(b[len(b)-1]) {
		b = b[:len(b)-1]
	}
	return b
}

// WriteUnquoted writes the contents of a string ScanObject validated
// (without its quotes) to sb, decoding escapes as encoding/json does:
// invalid UTF-8 bytes and lone surrogates become U+FFFD. raw must be valid
// string contents: on anything else it may panic.
func WriteUnquoted(sb *strings.Builder, raw []byte) {
	for i := 0; i < len(raw); {
		switch c := raw[i]; {
		case c == '\\':
			i = writeEscape(sb, raw, i)
		case c < utf8.RuneSelf:
			j := i + 1
			for j < len(raw) && raw[j] < utf8.RuneSelf && raw[j] != '\\' {
				j++
			}
			sb.Write(raw[i:j])
			i = j
		default:
			i += writeRune(sb, raw[i:])
		}
	}
}

// escapes maps the byte after a backslash to what it stands for, for the
// escapes of one byte.
var escapes = [256]byte{'"': '"', '\\': '\\', '/': '/', 'b': '\b', 'f': '\f', 'n': '\n', 'r': '\r', 't': '\t'}

// writeEscape writes the escape sequence at raw[i] (a backslash) and returns
// the index after it.
func writeEscape(sb *strings.Builder, raw []byte, i int) int {
	if raw[i+1] != 'u' {
		sb.WriteByte(escapes[raw[i+1]])
		return i + 2
	}
	r := hex4(raw[i+2:])
	i += 6
	if !utf16.IsSurrogate(r) {
		sb.WriteRune(r)
		return i
	}
	// A surrogate pair is two \u escapes; anything else is a lone surrogate.
	if i+6 <= len(raw) && raw[i] == '\\' && raw[i+1] == 'u' {
		if r2 := utf16.DecodeRune(r, hex4(raw[i+2:])); r2 != utf8.RuneError {
			sb.WriteRune(r2)
			return i + 6
		}
	}
	sb.WriteRune(utf8.RuneError)
	return i
}

// hex4 reads four hexadecimal digits that isHex4 accepted.
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

// writeRune writes the rune at the start of v, or U+FFFD for a byte of
// invalid UTF-8, and returns how many bytes it read.
func writeRune(sb *strings.Builder, v []byte) int {
	r, size := utf8.DecodeRune(v)
	if r == utf8.RuneError && size == 1 {
		sb.WriteRune(utf8.RuneError)
	} else {
		sb.Write(v[:size])
	}
	return size
}

// WriteValidUTF8 writes v with each byte of invalid UTF-8 replaced by
// U+FFFD, as unquoting a JSON string does.
func WriteValidUTF8(sb *strings.Builder, v []byte) {
	for len(v) > 0 {
		i := 0
		for i < len(v) && v[i] < utf8.RuneSelf {
			i++
		}
		sb.Write(v[:i])
		v = v[i:]
		if len(v) > 0 {
			v = v[writeRune(sb, v):]
		}
	}
}

// AppendCompact appends a value ScanObject validated to dst without the
// whitespace outside its strings, as json.Compact does.
func AppendCompact(dst, v []byte) []byte {
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
		case IsSpace(c):
			dst = append(dst, v[start:i]...)
			start = i + 1
		}
	}
	return append(dst, v[start:]...)
}
