package jsonwire_test

import (
	"testing"
)

// FuzzScanObject checks the scanner against encoding/json on any document:
// the same documents accepted, the same members found, the same compact
// values and unquoted strings.
func FuzzScanObject(f *testing.F) {
	for _, doc := range scanDocs {
		f.Add([]byte(doc))
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		checkScan(t, data)
	})
}

// FuzzString checks unquoting on any string contents, as a value and as a
// key: WriteUnquoted gives what json.Unmarshal gives, wherever encoding/json
// accepts the string.
func FuzzString(f *testing.F) {
	for _, raw := range stringContents {
		f.Add(raw)
	}
	f.Fuzz(func(t *testing.T, raw string) {
		checkScan(t, []byte(`{"k":"`+raw+`"}`))
		checkScan(t, []byte(`{"`+raw+`":[0, "`+raw+`"]}`))
	})
}

// FuzzQuote checks the encoder on any string: byte for byte what json.Marshal
// writes, with the length QuotedLen predicts.
func FuzzQuote(f *testing.F) {
	for _, s := range quoteInputs {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		checkQuote(t, s)
	})
}
