package mlerr_test

import (
	"path"
	"regexp"
	"strings"
	"testing"
	"unicode/utf8"

	"github.com/mlerr/mlerr"
)

// keyRule is MLflow's key rule written as MLflow writes it: a regular
// expression (\w taken as Unicode letters and numbers) and "the key is its
// own normal form as a path".
var keyRule = regexp.MustCompile(`^[/\pL\pN_.\- :]*$`)

func referenceKeyValid(key string) bool {
	return utf8.ValidString(key) &&
		key != "" && key != "." &&
		utf8.RuneCountInString(key) <= 250 &&
		keyRule.MatchString(key) &&
		!strings.HasPrefix(key, "..") && !strings.HasPrefix(key, "/") &&
		path.Clean(key) == key
}

func FuzzValidateKey(f *testing.F) {
	for _, k := range []string{"loss", "a/b", "a//b", "a/", "./a", "a/./b", "a/../b", "a/..b", "..a", ".", "/a",
		"train loss:epoch-1_x.y", "", "é", "e\u0301", "\xff", "a\x00b", "x/.", "x/..", "a b", strings.Repeat("k", 251)} {
		f.Add(k)
	}
	f.Fuzz(func(t *testing.T, key string) {
		err := (mlerr.Rules{}).ValidateKey(mlerr.ItemMetric, key)
		if want := referenceKeyValid(key); (err == nil) != want {
			t.Fatalf("ValidateKey(%q) = %v, want valid=%v", key, err, want)
		}
	})
}
