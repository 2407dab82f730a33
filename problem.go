package mlerr

import (
	"strconv"

	"github.com/mlerr/mlerr/internal/jsonwire"
)

// RFC 9457 problem details ("application/problem+json"):
//
//	{"type": ..., "title": ..., "status": 404, "detail": "Run 42 not found",
//	 "instance": ..., "error_code": "RESOURCE_DOES_NOT_EXIST", <details>...}
//
// On an *Error, detail is the message, status the HTTPStatus, error_code the
// Name, and every other member a detail: type, title and instance are kept
// as the details of those names (WithDetail("instance", "/runs/42") sets
// one), written in front of the others. No member is invented: without a
// "type" detail the type is about:blank by the RFC's default, and without a
// "title" detail there is no title. Details named error_code, status or
// detail are written with one more leading underscore and read back without
// it, so that decoding with UnmarshalProblem what MarshalProblem wrote gives e
// back (see MarshalJSON).

// problemMediaType is the media type of RFC 9457 problem details.
const problemMediaType = "application/problem+json"

// isProblemMember reports whether a detail is written as one of the RFC's
// own members rather than as an extension member.
func isProblemMember(key string) bool {
	return key == "type" || key == "title" || key == "instance"
}

// MarshalProblem encodes e as RFC 9457 problem+json. A nil e encodes as
// null. It allocates once: the result.
func (e *Error) MarshalProblem() ([]byte, error) {
	if e == nil {
		return []byte("null"), nil
	}
	var arr [8]detail
	details, n := e.sortedDetails(arr[:0], true)
	var buf [20]byte
	n += len(`{"status":,"error_code":}`) + len(strconv.AppendInt(buf[:0], int64(e.HTTPStatus()), 10)) + e.nameLen()
	if e.message != "" {
		n += len(`,"detail":`) + jsonwire.QuotedLen(e.message)
	}
	return e.appendProblem(make([]byte, 0, n), details), nil
}

func (e *Error) appendProblem(b []byte, details []detail) []byte {
	b = append(b, '{')
	b = appendMember(b, details, "type", "", ",")
	b = appendMember(b, details, "title", "", ",")
	b = append(b, `"status":`...)
	b = strconv.AppendInt(b, int64(e.HTTPStatus()), 10)
	if e.message != "" {
		b = append(b, `,"detail":`...)
		b = jsonwire.AppendQuoted(b, e.message)
	}
	b = appendMember(b, details, "instance", ",", "")
	b = append(b, `,"error_code":`...)
	b = e.appendName(b)
	return appendDetails(b, details, true)
}

// appendMember appends the detail key as a member, between before and
// after, when there is one.
func appendMember(b []byte, details []detail, key, before, after string) []byte {
	for _, d := range details {
		if d.key == key {
			b = append(b, before...)
			b = append(b, '"')
			b = append(b, key...)
			b = append(b, `":`...)
			b = append(b, d.value...)
			return append(b, after...)
		}
	}
	return b
}

// UnmarshalProblem decodes RFC 9457 problem+json (see MarshalProblem) into
// e, replacing all of e (kind, cause and Retry-After become zero). The code
// is error_code's (read as FromResponse reads it) or, without one, the
// status member's; a status member other than the code's HTTP status is kept
// as the error's HTTPStatus. A document that is not a JSON object (null
// included) gives an *Error with code MALFORMED_REQUEST and leaves e
// unchanged.
func (e *Error) UnmarshalProblem(data []byte) error {
	d, ok := decodeProblem(data, 0)
	if !ok {
		return Errorf(CodeMalformedRequest, "mlerr: problem details are not a JSON object: %s", excerpt(data, "", 64))
	}
	*e = *d
	return nil
}

// decodeProblem decodes problem+json; status is the HTTP status observed, 0
// if none.
func decodeProblem(body []byte, status int) (*Error, bool) {
	e, memberStatus, ok := decodeMembers(body, true, status)
	if !ok {
		return nil, false
	}
	if memberStatus != 0 && memberStatus != e.code.HTTPStatus() {
		e.x.wire.status = memberStatus // e is the decoder's own
	}
	return e, true
}
