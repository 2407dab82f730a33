package mlerr

import (
	"encoding/json"
	"strconv"

	"github.com/mlerr/mlerr/internal/jsonwire"
)

// MLflow JSON is the body MLflow's server answers errors with:
//
//	{"error_code": "RESOURCE_DOES_NOT_EXIST", "message": "Run 42 not found", <details>...}
//
// Encoding writes error_code (Name), message, then the details in key order.
// Decoding (UnmarshalJSON, Decoder.DecodeError, FromResponse) reads error_code as
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

// formatMember is a member of a format that is no detail, and its role in
// decoding.
type formatMember struct {
	key  string
	role uint8
}

// The members of each format: MLflow JSON's and problem+json's.
var (
	mlflowMembers  = []formatMember{{"error_code", roleCode}, {"message", roleMessage}}
	problemMembers = []formatMember{{"error_code", roleCode}, {"detail", roleMessage}, {"status", roleStatus}}
)

// formatMembers returns the members of MLflow JSON, or of problem+json when
// problem is true.
func formatMembers(problem bool) []formatMember {
	if problem {
		return problemMembers
	}
	return mlflowMembers
}

// escapedKey reports whether a detail key is a member name preceded by zero
// or more '_': such a key is written with one more leading underscore.
func escapedKey[K string | []byte](key K, problem bool) bool {
	i := 0
	for i < len(key) && key[i] == '_' {
		i++
	}
	return i < len(key) && roleOf(key[i:], problem) != roleDetail
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
	if jsonwire.SafePrefix(e.message) == len(e.message) {
		n += len(`{"error_code":,"message":""}`) + e.nameLen() + len(e.message)
		b := make([]byte, 0, n)
		b = append(b, `{"error_code":`...)
		b = e.appendName(b)
		b = append(b, `,"message":"`...)
		b = append(b, e.message...)
		b = append(b, '"')
		return appendDetails(b, details, false), nil
	}
	n += len(`{"error_code":,"message":}`) + e.nameLen() + jsonwire.QuotedLen(e.message)
	return e.appendJSON(make([]byte, 0, n), details), nil
}

func (e *Error) appendJSON(b []byte, details []detail) []byte {
	b = append(b, `{"error_code":`...)
	b = e.appendName(b)
	b = append(b, `,"message":`...)
	b = jsonwire.AppendQuoted(b, e.message)
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
		d := detail{key: k, value: v, escaped: escapedKey(k, problem), plain: jsonwire.SafePrefix(k) == len(k)}
		n += 2 + d.quotedKeyLen() + len(v) // , :
		list = append(list, d)
	}
	sortDetails(list)
	return list, n
}

// quotedKeyLen is the length of the key as appendKey writes it, with its
// quotes.
func (d *detail) quotedKeyLen() int {
	n := len(d.key) + 2
	if !d.plain {
		n = jsonwire.QuotedLen(d.key)
	}
	if d.escaped {
		n++
	}
	return n
}

// sortDetails sorts details by key with an insertion sort: details are few.
func sortDetails(list []detail) {
	for i := 1; i < len(list); i++ {
		for j := i; j > 0 && list[j].key < list[j-1].key; j-- {
			list[j], list[j-1] = list[j-1], list[j]
		}
	}
}

// appendName appends the error_code value: the name as a string, or for a
// code MLflow does not define, its number.
func (e *Error) appendName(b []byte) []byte {
	if name := e.rawName(); name != "" {
		return jsonwire.AppendQuoted(b, name)
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
		return jsonwire.QuotedLen(name)
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
	for i := range details {
		d := &details[i]
		if problem && isProblemMember(d.key) {
			continue
		}
		b = append(b, ',', '"')
		b = d.appendKey(b)
		b = append(b, '"', ':')
		b = append(b, d.value...)
	}
	return append(b, '}')
}

// appendKey appends the detail's key, escaped as JSON, with the leading
// underscore the format's rule adds to a member's name.
func (d *detail) appendKey(b []byte) []byte {
	if d.escaped {
		b = append(b, '_')
	}
	if d.plain {
		return append(b, d.key...)
	}
	return jsonwire.AppendEscaped(b, d.key)
}
