package jsonwire_test

import (
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"

	"github.com/mlerr/mlerr/internal/jsonwire"
)

// quoteInputs cover every class of byte the encoder treats apart, at every
// position of an 8-byte word (SafePrefix reads eight at a time).
var quoteInputs = func() []string {
	specials := []string{
		"\"", "\\", "<", ">", "&", "\x00", "\x1f", "\b", "\f", "\n", "\r", "\t", "\x7f", "\x80", "\xff",
		"é", "€", "😀", "\u2028", "\u2029", "\xe2\x80", "\xed\xa0\x80", " ", "~", "'", "/", "=", "?", "!",
		"\x20", "\x21", "\x23", "\x25", "\x27", "\x3b", "\x3d", "\x3f", "\x5b", "\x5d",
	}
	in := []string{"", "Run 42 not found", strings.Repeat("a", 64), "learning_rate"}
	for _, s := range specials {
		for pos := 0; pos < 10; pos++ {
			in = append(in, strings.Repeat("x", pos)+s+strings.Repeat("y", 9-pos))
		}
	}
	return in
}()

func TestQuoteMatchesEncodingJSON(t *testing.T) {
	for _, s := range quoteInputs {
		checkQuote(t, s)
	}
	// Every byte alone, and every byte in the middle of a long safe run.
	for c := 0; c < 256; c++ {
		checkQuote(t, string([]byte{byte(c)}))
		checkQuote(t, "abcdefgh"+string([]byte{byte(c)})+"ijklmnopq")
	}
}

func TestQuoteTable(t *testing.T) {
	tests := []struct{ in, want string }{
		{"", `""`},
		{"a\"b\\c", `"a\"b\\c"`},
		{"<a href='x'>&</a>", `"\u003ca href='x'\u003e\u0026\u003c/a\u003e"`},
		{"\b\f\n\r\t\x00\x1f\x7f", `"\b\f\n\r\t\u0000\u001f` + "\x7f" + `"`},
		{"\u2028\u2029", `"\u2028\u2029"`},
		{"a\xffb\xc3", `"a\ufffdb\ufffd"`},
		{"é€😀", `"é€😀"`},
	}
	for _, tt := range tests {
		assert.Equal(t, tt.want, string(jsonwire.AppendQuoted(nil, tt.in)), "%q", tt.in)
		assert.Equal(t, len(tt.want), jsonwire.QuotedLen(tt.in), "%q", tt.in)
	}
}

func TestSafePrefix(t *testing.T) {
	tests := []struct {
		in   string
		want int
	}{
		{"", 0}, {"abc", 3}, {"abcdefghijklmnop", 16}, {"abcdefgh<", 8}, {"abcdefg\"h", 7},
		{"é", 0}, {"abcdefghé", 8}, {"a\x7f", 2}, {"a\x1fb", 1}, {"abcdefghijklmn&", 14},
	}
	for _, tt := range tests {
		assert.Equal(t, tt.want, jsonwire.SafePrefix(tt.in), "%q", tt.in)
	}
}

func TestQuoteAllocatesNothingInCapacity(t *testing.T) {
	s := "Run with id=3f2b9c0e7a4d4e0b8c1f2a3b4c5d6e7f not found <\n\xff>"
	buf := make([]byte, 0, jsonwire.QuotedLen(s))
	allocs := testing.AllocsPerRun(100, func() {
		buf = jsonwire.AppendQuoted(buf[:0], s)
	})
	assert.Zero(t, allocs)
	assert.Len(t, buf, jsonwire.QuotedLen(s))
}
