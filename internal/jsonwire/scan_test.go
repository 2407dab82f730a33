package jsonwire_test

import (
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/mlerr/mlerr/internal/jsonwire"
)

// scanDocs are the documents of the table tests and the fuzz targets' seeds:
// each grammar rule, accepted and broken.
var scanDocs = []string{
	// objects
	`{}`, ` { } `, "\t{\r\n}\n", `{"a":1}`, `{"a":1,"a":2}`, `{"a":1,}`, `{,}`, `{"a"}`, `{"a":}`,
	`{"a" 1}`, `{a:1}`, `{'a':1}`, `{"a":1}x`, `{"a":1}}`, `{"a":1} {}`, `{`, `}`, ``, ` `,
	`[]`, `"s"`, `1`, `null`, `true`,
	// literals
	`{"a":null}`, `{"a":true}`, `{"a":false}`, `{"a":nul}`, `{"a":nulll}`, `{"a":True}`, `{"a":fals}`,
	// numbers
	`{"a":0}`, `{"a":-0}`, `{"a":-}`, `{"a":01}`, `{"a":1.5}`, `{"a":1.}`, `{"a":.5}`, `{"a":1e3}`,
	`{"a":1E+3}`, `{"a":1e-3}`, `{"a":1e}`, `{"a":1e+}`, `{"a":-1.25e-10}`, `{"a":+1}`, `{"a":1.5.5}`,
	`{"a":12345678901234567890123}`,
	// strings
	`{"a":""}`, `{"a":"\"\\\/\b\f\n\r\t"}`, `{"a":"\u00e9\u20AC"}`, `{"a":"\ud83d\ude00"}`,
	`{"a":"\ud800"}`, `{"a":"\ud800\u0041"}`, `{"a":"\udc00\ud800"}`, `{"a":"\u12"}`, `{"a":"\u12g4"}`,
	`{"a":"\x"}`, `{"a":"\'"}`, "{\"a\":\"\x01\"}", "{\"a\":\"\x7f\"}", `{"a":"unterminated}`,
	"{\"a\":\"\xff\xfe\"}", "{\"\xc3\xa9\":\"\xc3\"}", `{"\u0061":1}`, `{"a\"b":1}`, `{"a":"é€😀"}`,
	// nested values
	`{"a":[]}`, `{"a":[ ]}`, `{"a":[1,2]}`, `{"a":[1,]}`, `{"a":[,1]}`, `{"a":[1 2]}`, `{"a":{}}`,
	`{"a":{"b":[{"c":null}]}}`, `{"a":{"b" : 1 , "c":[ true , false ]}}`, `{"a":{"b"}}`, `{"a":{1:2}}`,
	`{"a":{"b":1,}}`, `{"a":[}`, `{"a":{]}`, `{"a":[[[]]]}`, `{"a" : [ "x y" , { "k" : "v w" } ] }`,
}

func TestScanObjectMatchesEncodingJSON(t *testing.T) {
	for _, doc := range scanDocs {
		t.Run(doc, func(t *testing.T) { checkScan(t, []byte(doc)) })
	}
}

func TestScanObjectMembers(t *testing.T) {
	type member struct {
		key, value   string
		kind         jsonwire.Kind
		esc, space   bool
		keyEscaped   bool
		compactValue string
	}
	tests := []struct {
		doc  string
		want []member
	}{
		{`{}`, nil},
		{`{"error_code":"X","message":null}`, []member{
			{key: "error_code", value: `"X"`, kind: jsonwire.String, compactValue: `"X"`},
			{key: "message", value: `null`, kind: jsonwire.Null, compactValue: `null`},
		}},
		{` { "n" : -1.5e3 , "t":true,"o" : { "a" : [ 1 , "b c" ] } } `, []member{
			{key: "n", value: `-1.5e3`, kind: jsonwire.Number, compactValue: `-1.5e3`},
			{key: "t", value: `true`, kind: jsonwire.Other, compactValue: `true`},
			{key: "o", value: `{ "a" : [ 1 , "b c" ] }`, kind: jsonwire.Other, space: true, compactValue: `{"a":[1,"b c"]}`},
		}},
		{`{"k\u00e9":"v\n","é":"é","a":"a"}`, []member{
			{key: `k\u00e9`, value: `"v\n"`, kind: jsonwire.String, esc: true, keyEscaped: true, compactValue: `"v\n"`},
			{key: `é`, value: `"é"`, kind: jsonwire.String, esc: true, keyEscaped: true, compactValue: `"é"`},
			{key: `a`, value: `"a"`, kind: jsonwire.String, compactValue: `"a"`},
		}},
		{`{"a":1,"a":[]}`, []member{
			{key: "a", value: `1`, kind: jsonwire.Number, compactValue: `1`},
			{key: "a", value: `[]`, kind: jsonwire.Other, compactValue: `[]`},
		}},
	}
	for _, tt := range tests {
		t.Run(tt.doc, func(t *testing.T) {
			body := []byte(tt.doc)
			members, ok := jsonwire.ScanObject(body, nil)
			require.True(t, ok)
			var got []member
			for _, m := range members {
				got = append(got, member{
					key: string(body[m.KeyStart:m.KeyEnd]), value: string(m.Value(body)), kind: m.Kind,
					esc: m.ValEscaped, space: m.ValSpace, keyEscaped: m.KeyEscaped,
					compactValue: string(m.AppendValue(nil, body)),
				})
				assert.Equal(t, m.ValEnd-m.ValStart, m.ValueLen())
			}
			assert.Equal(t, tt.want, got)
		})
	}
}

func TestScanObjectNesting(t *testing.T) {
	for _, tt := range []struct {
		name             string
		open, mid, close string
	}{{"arrays", "[", "", "]"}, {"objects", `{"b":`, "0", "}"}} {
		deep := func(n int, open, close string) []byte {
			return []byte(`{"a":` + strings.Repeat(open, n) + tt.mid + strings.Repeat(close, n) + `}`)
		}
		t.Run(tt.name, func(t *testing.T) {
			// The top-level object is depth 0: MaxNesting containers inside it.
			_, ok := jsonwire.ScanObject(deep(jsonwire.MaxNesting, tt.open, tt.close), nil)
			assert.True(t, ok, "%d deep", jsonwire.MaxNesting)
			_, ok = jsonwire.ScanObject(deep(jsonwire.MaxNesting+1, tt.open, tt.close), nil)
			assert.False(t, ok, "%d deep", jsonwire.MaxNesting+1)
			// Far deeper: rejected without exhausting the stack.
			_, ok = jsonwire.ScanObject(deep(1_000_000, tt.open, tt.close), nil)
			assert.False(t, ok)
		})
	}
}

func TestScanObjectAppends(t *testing.T) {
	buf := make([]jsonwire.Member, 1, 8)
	buf[0].KeyStart = 99
	members, ok := jsonwire.ScanObject([]byte(`{"a":1,"b":2}`), buf)
	require.True(t, ok)
	require.Len(t, members, 3)
	assert.Equal(t, 99, members[0].KeyStart, "the members given are kept")
	assert.Equal(t, 2, members[1].KeyStart)
}

func TestScanObjectAllocatesNothing(t *testing.T) {
	body := []byte(`{"error_code": "RESOURCE_DOES_NOT_EXIST", "message": "Run 42 not found", "x": [1, {"y": "z"}]}`)
	buf := make([]jsonwire.Member, 0, 16)
	allocs := testing.AllocsPerRun(100, func() {
		if _, ok := jsonwire.ScanObject(body, buf[:0]); !ok {
			t.Fatal("rejected")
		}
	})
	assert.Zero(t, allocs)
}

func TestIsSpaceAndTrimSpace(t *testing.T) {
	for c := 0; c < 256; c++ {
		want := c == ' ' || c == '\t' || c == '\n' || c == '\r' // RFC 8259's four
		assert.Equal(t, want, jsonwire.IsSpace(byte(c)), "%#x", c)
	}
	for _, tt := range []struct{ in, want string }{
		{"", ""}, {" \t\r\n", ""}, {" null\n", "null"}, {"\v{}\f", "\v{}\f"}, {"a b", "a b"},
	} {
		assert.Equal(t, tt.want, string(jsonwire.TrimSpace([]byte(tt.in))), "%q", tt.in)
	}
}
