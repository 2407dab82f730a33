package mlerr

import (
	"cmp"
	"encoding/json"
	"strings"

	"github.com/mlerr/mlerr/internal/jsonwire"
)

// Decoding MLflow JSON and problem+json (the rules are in wire.go's
// comment): one scan of the object (jsonwire.ScanObject), a pass that gives
// each member its role and sizes what the strings need, then one allocation
// for all the strings and one for all the detail values.

// UnmarshalJSON decodes MLflow JSON into e, replacing all of e (kind, cause,
// status and Retry-After become zero). JSON null leaves e unchanged. A
// document that is not a JSON object gives an *Error with code
// MALFORMED_REQUEST and leaves e unchanged.
func (e *Error) UnmarshalJSON(data []byte) error {
	if s := jsonwire.TrimSpace(data); string(s) == "null" {
		return nil
	}
	d, ok := decodeObject(data, false, 0)
	if !ok {
		return Errorf(CodeMalformedRequest, "mlerr: error body is not a JSON object: %s", excerpt(data, "", 64))
	}
	*e = *d
	return nil
}

// member roles in decodeMembers.
const (
	roleDetail = iota
	roleCode
	roleMessage
	roleStatus
)

// roleOf gives the role of the member named key: that of a member of the
// format (formatMembers), else roleDetail.
func roleOf[K string | []byte](key K, problem bool) uint8 {
	for _, m := range formatMembers(problem) {
		if string(key) == m.key {
			return m.role
		}
	}
	return roleDetail
}

// decodeObject decodes a JSON object in MLflow JSON (problem false) or
// problem+json (problem true). status is the HTTP status observed (0 if none):
// it decides the code when the body names none. ok is false when body is not
// one JSON object.
func decodeObject(body []byte, problem bool, status int) (e *Error, ok bool) {
	e, _, ok = decodeMembers(body, problem, status)
	return e, ok
}

// decodeMembers is decodeObject that also returns, in problem+json, a valid
// status member (0 when there is none).
func decodeMembers(body []byte, problem bool, status int) (e *Error, memberStatus int, ok bool) {
	var arr [16]jsonwire.Member
	members, ok := jsonwire.ScanObject(body, arr[:0])
	if !ok {
		return nil, 0, false
	}
	var roles [16]uint8
	l := newLayout(body, members, problem, roles[:0])
	e = newWireError()
	name := l.fill(e, body, members, problem)
	memberStatus = l.memberStatus(members, body)
	// The status observed decides the code, else the status member.
	e.code, e.x.wire.name = resolveCode(l.codeKind(members), name, cmp.Or(status, memberStatus))
	return e, memberStatus, true
}

// layout is what the first pass over an object's members learns: the role
// of each member, where the last member of each role is, and how much the
// strings and detail values take.
type layout struct {
	roles                    []uint8
	codeAt, msgAt, statusAt  int // -1: no such member
	strLen, rawLen, nDetails int
	// detailAt is the last detail named "detail" (-1: none). detailIsMessage:
	// with no message member, that member (as FastAPI sends) is the message,
	// and no "detail" member is a detail.
	detailAt        int
	detailIsMessage bool
}

// fallbackMessageKey names the detail that is the message of an MLflow JSON
// body without a message member.
const fallbackMessageKey = "detail"

// newLayout makes the first pass, appending the roles to roles.
func newLayout(body []byte, members []jsonwire.Member, problem bool, roles []uint8) layout {
	if len(members) > cap(roles) {
		roles = make([]uint8, 0, len(members))
	}
	l := layout{codeAt: -1, msgAt: -1, statusAt: -1, detailAt: -1}
	for i := range members {
		m := &members[i]
		key := m.Key(body)
		role := roleOf(key, problem)
		roles = append(roles, role) // a local, not l.roles: roles stays on the caller's stack
		l.add(i, role, key, m.ValueLen())
	}
	l.roles = roles
	l.takeDetailAsMessage()
	return l
}

// add notes that member i, named key, whose value is valueLen long, has the
// role role.
func (l *layout) add(i int, role uint8, key []byte, valueLen int) {
	switch role {
	case roleCode:
		l.codeAt = i
	case roleMessage:
		l.msgAt = i
	case roleStatus:
		l.statusAt = i
	default:
		l.addDetail(i, key, valueLen)
	}
}

// addDetail counts the detail i, named key, in the sizes, and notes where
// the last "detail" member is. (In problem+json, "detail" is the message
// member and never comes here.)
func (l *layout) addDetail(i int, key []byte, valueLen int) {
	l.nDetails++
	l.strLen += len(key)
	l.rawLen += valueLen
	if string(key) == fallbackMessageKey {
		l.detailAt = i
	}
}

// takeDetailAsMessage makes the last "detail" member the message when there
// is no message member.
func (l *layout) takeDetailAsMessage() {
	if l.msgAt < 0 && l.detailAt >= 0 {
		l.msgAt, l.detailIsMessage = l.detailAt, true
	}
}

// isDetail reports whether member i, named key, is a detail: not a member
// of the format, nor a "detail" member taken as the message.
func (l *layout) isDetail(i int, key []byte) bool {
	return l.roles[i] == roleDetail && !(l.detailIsMessage && string(key) == fallbackMessageKey)
}

// memberStatus is the status member's value when it is an HTTP status, else
// 0.
func (l *layout) memberStatus(members []jsonwire.Member, body []byte) int {
	if l.statusAt < 0 {
		return 0
	}
	return statusValue(&members[l.statusAt], body)
}

// codeKind is the kind of the error_code member's value, Null without one.
func (l *layout) codeKind(members []jsonwire.Member) jsonwire.Kind {
	if l.codeAt < 0 {
		return jsonwire.Null
	}
	return members[l.codeAt].Kind
}

// keyAt locates one detail in fill's buffers: its key in the strings, its
// value in the raw JSON.
type keyAt struct{ start, end, raw0, raw1 int }

// fill sets e's message and details from the members and returns the text
// of the error_code member. The keys, the message and the name share one
// allocation; the detail values share another.
func (l *layout) fill(e *Error, body []byte, members []jsonwire.Member, problem bool) (name string) {
	var sb strings.Builder
	sb.Grow(l.strLen + valueLen(members, l.msgAt) + valueLen(members, l.codeAt))
	var karr [16]keyAt
	keys, raw := l.writeDetails(&sb, karr[:0], body, members, problem)
	m0 := sb.Len()
	writeText(&sb, members, l.msgAt, body)
	n0 := sb.Len()
	writeText(&sb, members, l.codeAt, body)
	all := sb.String()
	e.x.wire.details = l.details(all, keys, raw)
	e.message = all[m0:n0]
	return all[n0:]
}

// details makes the map of the details whose keys lie in strs and values in
// raw; nil when the object has no detail.
func (l *layout) details(strs string, keys []keyAt, raw []byte) map[string]json.RawMessage {
	if l.nDetails == 0 {
		return nil
	}
	details := make(map[string]json.RawMessage, l.nDetails)
	for _, k := range keys {
		details[strs[k.start:k.end]] = json.RawMessage(raw[k.raw0:k.raw1:k.raw1])
	}
	return details
}

// writeDetails writes the detail keys to sb (a key escaped by the format's
// rule loses its added underscore) and their values, compacted, to one new
// buffer, and appends where each lies to keys.
func (l *layout) writeDetails(sb *strings.Builder, keys []keyAt, body []byte, members []jsonwire.Member, problem bool) ([]keyAt, []byte) {
	if l.nDetails == 0 {
		return keys, nil
	}
	raw := make([]byte, 0, l.rawLen)
	for i := range members {
		m := &members[i]
		key := m.Key(body)
		if !l.isDetail(i, key) {
			continue
		}
		k0 := sb.Len()
		sb.Write(unescapeKey(key, problem))
		r0 := len(raw)
		raw = m.AppendValue(raw, body)
		keys = append(keys, keyAt{k0, sb.Len(), r0, len(raw)})
	}
	return keys, raw
}

// unescapeKey returns a detail's key without the leading underscore that
// the format's rule added to a member's name: "_message" is the detail
// "message".
func unescapeKey(key []byte, problem bool) []byte {
	if escapedKey(key, problem) {
		return key[1:]
	}
	return key
}

// writeText writes the text of member i's value to sb, nothing when i is -1.
func writeText(sb *strings.Builder, members []jsonwire.Member, i int, body []byte) {
	if i >= 0 {
		members[i].WriteText(sb, body)
	}
}

// valueLen is the length of member i's value, 0 when i is -1.
func valueLen(members []jsonwire.Member, i int) int {
	if i < 0 {
		return 0
	}
	return members[i].ValueLen()
}

// statusValue returns a problem+json status member (a number or a string of
// digits) when it is an HTTP status (100-999), else 0.
func statusValue(m *jsonwire.Member, body []byte) int {
	v := m.Value(body)
	switch m.Kind {
	case jsonwire.String:
		v = v[1 : len(v)-1]
	case jsonwire.Number:
	default:
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
	if rest, neg := strings.CutPrefix(s, "-"); neg {
		n, ok := parseDigits(rest)
		return -n, ok
	}
	return parseDigits(s)
}

// parseDigits parses 1 to 18 decimal digits.
func parseDigits(s string) (int64, bool) {
	if s == "" || len(s) > 18 {
		return 0, false
	}
	var n int64
	for i := 0; i < len(s); i++ {
		if !isDigit(s[i]) {
			return 0, false
		}
		n = n*10 + int64(s[i]-'0')
	}
	return n, true
}

// isDigit reports whether c is an ASCII decimal digit.
func isDigit(c byte) bool { return '0' <= c && c <= '9' }

// resolveCode turns the error_code member (text is its string value or JSON
// text, kind its kind) into a code and, when the code does not name it, the
// verbatim name.
func resolveCode(kind jsonwire.Kind, text string, status int) (Code, string) {
	switch kind {
	case jsonwire.Null:
		return CodeForHTTPStatus(status), ""
	case jsonwire.String:
		return codeFromString(text, status)
	case jsonwire.Number:
		return codeFromNumber(text)
	}
	return CodeInternalError, text
}

// codeFromString reads an error_code string: "" leaves the code to the
// status, one of MLflow's names gives its code, and any other text is read
// as codeFromNumber reads it.
func codeFromString(text string, status int) (Code, string) {
	if text == "" {
		return CodeForHTTPStatus(status), ""
	}
	if c, ok := codeByName[text]; ok {
		return c, ""
	}
	return codeFromNumber(text)
}

// codeFromNumber reads an error_code that may be an integer (see
// codeForNumber); anything else gives INTERNAL_ERROR with text kept as the
// name.
func codeFromNumber(text string) (Code, string) {
	if n, ok := parseInteger(text); ok {
		if c := codeForNumber(n); c != 0 {
			return c, ""
		}
	}
	return CodeInternalError, text
}

// codeForNumber is the code an integer error_code gives: 100 to 599 is an
// HTTP status, a code number MLflow defines is that code; 0 for any other.
func codeForNumber(n int64) Code {
	switch {
	case n >= 100 && n <= 599:
		return CodeForHTTPStatus(int(n))
	case n > 0 && n <= maxCodeNumber && Code(n).Known():
		return Code(n)
	}
	return 0
}
