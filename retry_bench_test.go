package mlerr_test

import (
	"context"
	"errors"
	"fmt"
	"net"
	"os"
	"syscall"
	"testing"

	"github.com/mlerr/mlerr"
)

// BenchmarkRetry measures the engine alone; "direct" (op called without a
// retry loop) is the baseline of the ratios. Peers are compared in the bench
// module.
func BenchmarkRetry(b *testing.B) {
	ctx := context.Background()
	ok := func(context.Context) error { return nil }
	fast := mlerr.Policy{AttemptTimeout: mlerr.Off}
	zeroDelay := mlerr.Policy{AttemptTimeout: mlerr.Off, InitialDelay: mlerr.Off}
	n := 0
	threeFailures := func(context.Context) error {
		n++
		if n%4 != 0 {
			return errUnavailable
		}
		return nil
	}
	cases := []struct {
		name string
		run  func() error
	}{
		{"direct", func() error { return ok(ctx) }},
		{"success", func() error { return mlerr.Retry(ctx, fast, ok) }},
		{"success-budget", func() error {
			return mlerr.Retry(ctx, mlerr.Policy{AttemptTimeout: mlerr.Off, Budget: benchBudget}, ok)
		}},
		{"success-do", func() error {
			_, err := mlerr.Do(ctx, fast, func(context.Context) (int, error) { return 1, nil })
			return err
		}},
		{"success-default-policy", func() error { return mlerr.Retry(ctx, mlerr.DefaultPolicy(), ok) }},
		{"3-failures-zero-delay", func() error { return mlerr.Retry(ctx, zeroDelay, threeFailures) }},
	}
	for _, c := range cases {
		b.Run(c.name, func(b *testing.B) {
			b.ReportAllocs()
			for b.Loop() {
				if err := c.run(); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}

var benchBudget = mlerr.NewBudget(0.1, 100)

// BenchmarkClassify: one decision per error shape; errors.Is on the same
// chain is the baseline.
func BenchmarkClassify(b *testing.B) {
	refused := fmt.Errorf("post: %w", &net.OpError{Op: "dial", Net: "tcp", Err: os.NewSyscallError("connect", syscall.ECONNREFUSED)})
	cases := []struct {
		name string
		err  error
	}{
		{"code", errUnavailable},
		{"status", mlerr.Decoder{}.DecodeError(502, nil, []byte("<html>bad gateway</html>"))},
		{"retry-after", errUnavailable.WithRetryAfter(1e9)},
		{"refused", refused},
		{"wrapped-3", fmt.Errorf("a: %w", fmt.Errorf("b: %w", fmt.Errorf("c: %w", errUnavailable)))},
		{"join+depth5", errors.Join(errors.New("disk full"), wrapN(errUnavailable, 5))},
	}
	for _, c := range cases {
		b.Run(c.name+"/errors.Is", func(b *testing.B) {
			b.ReportAllocs()
			for b.Loop() {
				if errors.Is(c.err, context.Canceled) {
					b.Fatal("no")
				}
			}
		})
		b.Run(c.name+"/Classify", func(b *testing.B) {
			b.ReportAllocs()
			for b.Loop() {
				if !mlerr.Classify(c.err).Retry {
					b.Fatal("not retried")
				}
			}
		})
	}
}
