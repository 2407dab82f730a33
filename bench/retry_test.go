package bench

import (
	"context"
	"testing"

	retrygo "github.com/avast/retry-go/v5"
	"github.com/cenkalti/backoff/v5"
	"github.com/failsafe-go/failsafe-go"
	"github.com/failsafe-go/failsafe-go/retrypolicy"

	"github.com/mlerr/mlerr"
)

// errTransient is the one error every runner sees: retryable for mlerr's
// classification, and any error is retryable for the peers.
var errTransient error = mlerr.New(mlerr.CodeTemporarilyUnavailable, "try again")

// runner runs op under one library's retry loop, allowing at least 5
// attempts with zero delay between them.
type runner struct {
	name string
	run  func(op func() error) error
}

// runners builds every library's retrier once, as a long-lived client would,
// so that the benchmarks measure the calls, not the setup.
func runners() []runner {
	ctx := context.Background()
	fast := mlerr.Policy{InitialDelay: mlerr.Off, AttemptTimeout: mlerr.Off, MaxAttempts: 5}
	withTimeout := mlerr.Policy{InitialDelay: mlerr.Off, MaxAttempts: 5} // default 30s AttemptTimeout
	rg := retrygo.New(retrygo.Attempts(5), retrygo.Delay(0), retrygo.MaxJitter(0),
		retrygo.DelayType(retrygo.FixedDelay), retrygo.LastErrorOnly(true), retrygo.Context(ctx))
	zero := &backoff.ZeroBackOff{}
	fs := failsafe.With[any](retrypolicy.NewBuilder[any]().WithMaxAttempts(5).Build())
	return []runner{
		{"direct", func(op func() error) error { return op() }},
		{"mlerr", func(op func() error) error {
			return mlerr.Retry(ctx, fast, func(context.Context) error { return op() })
		}},
		{"mlerr-attempt-timeout", func(op func() error) error {
			return mlerr.Retry(ctx, withTimeout, func(context.Context) error { return op() })
		}},
		{"retry-go", func(op func() error) error { return rg.Do(op) }},
		{"backoff", func(op func() error) error {
			_, err := backoff.Retry(ctx, func() (struct{}, error) { return struct{}{}, op() },
				backoff.WithBackOff(zero), backoff.WithMaxTries(5))
			return err
		}},
		{"failsafe", func(op func() error) error { return fs.Run(op) }},
	}
}

// failThenSucceed returns an op that fails n times, succeeds, and repeats.
func failThenSucceed(n int) (op func() error, calls *int) {
	calls = new(int)
	return func() error {
		*calls++
		if *calls%(n+1) != 0 {
			return errTransient
		}
		return nil
	}, calls
}

// TestRunnersAgree checks that every runner really retries: three failures,
// then the success, in four calls.
func TestRunnersAgree(t *testing.T) {
	for _, r := range runners() {
		if r.name == "direct" {
			continue
		}
		op, calls := failThenSucceed(3)
		for i := 1; i <= 3; i++ {
			if err := r.run(op); err != nil {
				t.Fatalf("%s: %v", r.name, err)
			}
			if *calls != 4*i {
				t.Fatalf("%s: %d calls after %d runs, want %d", r.name, *calls, i, 4*i)
			}
		}
	}
}

// BenchmarkSuccess: the op succeeds at once. "direct" (the op called
// without a retry loop) is the baseline of the ratios.
func BenchmarkSuccess(b *testing.B) {
	op := func() error { return nil }
	for _, r := range runners() {
		b.Run(r.name, func(b *testing.B) {
			b.ReportAllocs()
			for b.Loop() {
				if err := r.run(op); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}

// BenchmarkThreeFailures: the op fails three times, then succeeds, with zero
// delay between attempts.
func BenchmarkThreeFailures(b *testing.B) {
	for _, r := range runners() {
		if r.name == "direct" {
			continue
		}
		op, _ := failThenSucceed(3)
		b.Run(r.name, func(b *testing.B) {
			b.ReportAllocs()
			for b.Loop() {
				if err := r.run(op); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}
