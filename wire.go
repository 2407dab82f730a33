package mlerr

import (
	"encoding/json"
	"strconv"
	"strings"
	"unicode/utf8"
)

// MLflow JSON is the body MLflow's server answers errors with:
//
//	{"error_code": "RESOURCE_DOES_NOT_EXIST", "message": "Run 42 not found", <details>...}
//
// Encoding writes error_code (Name), message, then the details in key order.
// Decoding (UnmarshalJSON, DecodeError, FromResponse) reads error_code as
//
//   - a name: MLflow's names give their code; any other name gives
//     INTERNAL_ERROR and is kept verbatim (Name returns it);
//   - an integer (a JSON number or a string of digits) from 100 to 599: an HTTP
//     status, mapped with CodeForHTTPStatus;
//   - any other integer: a protobuf code number; an unknown number gives
//     INTERNAL_ERROR with the number kept as the name;
//   - missing, null or "": the HTTP status decides (CodeForHTTPStatus; with no
//     status, INTERNAL_ERROR);
//   - anything else (true, an object, 4.5): INTERNAL_ERROR, its JSON text kept
//     as the name.
//
// A message that is not a string is kept as its JSON text (null as ""). When
// there is no message member, a "detail" member (as FastAPI and problem+json
// bodies carry) is the message. Every other member is a detail, kept as
// compact raw JSON. Decoding never fails on a JSON object, whatever its
// members hold.
//
// Details whose keys clash with the members of the format (error_code and
// message here; error_code, status and detail in problem+json) are written with
// one more leading underscore ("message" as "_message", "_message" as
// "__message") and read back without it, so that decode(encode(e)) == e for
// every *Error with a known code or one decoded from the wire: the code, the
// name, the message and the details all survive. The observed HTTP status and
// Retry-After travel in the status line and headers, not in the body (see
// WriteError). An *Error with code 0 or a code MLflow does not define comes
// back as INTERNAL_ERROR with its name ("OK", or the number) kept.

// reservedKey reports whether key is a member name of the format.
func reservedKey(key string, problem bool) bool {
	switch key {
	case "error_code":
		return true
	case "message":
		return !problem
	case "status", "detail":
		return problem
	}
	return false
}

// escapedKey reports whether a detail key is a member name preceded by zero
// or more '_': such a key is written with one more leading underscore.
func escapedKey[K string | []byte](key K, problem bool) bool {
	i := 0
	for i < len(key) && key[i] == '_' {
		i++
	}
	if i == len(key) {
		return false
	}
	switch key[i] {
	case 'e', 'm', 's', 'd':
		return reservedKey(string(key[i:]), problem)
	}
	return false
}

// MarshalJSON encodes e as MLflow JSON, {"error_code":...,"message":...,
// <details>...}, with strings escaped as encoding/json escapes them. A nil e
// encodes as null. It allocates once: the result.
func (e *Error) MarshalJSON() ([]byte, error) {
	if e == nil {
		return []byte("null"), nil
	}
	var arr [8]detail
	details, n := e.sortedDetails(arr[:0], false)
	// The common message needs no escaping: scan it once, not twice.
	if safePrefix(e.message) == len(e.message) {
		n += len(`{"error_code":,"message":""}`) + e.nameLen() + len(e.message)
		b := make([]byte, 0, n)
		b = append(b, `{"error_code":`...)
		b = e.appendName(b)
		b = append(b, `,"message":"`...)
		b = append(b, e.message...)
		b = append(b, '"')
		return appendDetails(b, details, false), nil
	}
	n += len(`{"error_code":,"message":}`) + e.nameLen() + quotedLen(e.message)
	return e.appendJSON(make([]byte, 0, n), details), nil
}

// AppendJSON appends e's MLflow JSON encoding (see MarshalJSON) to b.
func (e *Error) AppendJSON(b []byte) []byte {
	var arr [8]detail
	details, _ := e.sortedDetails(arr[:0], false)
	return e.appendJSON(b, details)
}

func (e *Error) appendJSON(b []byte, details []detail) []byte {
	b = append(b, `{"error_code":`...)
	b = e.appendName(b)
	b = append(b, `,"message":`...)
	b = appendQuoted(b, e.message)
	return appendDetails(b, details, false)
}

// detail is one detail to encode.
type detail struct {
	key     string
	value   json.RawMessage
	escaped bool // key is written with one more leading '_'
	plain   bool // key needs no escaping
}

// sortedDetails appends e's details to list in key order and returns them
// with the length of their encoding (',' "key" ':' value each).
func (e *Error) sortedDetails(list []detail, problem bool) ([]detail, int) {
	all := e.Details()
	if len(all) == 0 {
		return list, 0
	}
	n := 0
	for k, v := range all {
		d := detail{key: k, value: v, escaped: escapedKey(k, problem), plain: safePrefix(k) == len(k)}
		n += 4 + len(k) + len(v) // , "" :
		if !d.plain {
			n += quotedLen(k) - len(k) - 2
		}
		if d.escaped {
			n++
		}
		list = append(list, d)
	}
	// Insertion sort: details are few.
	for i := 1; i < len(list); i++ {
		for j := i; j > 0 && list[j].key < list[j-1].key; j-- {
			list[j], list[j-1] = list[j-1], list[j]
		}
	}
	return list, n
}

// appendName appends the error_code value: the name as a string, or for a
// code MLflow does not define, its number.
func (e *Error) appendName(b []byte) []byte {
	if name := e.rawName(); name != "" {
		return appendQuoted(b, name)
	}
	if r := e.code.row(); r != nil {
		b = append(b, '"')
		b = append(b, r.name...)
		return append(b, '"')
	}
	if e.code == 0 {
		return append(b, `"OK"`...)
	}
	return strconv.AppendInt(b, int64(e.code), 10)
}

func (e *Error) nameLen() int {
	if name := e.rawName(); name != "" {
		return quotedLen(name)
	}
	if r := e.code.row(); r != nil {
		return len(r.name) + 2
	}
	if e.code == 0 {
		return 4
	}
	var buf [12]byte
	return len(strconv.AppendInt(buf[:0], int64(e.code), 10))
}

// appendDetails appends ,"key":value for every detail and the closing
// brace. In problem+json (problem true) the members type, title and instance
// are left out: the caller writes them in front.
func appendDetails(b []byte, details []detail, problem bool) []byte {
	for _, d := range details {
		if problem && isProblemMember(d.key) {
			continue
		}
		b = append(b, ',', '"')
		if d.escaped {
			b = append(b, '_')
		}
		if d.plain {
			b = append(b, d.key...)
		} else {
			b = appendEscaped(b, d.key)
		}
		b = append(b, '"', ':')
		b = append(b, d.value...)
	}
	return append(b, '}')
}

// UnmarshalJSON decodes MLflow JSON into e, replacing all of e (kind, cause,
// status and Retry-After become zero). JSON null leaves e unchanged. A
// document that is not a JSON object gives an *Error with code
// MALFORMED_REQUEST and leaves e unchanged.
func (e *Error) UnmarshalJSON(data []byte) error {
	if s := trimSpace(data); string(s) == "null" {
		return nil
	}
	d, ok := decodeObject(data, false, 0)
	if !ok {
		return Errorf(CodeMalformedRequest, "mlerr: error body is not a JSON object: %s", excerpt(data, "", 64))
	}
	*e = *d
	return nil
}

func trimSpace(b []byte) []byte {
	for len(b) > 0 && isSpace(b[0]) {
		b = b[1:]
	}
	for len(b) > 0 && isSpace(b[len(b)-1]) {
		b = b[:len(b)-1]
	}
	return b
}

// member roles in decodeObject.
const (
	roleDetail = iota
	roleCode
	roleMessage
	roleStatus
)

// decodeObject decodes a JSON object in MLflow JSON (problem false) or
// problem+json (problem true). status is the HTTP status observed (0 if none):
// it decides the code when the body names none. In problem+json, a valid
// status member is returned as memberStatus. ok is false when body is not one
// JSON object.
func decodeObject(body []byte, problem bool, status int) (e *Error, ok bool) {
	e, _, ok = decodeMembers(body, problem, status)
	return e, ok
}

func decodeMembers(body []byte, problem bool, status int) (e *Error, memberStatus int, ok bool) {
	var arr [16]span
	spans, ok := scanObject(body, arr[:0])
	if !ok {
		return nil, 0, false
	}
	var roles [16]uint8
	var roleOf []uint8
	if len(spans) <= len(roles) {
		roleOf = roles[:len(spans)]
	} else {
		roleOf = make([]uint8, len(spans))
	}
	codeAt, msgAt, statusAt, detailAt := -1, -1, -1, -1
	strLen, rawLen, nDetails := 0, 0, 0
	for i := range spans {
		m := &spans[i]
		key := m.key(body)
		switch {
		case string(key) == "error_code":
			roleOf[i], codeAt = roleCode, i
		case !problem && string(key) == "message", problem && string(key) == "detail":
			roleOf[i], msgAt = roleMessage, i
		case problem && string(key) == "status":
			roleOf[i], statusAt = roleStatus, i
		default:
			roleOf[i] = roleDetail
			nDetails++
			strLen += len(key)
			rawLen += m.vEnd - m.vStart
			if !problem && string(key) == "detail" {
				detailAt = i
			}
		}
	}
	e = newWireError()
	w := e.x.wire
	fallback := msgAt < 0 && detailAt >= 0
	if fallback {
		// No message member: a FastAPI-style "detail" member is the message
		// (the last one, as with any repeated member).
		msgAt = detailAt
	}
	// All strings (keys, message, name) share one allocation.
	var sb strings.Builder
	sb.Grow(strLen + spanLen(spans, msgAt) + spanLen(spans, codeAt))
	var raw []byte
	if nDetails > 0 {
		raw = make([]byte, 0, rawLen)
		w.details = make(map[string]json.RawMessage, nDetails)
	}
	type keyAt struct{ start, end, raw0, raw1 int }
	var karr [16]keyAt
	keys := karr[:0]
	for i := range spans {
		if roleOf[i] != roleDetail {
			continue
		}
		m := &spans[i]
		key := m.key(body)
		if fallback && string(key) == "detail" {
			continue
		}
		if escapedKey(key, problem) { // "_message" is the detail "message"
			key = key[1:]
		}
		k0 := sb.Len()
		sb.Write(key)
		r0 := len(raw)
		raw = m.appendValue(raw, body)
		keys = append(keys, keyAt{k0, sb.Len(), r0, len(raw)})
	}
	m0 := sb.Len()
	if msgAt >= 0 {
		spans[msgAt].writeText(&sb, body)
	}
	n0 := sb.Len()
	if codeAt >= 0 {
		spans[codeAt].writeText(&sb, body)
	}
	all := sb.String()
	for _, k := range keys {
		w.details[all[k.start:k.end]] = json.RawMessage(raw[k.raw0:k.raw1:k.raw1])
	}
	e.message = all[m0:n0]
	if statusAt >= 0 {
		memberStatus = spans[statusAt].statusValue(body)
	}
	if status == 0 {
		status = memberStatus
	}
	tok := byte(tokNull)
	if codeAt >= 0 {
		tok = spans[codeAt].tok
	}
	e.code, w.name = resolveCode(tok, all[n0:], status)
	return e, memberStatus, true
}

func spanLen(spans []span, i int) int {
	if i < 0 {
		return 0
	}
	return spans[i].vEnd - spans[i].vStart
}

// key returns the member's key: the bytes in body when it holds no escapes,
// else a new unquoted copy.
func (m *span) key(body []byte) []byte {
	raw := body[m.kStart:m.kEnd]
	if !m.kEsc {
		return raw
	}
	var sb strings.Builder
	writeUnquoted(&sb, raw)
	return []byte(sb.String())
}

// appendValue appends the value as compact JSON.
func (m *span) appendValue(dst, body []byte) []byte {
	v := body[m.vStart:m.vEnd]
	if !m.vSpace {
		return append(dst, v...)
	}
	return appendCompact(dst, v)
}

// writeText writes the value as text: a string unquoted, null as nothing,
// anything else as its compact JSON.
func (m *span) writeText(sb *strings.Builder, body []byte) {
	switch m.tok {
	case tokNull:
	case tokString:
		raw := body[m.vStart+1 : m.vEnd-1]
		if m.vEsc {
			writeUnquoted(sb, raw)
		} else {
			sb.Write(raw)
		}
	default:
		v := body[m.vStart:m.vEnd]
		if m.vSpace {
			v = appendCompact(make([]byte, 0, len(v)), v)
		}
		writeValidUTF8(sb, v)
	}
}

// writeValidUTF8 writes v with each byte of invalid UTF-8 replaced by U+FFFD,
// as unquoting a JSON string does.
func writeValidUTF8(sb *strings.Builder, v []byte) {
	for len(v) > 0 {
		i := 0
		for i < len(v) && v[i] < utf8.RuneSelf {
			i++
		}
		sb.Write(v[:i])
		v = v[i:]
		if len(v) == 0 {
			return
		}
		r, size := utf8.DecodeRune(v)
		if r == utf8.RuneError && size == 1 {
			sb.WriteRune(utf8.RuneError)
		} else {
			sb.Write(v[:size])
		}
		v = v[size:]
	}
}

// statusValue returns a problem+json status member (a number or a string of
// digits) when it is an HTTP status (100-999), else 0.
func (m *span) statusValue(body []byte) int {
	v := body[m.vStart:m.vEnd]
	if m.tok == tokString {
		v = v[1 : len(v)-1]
	} else if m.tok != tokNumber {
		return 0
	}
	if n, ok := parseInteger(string(v)); ok && isHTTPStatus(int(n)) {
		return int(n)
	}
	return 0
}

// parseInteger parses an optionally negative decimal integer of at most 18
// digits.
func parseInteger(s string) (int64, bool) {
	neg := false
	if s != "" && s[0] == '-' {
		neg, s = true, s[1:]
	}
	if s == "" || len(s) > 18 {
		return 0, false
	}
	var n int64
	for i := 0; i < len(s); i++ {
		c := s[i]
		if c < '0' || c > '9' {
			return 0, false
		}
		n = n*10 + int64(c-'0')
	}
	if neg {
		n = -n
	}
	return n, true
}

// resolveCode turns the error_code member (text is its string value or JSON
// text) into a code and, when the code does not name it, the verbatim name.
func resolveCode(tok byte, text string, status int) (Code, string) {
	switch {
	case tok == tokNull, tok == tokString && text == "":
		return CodeForHTTPStatus(status), ""
	case tok == tokString:
		if c, ok := codeByName[text]; ok {
			return c, ""
		}
	}
	if tok == tokString || tok == tokNumber {
		if n, ok := parseInteger(text); ok {
			switch {
			case n >= 100 && n <= 599:
				return CodeForHTTPStatus(int(n)), ""
			case n > 0 && n <= maxCodeNumber && Code(n).Known():
				return Code(n), ""
			}
		}
	}
	return CodeInternalError, text
}
