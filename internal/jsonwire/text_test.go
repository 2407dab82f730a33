package jsonwire_test

import (
	"encoding/json"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/mlerr/mlerr/internal/jsonwire"
)

// stringContents are JSON string contents (between the quotes), valid ones:
// escapes of each kind, surrogate pairs and lone surrogates, invalid UTF-8.
var stringContents = []string{
	``, `plain`, `\"`, `\\`, `\/`, `\b\f\n\r\t`, `a\nb\tc`, `\u0000`, `\u001f`, `\u0041\u00e9\u20ac`,
	`\u20AC`, `\ud83d\ude00`, `\uD83D\uDE00x`, `\ud800`, `\ud800x`, `\ud800\u0041`, `\ud800\ud800`,
	`\udc00`, `\udc00\ud800`, `\ud83d\ude00\ud83d`, `\ud800\n`, `é€😀`, "\xff", "a\xffb", "\xc3", "\xc3(",
	"\xe2\x82", "\xed\xa0\x80", "\xf4\x90\x80\x80", `\u2028\u2029`, "x\u2028y",
}

func TestWriteUnquotedMatchesEncodingJSON(t *testing.T) {
	for _, raw := range stringContents {
		t.Run(raw, func(t *testing.T) {
			quoted := `"` + raw + `"`
			var want string
			require.NoError(t, json.Unmarshal([]byte(quoted), &want))
			var sb strings.Builder
			jsonwire.WriteUnquoted(&sb, []byte(raw))
			assert.Equal(t, want, sb.String())

			// The same through a scanned member, as value and as key.
			checkScan(t, []byte(`{"k":`+quoted+`}`))
			checkScan(t, []byte(`{`+quoted+`:0}`))
		})
	}
}

func TestKeyCopiesOnlyWhenEscaped(t *testing.T) {
	body := []byte(`{"plain":1,"a\nb":2}`)
	members, ok := jsonwire.ScanObject(body, nil)
	require.True(t, ok)
	plain := members[0].Key(body)
	assert.Equal(t, "plain", string(plain))
	assert.Same(t, &body[members[0].KeyStart], &plain[0], "an unescaped key is the body's bytes")
	escaped := members[1].Key(body)
	assert.Equal(t, "a\nb", string(escaped))
	escaped[0] = 'X'
	assert.Equal(t, byte('a'), body[members[1].KeyStart], "an escaped key is a copy")
}

func TestAppendCompactMatchesEncodingJSON(t *testing.T) {
	for _, v := range []string{
		`1`, `[]`, `[ ]`, ` [ 1 , 2 ] `, "{\n\t\"a\" : [ true , null ]\r\n}", `"a b"`, `[" x ", "\" y \\"]`,
		`{"a b":{"c d":" e "}}`, `[1,2]`, `{"\\":" "}`,
	} {
		t.Run(v, func(t *testing.T) {
			assert.Equal(t, stdCompact(t, []byte(v)), string(jsonwire.AppendCompact(nil, []byte(v))))
			assert.Equal(t, "x"+stdCompact(t, []byte(v)), string(jsonwire.AppendCompact([]byte("x"), []byte(v))))
		})
	}
}

func TestWriteText(t *testing.T) {
	tests := []struct{ doc, want string }{
		{`{"a":"x\ny"}`, "x\ny"},
		{`{"a":"plain"}`, "plain"},
		{`{"a":null}`, ""},
		{`{"a":-1.5}`, "-1.5"},
		{`{"a":true}`, "true"},
		{`{"a": { "b" : [1, 2] } }`, `{"b":[1,2]}`},
		{"{\"a\":[\"\xff\"]}", "[\"\uFFFD\"]"},
	}
	for _, tt := range tests {
		t.Run(tt.doc, func(t *testing.T) {
			body := []byte(tt.doc)
			members, ok := jsonwire.ScanObject(body, nil)
			require.True(t, ok)
			var sb strings.Builder
			members[0].WriteText(&sb, body)
			assert.Equal(t, tt.want, sb.String())
			checkScan(t, body)
		})
	}
}

func TestWriteValidUTF8(t *testing.T) {
	for _, tt := range []struct{ in, want string }{
		{"", ""}, {"abc", "abc"}, {"é€😀", "é€😀"}, {"\xff", "\uFFFD"}, {"a\xff\xfeb", "a\uFFFD\uFFFDb"},
		{"\xc3", "\uFFFD"}, {"\xe2\x82z", "\uFFFD\uFFFDz"}, {"\xed\xa0\x80", "\uFFFD\uFFFD\uFFFD"},
	} {
		var sb strings.Builder
		jsonwire.WriteValidUTF8(&sb, []byte(tt.in))
		assert.Equal(t, tt.want, sb.String(), "%q", tt.in)
		assert.Equal(t, validUTF8(tt.in), sb.String(), "%q: as ranging over the string does", tt.in)
	}
}
