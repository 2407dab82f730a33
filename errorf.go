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
	text, cause := bareCause(format, k, args)
	if cause == nil {
		return "", nil, false
	}
	return wrappedMessage(format, k, args[:len(args)-1], text), cause, true
}

// bareCause returns the operand of the %w at k in format and its text, when
// the call has the one shape errorfMessage follows: nothing but literal text
// after the %w, one operand per verb before it, and an error operand that is
// no fmt.Formatter and whose Error does not panic. Otherwise cause is nil.
func bareCause(format string, k int, args []any) (text string, cause error) {
	if !bareShape(format, k, len(args)) {
		return "", nil
	}
	return causeOperand(args[len(args)-1])
}

// bareShape reports whether format, with its %w at k, has nothing but
// literal text after the %w and one of the nArgs operands per verb before it
// (the last operand being the %w's).
func bareShape(format string, k, nArgs int) bool {
	if strings.IndexByte(format[k+2:], '%') >= 0 {
		return false
	}
	n, ok := countOperands(format[:k])
	return ok && n == nArgs-1
}

// causeOperand returns the %w operand arg and its text when it is an error
// that is no fmt.Formatter and whose Error does not panic; else cause is nil.
func causeOperand(arg any) (text string, cause error) {
	cause, ok := arg.(error)
	if _, isFormatter := cause.(fmt.Formatter); !ok || isFormatter {
		return "", nil
	}
	if text, ok = errorText(cause); !ok {
		return "", nil
	}
	return text, cause
}

// wrappedMessage formats format, whose %w at k takes the text of the cause
// and whose verbs before it take args.
func wrappedMessage(format string, k int, args []any, text string) string {
	var stack [128]byte
	b := stack[:0]
	if len(args) == 0 && strings.IndexByte(format[:k], '%') < 0 {
		b = append(b, format[:k]...)
	} else {
		b = fmt.Appendf(b, format[:k], args...)
	}
	b = append(b, text...)
	b = append(b, format[k+2:]...)
	return string(b)
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
		if i = skipFlagsWidthPrecision(format, i+p+1); i >= len(format) {
			return 0, false
		}
		verb, size := utf8.DecodeRuneInString(format[i:])
		i += size
		k, ok := verbOperands(verb)
		if !ok {
			return 0, false
		}
		n += k
	}
}

// verbOperands returns how many operands a verb consumes: none for "%%",
// one for any other verb. It reports false for what countOperands does not
// follow: a '*' width, an [n] index, %w.
func verbOperands(verb rune) (int, bool) {
	switch verb {
	case '%':
		return 0, true
	case '*', '[', 'w':
		return 0, false
	}
	return 1, true
}

// skipFlagsWidthPrecision returns the position of the verb of the
// directive whose flags start at i.
func skipFlagsWidthPrecision(format string, i int) int {
	i = skipFlags(format, i)
	i = skipDigits(format, i)
	if i < len(format) && format[i] == '.' {
		i = skipDigits(format, i+1)
	}
	return i
}

// skipFlags returns the position of the first byte of s at or after i that
// is no flag ("#0+- ").
func skipFlags(s string, i int) int {
	for i < len(s) && strings.IndexByte("#0+- ", s[i]) >= 0 {
		i++
	}
	return i
}

// skipDigits returns the position of the first byte of s at or after i that
// is no digit.
func skipDigits(s string, i int) int {
	for i < len(s) && isDigit(s[i]) {
		i++
	}
	return i
}
