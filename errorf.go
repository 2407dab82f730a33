package mlerr

import (
	"fmt"
	"strings"
	"unicode/utf8"
)

// errorfMessage formats an Errorf call's message and finds its cause, as
// fmt.Errorf does, without fmt.Errorf's intermediate error value, for the
// common shapes: no %w verb at all, or one bare %w with nothing but literal
// text after it ("writing run %s: %w"). ok is false for any other shape
// (several %w, flags on %w, explicit argument indexes, '*' widths, a
// non-error or Formatter operand, verbs after %w, extra or missing
// arguments): the caller then uses fmt.Errorf itself.
func errorfMessage(format string, args []any) (msg string, cause error, ok bool) {
	k := strings.Index(format, "%w")
	if k < 0 {
		if _, ok := countOperands(format); !ok {
			return "", nil, false
		}
		return fmt.Sprintf(format, args...), nil, true
	}
	if strings.IndexByte(format[k+2:], '%') >= 0 {
		return "", nil, false
	}
	n, ok := countOperands(format[:k])
	if !ok || n != len(args)-1 {
		return "", nil, false
	}
	cause, ok = args[n].(error)
	if !ok {
		return "", nil, false
	}
	if _, isFormatter := cause.(fmt.Formatter); isFormatter {
		return "", nil, false
	}
	text, ok := errorText(cause)
	if !ok {
		return "", nil, false
	}
	var stack [128]byte
	b := stack[:0]
	if n == 0 && strings.IndexByte(format[:k], '%') < 0 {
		b = append(b, format[:k]...)
	} else {
		b = fmt.Appendf(b, format[:k], args[:n]...)
	}
	b = append(b, text...)
	b = append(b, format[k+2:]...)
	return string(b), cause, true
}

// errorText returns err.Error(), or false when it panics (fmt prints such
// operands its own way).
func errorText(err error) (s string, ok bool) {
	defer func() {
		if recover() != nil {
			ok = false
		}
	}()
	return err.Error(), true
}

// countOperands returns how many operands the verbs of a format consume,
// parsing each verb as fmt does: '%', flags "#0+- ", width, '.' and
// precision, verb. It reports false for what it does not follow: '*'
// widths, explicit [n] indexes, a %w verb, or a '%' without a verb.
func countOperands(format string) (int, bool) {
	n := 0
	for i := 0; ; {
		p := strings.IndexByte(format[i:], '%')
		if p < 0 {
			return n, true
		}
		i += p + 1
		for i < len(format) && strings.IndexByte("#0+- ", format[i]) >= 0 {
			i++
		}
		i = skipDigits(format, i)
		if i < len(format) && format[i] == '.' {
			i = skipDigits(format, i+1)
		}
		if i >= len(format) {
			return 0, false
		}
		verb, size := utf8.DecodeRuneInString(format[i:])
		i += size
		switch verb {
		case '%':
		case '*', '[', 'w':
			return 0, false
		default:
			n++
		}
	}
}

func skipDigits(s string, i int) int {
	for i < len(s) && s[i] >= '0' && s[i] <= '9' {
		i++
	}
	return i
}
