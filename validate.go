package mlerr

import (
	"cmp"
	"fmt"
	"math"
	"strings"
	"unicode"
	"unicode/utf8"
)

// keyChars marks the ASCII bytes a key may contain: letters, digits and
// "_ - . / space :". Beyond ASCII, MLflow's \w (a Python str pattern) takes
// Unicode letters and numbers, see keyRune.
var keyChars = func() (t [256]bool) {
	for c := 'a'; c <= 'z'; c++ {
		t[c] = true
	}
	for c := 'A'; c <= 'Z'; c++ {
		t[c] = true
	}
	for c := '0'; c <= '9'; c++ {
		t[c] = true
	}
	for _, c := range "_-./ :" {
		t[c] = true
	}
	return t
}()

// keyProblem returns why key is not a valid key of at most maxLen
// characters, or "".
func keyProblem(key string, maxLen int) string {
	switch {
	case key == "":
		return "the key is empty"
	case tooLong(key, maxLen):
		return fmt.Sprintf("the key is %d characters long, the limit is %d", utf8.RuneCountInString(key), maxLen)
	}
	return cmp.Or(charProblem(key), pathProblem(key))
}

// charProblem returns why a character of key is not allowed, or "".
func charProblem(key string) string {
	for i := 0; i < len(key); {
		r, size := rune(key[i]), 1
		if r >= utf8.RuneSelf {
			r, size = utf8.DecodeRuneInString(key[i:])
		}
		if !keyRune(r) {
			return runeProblem(r, size, i)
		}
		i += size
	}
	return ""
}

// keyRune reports whether a key may contain r: an ASCII byte that keyChars
// marks, or beyond ASCII a Unicode letter or number.
func keyRune(r rune) bool {
	if r < utf8.RuneSelf {
		return keyChars[r]
	}
	return unicode.IsLetter(r) || unicode.IsNumber(r)
}

// runeProblem says why the rune r, size bytes at byte i of a key, is not
// allowed.
func runeProblem(r rune, size, i int) string {
	if r == utf8.RuneError && size == 1 {
		return fmt.Sprintf("the key is not valid UTF-8 (byte %d)", i)
	}
	return fmt.Sprintf("character %q at byte %d is not allowed (only letters, digits and \"_ - . / space :\")", r, i)
}

// pathProblem returns why key, read as a path, would name another path or
// escape, or "".
func pathProblem(key string) string {
	if why := pathStartProblem(key); why != "" {
		return why
	}
	for part := range strings.SplitSeq(key, "/") {
		if why := pathElementProblem(part); why != "" {
			return why
		}
	}
	return ""
}

// pathStartProblem returns why a key may not start as key does, or "".
func pathStartProblem(key string) string {
	switch {
	case key == ".":
		return `the key "." is not allowed`
	case strings.HasPrefix(key, ".."):
		return `a key may not start with ".."`
	case key[0] == '/':
		return `a key may not start with "/"`
	}
	return ""
}

// pathElementProblem returns why a key may not hold the path element part,
// or "".
func pathElementProblem(part string) string {
	switch part {
	case "":
		return `a key may not contain "//" or end with "/" (it would name another path)`
	case ".", "..":
		return fmt.Sprintf("a key may not contain the path element %q (it would name another path)", part)
	}
	return ""
}

// quoteKey quotes a key for an error message, shortening a very long one.
func quoteKey(key string) string {
	const max = 80
	if len(key) > max {
		return fmt.Sprintf("%q... (%d bytes)", key[:runeCut(key, max)], len(key))
	}
	return fmt.Sprintf("%q", key)
}

// shorten returns s, or its start followed by "..." when s is long, for
// error messages that quote values.
func shorten(s string) string {
	const max = 64
	if len(s) <= max {
		return s
	}
	return s[:runeCut(s, max)] + "..."
}

// runeCut returns the largest rune boundary of s at or before byte n, where
// n < len(s).
func runeCut(s string, n int) int {
	for n > 0 && !utf8.RuneStart(s[n]) {
		n--
	}
	return n
}

// finite reports whether v is neither NaN nor infinite.
func finite(v float64) bool { return math.Abs(v) <= math.MaxFloat64 } // false for NaN and ±Inf

// sameValue reports whether two metric values are the same point value: equal
// bits, so that NaN equals NaN and 0 differs from -0.
func sameValue(a, b float64) bool { return math.Float64bits(a) == math.Float64bits(b) }

// tooLong reports whether s has more than limit characters; it counts runes
// only when the byte length could exceed the limit.
func tooLong(s string, limit int) bool {
	return len(s) > limit && utf8.RuneCountInString(s) > limit
}

// truncate shortens s to at most limit characters, on a rune boundary.
func truncate(s string, limit int) string {
	n := 0
	for i := range s {
		if n == limit {
			return s[:i]
		}
		n++
	}
	return s
}
