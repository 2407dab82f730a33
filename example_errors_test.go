package mlerr_test

import (
	"context"
	"errors"
	"fmt"
	"os"

	"github.com/mlerr/mlerr"
)

// An *Error carries an MLflow code; errors.Is matches the code through any
// wrapping.
func ExampleNew() {
	err := mlerr.New(mlerr.CodeResourceDoesNotExist, "Run with id=abc not found")
	wrapped := fmt.Errorf("resuming run: %w", err)

	fmt.Println(wrapped)
	fmt.Println(errors.Is(wrapped, mlerr.CodeResourceDoesNotExist))
	fmt.Println(errors.Is(wrapped, mlerr.CodeInvalidParameterValue))
	// Output:
	// resuming run: RESOURCE_DOES_NOT_EXIST: Run with id=abc not found
	// true
	// false
}

// Errorf formats like fmt.Errorf; %w makes its operand the cause.
func ExampleErrorf() {
	err := mlerr.Errorf(mlerr.CodeIOError, "writing checkpoint %s: %w", "step-100", os.ErrPermission)

	fmt.Println(err)
	fmt.Println(errors.Is(err, os.ErrPermission), errors.Is(err, mlerr.CodeIOError))
	// Output:
	// IO_ERROR: writing checkpoint step-100: permission denied
	// true true
}

// CodeOf finds the code under any wrapping, errors.Join included, and maps
// context errors to CANCELLED and DEADLINE_EXCEEDED.
func ExampleCodeOf() {
	err := errors.Join(
		errors.New("flush skipped"),
		fmt.Errorf("log-batch: %w", mlerr.New(mlerr.CodeRequestLimitExceeded, "slow down")),
	)
	fmt.Println(mlerr.CodeOf(err), mlerr.HTTPStatusOf(err), mlerr.CodeOf(err).Retryable())

	fmt.Println(mlerr.CodeOf(fmt.Errorf("query: %w", context.DeadlineExceeded)))
	fmt.Println(mlerr.CodeOf(errors.New("anything else")))
	// Output:
	// REQUEST_LIMIT_EXCEEDED 429 true
	// DEADLINE_EXCEEDED
	// INTERNAL_ERROR
}

// Kinds are sentinel errors in a tree: a trace-data-not-found error is a
// tracing error.
func ExampleKind() {
	err := fmt.Errorf("export: %w", mlerr.ErrTraceDataNotFound.New("trace 7 has no spans"))

	fmt.Println(err)
	fmt.Println(errors.Is(err, mlerr.ErrTraceDataNotFound), errors.Is(err, mlerr.ErrTracing), errors.Is(err, mlerr.ErrRest))
	fmt.Println(mlerr.ErrTraceDataNotFound)
	fmt.Println(mlerr.ErrTraceDataNotFound.String())
	// Output:
	// export: NOT_FOUND: trace 7 has no spans
	// true true false
	// TraceDataNotFound
	// TracingError/TraceDataError/TraceDataNotFound
}
