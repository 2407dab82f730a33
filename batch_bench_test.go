package mlerr

import (
	"errors"
	"fmt"
	"strconv"
	"testing"
)

// BenchmarkNewBatchError builds the error of a processed batch: every item
// is looked at, 1 in 100 (or 1 in 1000) fails. The bytes and allocations per
// op follow the number of failures, not of items: 10,000 items at 1% and
// 100,000 items at 0.1% (both 100 failures) cost the same, 100,000 items at
// 1% (1,000 failures) about ten times as much.
func BenchmarkNewBatchError(b *testing.B) {
	cause := New(CodeInvalidParameterValue, "value rejected")
	cases := []struct{ items, every int }{
		{10_000, 100},
		{100_000, 100},
		{100_000, 1000},
	}
	for _, c := range cases {
		items := make([]Item, c.items)
		for i := range items {
			items[i] = Item{Kind: ItemMetric, Key: "loss", Value: float64(i), Step: int64(i)}
		}
		name := fmt.Sprintf("items=%d/failures=%d", c.items, c.items/c.every)
		b.Run(name, func(b *testing.B) {
			b.ReportAllocs()
			for b.Loop() {
				var failures []Failure[Item]
				for i := range items {
					if i%c.every == c.every-1 {
						failures = append(failures, Failure[Item]{Item: items[i], Index: i, Cause: cause})
					}
				}
				be := NewBatchError(len(items), failures)
				if len(be.Failures) != c.items/c.every {
					b.Fatal(len(be.Failures))
				}
			}
		})
	}
}

// BenchmarkIsLastCause builds an error of 100 failures from 100 causes and
// looks for the last cause with errors.Is, as a *BatchError and as
// errors.Join of the same causes (the baseline, same run). Each op first
// refills its input (the []Failure or the []error) from a template, as a
// caller that has its items' outcomes at hand would, so both sides build
// from fresh input: NewBatchError completes every failure (code, reason,
// time) each op, errors.Join copies its slice.
//
// cause=direct looks for a failure's cause itself (the target metric);
// cause=wrapped for an error each cause wraps (the search goes through
// Unwrap); cause=absent for an error that is not there. cause=direct-alloc
// allocates the input slices instead of refilling them.
func BenchmarkIsLastCause(b *testing.B) {
	const n = 100
	direct := make([]error, n)
	wrapped := make([]error, n)
	inner := make([]error, n)
	for i := range n {
		direct[i] = New(CodeInvalidParameterValue, "item "+strconv.Itoa(i)+" rejected")
		inner[i] = errors.New("disk " + strconv.Itoa(i) + " full")
		wrapped[i] = fmt.Errorf("item %d: %w", i, inner[i])
	}
	cases := []struct {
		name   string
		causes []error
		target error
		found  bool
	}{
		{"cause=direct", direct, direct[n-1], true},
		{"cause=wrapped", wrapped, inner[n-1], true},
		{"cause=absent", direct, errors.New("elsewhere"), false},
	}
	for _, c := range cases {
		tmpl := make([]Failure[int], n)
		for i := range tmpl {
			tmpl[i] = Failure[int]{Item: i, Index: i, Cause: c.causes[i]}
		}
		b.Run(c.name+"/impl=errors.Join", func(b *testing.B) {
			b.ReportAllocs()
			errs := make([]error, n)
			for b.Loop() {
				copy(errs, c.causes)
				if errors.Is(errors.Join(errs...), c.target) != c.found {
					b.Fatal("wrong answer")
				}
			}
		})
		b.Run(c.name+"/impl=BatchError", func(b *testing.B) {
			b.ReportAllocs()
			failures := make([]Failure[int], n)
			for b.Loop() {
				copy(failures, tmpl)
				if errors.Is(NewBatchError(n, failures), c.target) != c.found {
					b.Fatal("wrong answer")
				}
			}
		})
	}
	b.Run("cause=direct-alloc/impl=errors.Join", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			errs := make([]error, n)
			copy(errs, direct)
			if !errors.Is(errors.Join(errs...), direct[n-1]) {
				b.Fatal("not found")
			}
		}
	})
	b.Run("cause=direct-alloc/impl=BatchError", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			failures := make([]Failure[int], n)
			for i := range failures {
				failures[i] = Failure[int]{Item: i, Index: i, Cause: direct[i]}
			}
			if !errors.Is(NewBatchError(n, failures), direct[n-1]) {
				b.Fatal("not found")
			}
		}
	})
}
