package mlerr_test

import (
	"errors"
	"fmt"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/mlerr/mlerr"
)

// formatterErr formats itself differently from its Error text.
type formatterErr struct{}

func (formatterErr) Error() string                 { return "plain" }
func (formatterErr) Format(s fmt.State, verb rune) { fmt.Fprintf(s, "formatted(%c)", verb) }

// panicErr panics in Error, on a nil receiver.
type panicErr struct{ msg string }

func (e *panicErr) Error() string { return e.msg }

// checkErrorfLikeFmt checks that mlerr.Errorf gives fmt.Errorf's text and
// unwraps to the same errors.
func checkErrorfLikeFmt(t *testing.T, format string, args ...any) {
	t.Helper()
	want := fmt.Errorf(format, args...)
	got := mlerr.Errorf(mlerr.CodeIOError, format, args...)
	require.Equal(t, want.Error(), got.Message(), "format %q", format)
	switch w := want.(type) {
	case interface{ Unwrap() error }:
		assert.Equal(t, w.Unwrap(), got.Unwrap(), "format %q", format)
	case interface{ Unwrap() []error }:
		for _, inner := range w.Unwrap() {
			assert.ErrorIs(t, got, inner, "format %q", format)
		}
	default:
		assert.Nil(t, got.Unwrap(), "format %q", format)
	}
}

func TestErrorfLikeFmt(t *testing.T) {
	base := errors.New("disk full")
	other := errors.New("other")
	var nilPanic *panicErr
	tests := []struct {
		format string
		args   []any
	}{
		{"writing run %s: %w", []any{"abc", base}},
		{"%w", []any{base}},
		{"context: %w", []any{base}},
		{"%w: after", []any{base}},
		{"%d%%: %w", []any{50, base}},
		{"%5.2f|%-4d|%+q|%#x|% d: %w", []any{3.14159, 7, "q", 255, 4, base}},
		{"%v %w", []any{other, base}},
		{"%w and %w", []any{base, other}},
		{"%w then %s", []any{base, "x"}},
		{"%+w", []any{base}},
		{"%[1]s %[2]w", []any{"a", base}},
		{"%*d %w", []any{5, 1, base}},
		{"%w", []any{"not an error"}},
		{"%w", []any{nil}},
		{"%w", []any{}},
		{"%s %w", []any{"a"}},
		{"%w", []any{base, "extra"}},
		{"%w", []any{formatterErr{}}},
		{"%w", []any{nilPanic}},
		{"100%%w", []any{}},
		{"100%%%w", []any{base}},
		{"%.%w", []any{base}},
		{"%1.2.%d%w", []any{1, base}},
		{"no verbs", nil},
		{"no verbs", []any{1}},
		{"%s and %d", []any{"a", 1}},
		{"%s and %d", []any{"a"}},
		{"trailing %", nil},
		{"%é %w", []any{1, base}},
		{"%[1]d", []any{1}},
		{"%-5w", []any{base}},
	}
	for _, tt := range tests {
		checkErrorfLikeFmt(t, tt.format, tt.args...)
	}
}

func FuzzErrorf(f *testing.F) {
	for _, s := range []string{"writing run %s: %w", "%w", "%d%%: %w", "%[2]w %[1]d", "%*d %w", "%w %w", "%.3s %w x"} {
		f.Add(s)
	}
	base := errors.New("disk full")
	f.Fuzz(func(t *testing.T, format string) {
		if len(format) > 64 || strings.ContainsAny(format, "123456789") {
			t.Skip("fmt pads to any width it is given: keep the fuzzer fast")
		}
		for _, args := range [][]any{
			{base}, {"abc", base}, {1, "b", base}, {base, base}, {1}, nil,
		} {
			checkErrorfLikeFmt(t, format, args...)
		}
	})
}
