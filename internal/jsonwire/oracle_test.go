package jsonwire_test

import (
	"bytes"
	"encoding/json"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/mlerr/mlerr/internal/jsonwire"
)

// encoding/json is the oracle of every test here: these helpers say what it
// makes of a document.

// stdObject reports whether encoding/json reads data as one object, and its
// members (the last of repeated keys, as json.Unmarshal keeps).
func stdObject(data []byte) (map[string]json.RawMessage, bool) {
	var obj map[string]json.RawMessage
	if json.Unmarshal(data, &obj) != nil || obj == nil {
		return nil, false
	}
	return obj, true
}

// nesting is how deeply arrays and objects nest in a valid document.
func nesting(data []byte) int {
	depth, deepest := 0, 0
	inString := false
	for i := 0; i < len(data); i++ {
		c := data[i]
		switch {
		case inString && c == '\\':
			i++
		case c == '"':
			inString = !inString
		case inString:
		case c == '[' || c == '{':
			depth++
			deepest = max(deepest, depth)
		case c == ']' || c == '}':
			depth--
		}
	}
	return deepest
}

// stdCompact is json.Compact's output for a valid value.
func stdCompact(t *testing.T, v []byte) string {
	t.Helper()
	var b bytes.Buffer
	require.NoError(t, json.Compact(&b, v))
	return b.String()
}

// checkScan checks ScanObject on data against encoding/json: it accepts
// exactly the objects encoding/json reads (nested at most MaxNesting deep),
// and the members it finds have the keys, kinds and compact values that
// encoding/json sees.
func checkScan(t *testing.T, data []byte) {
	t.Helper()
	members, ok := jsonwire.ScanObject(data, nil)
	obj, stdOK := stdObject(data)
	if stdOK && nesting(data) > jsonwire.MaxNesting {
		require.False(t, ok, "accepted a document nested deeper than MaxNesting: %q", data)
		return
	}
	require.Equal(t, stdOK, ok, "ScanObject and encoding/json disagree on %q", data)
	if !ok {
		return
	}
	last := map[string]jsonwire.Member{}
	for _, m := range members {
		last[string(m.Key(data))] = m
	}
	require.Len(t, last, len(obj), "keys of %q", data)
	for k, want := range obj {
		m, found := last[k]
		require.True(t, found, "key %q of %q", k, data)
		require.Equal(t, stdCompact(t, want), string(m.AppendValue(nil, data)), "value of %q in %q", k, data)
		require.Equal(t, kindOf(want), m.Kind, "kind of %q in %q", k, data)
		checkText(t, data, &m, want)
	}
}

// kindOf is the Kind of a valid value.
func kindOf(v json.RawMessage) jsonwire.Kind {
	switch c := bytes.TrimSpace(v)[0]; {
	case c == '"':
		return jsonwire.String
	case c == 'n':
		return jsonwire.Null
	case c == '-' || c >= '0' && c <= '9':
		return jsonwire.Number
	}
	return jsonwire.Other
}

// checkText checks WriteText: a string as json.Unmarshal unquotes it, null
// as nothing, anything else as its compact JSON made valid UTF-8.
func checkText(t *testing.T, data []byte, m *jsonwire.Member, v json.RawMessage) {
	t.Helper()
	var sb strings.Builder
	m.WriteText(&sb, data)
	var want string
	switch m.Kind {
	case jsonwire.String:
		require.NoError(t, json.Unmarshal(v, &want))
	case jsonwire.Null:
	default:
		want = validUTF8(stdCompact(t, v))
	}
	require.Equal(t, want, sb.String(), "text of %q", v)
}

// validUTF8 replaces each byte of invalid UTF-8 with U+FFFD, as unquoting a
// JSON string does.
func validUTF8(s string) string {
	var b strings.Builder
	for _, r := range s {
		b.WriteRune(r)
	}
	return b.String()
}

// stdQuoted is what json.Marshal writes for s.
func stdQuoted(t *testing.T, s string) string {
	t.Helper()
	b, err := json.Marshal(s)
	require.NoError(t, err)
	return string(b)
}

// checkQuote checks the encoder on s against json.Marshal.
func checkQuote(t *testing.T, s string) {
	t.Helper()
	want := stdQuoted(t, s)
	require.Equal(t, want, string(jsonwire.AppendQuoted(nil, s)), "AppendQuoted(%q)", s)
	require.Equal(t, len(want), jsonwire.QuotedLen(s), "QuotedLen(%q)", s)
	require.Equal(t, want[1:len(want)-1], string(jsonwire.AppendEscaped([]byte{}, s)), "AppendEscaped(%q)", s)
	require.Equal(t, "x"+want, string(jsonwire.AppendQuoted([]byte("x"), s)), "AppendQuoted appends")

	// SafePrefix: the longest prefix json.Marshal writes as it is.
	n := jsonwire.SafePrefix(s)
	require.Equal(t, s[:n], want[1:1+n], "SafePrefix(%q) = %d", s, n)
	if n < len(s) && s[n] < 0x80 { // it stops at every byte >= 0x80 by design
		c := s[n : n+1]
		require.NotEqual(t, `"`+c+`"`, stdQuoted(t, c), "SafePrefix(%q) = %d stops early", s, n)
	}
}
