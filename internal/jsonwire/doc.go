// Package jsonwire is the JSON mechanics under mlerr's wire formats: a small
// validating scanner for the top level of an error body, the unquoting and
// compacting of what it found, and string escaping for the encoders. The
// formats themselves (MLflow JSON, problem+json: which member means what)
// live in the root package; this package knows only RFC 8259.
//
// Everything here matches encoding/json, which the tests use as the oracle:
// ScanObject accepts exactly the documents json.Valid accepts that are one
// object (nested at most MaxNesting deep), WriteUnquoted gives the string
// json.Unmarshal gives, AppendCompact gives what json.Compact writes, and
// AppendQuoted writes byte for byte what json.Marshal writes for a string.
// None of it panics on any input it is documented to take, and none of it
// allocates beyond the buffers it is given, so that decoding and encoding
// an *Error stay at one or a few allocations.
package jsonwire
