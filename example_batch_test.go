package mlerr_test

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"sync"
	"time"

	"github.com/mlerr/mlerr"
)

// exampleFileStore is a fake upload target: files it cannot find are rejected, and
// while it is busy a file is rejected as temporarily unavailable.
type exampleFileStore struct {
	stored  []string
	missing map[string]bool
	busy    map[string]bool
}

// Upload stores the files it can and follows the BatchError convention: it
// returns the files stored AND a *BatchError for the others, indexed into
// files.
func (s *exampleFileStore) Upload(_ context.Context, files []string) ([]string, error) {
	var stored []string
	var failures []mlerr.Failure[string]
	for i, f := range files {
		switch {
		case s.missing[f]:
			failures = append(failures, mlerr.Failure[string]{Item: f, Index: i, Reason: "file not found",
				Cause: mlerr.New(mlerr.CodeResourceDoesNotExist, "no such file: "+f)})
		case s.busy[f]:
			s.busy[f] = false // it will work next time
			failures = append(failures, mlerr.Failure[string]{Item: f, Index: i,
				Cause: mlerr.New(mlerr.CodeTemporarilyUnavailable, "store busy")})
		default:
			s.stored = append(s.stored, f)
			stored = append(stored, f)
		}
	}
	return stored, mlerr.NewBatchError(len(files), failures).Err()
}

// Upload 6 files, 2 fail: keep the 4 stored, fix the missing one, retry the
// 2 that failed.
func ExampleBatchError() {
	ctx := context.Background()
	store := &exampleFileStore{missing: map[string]bool{"c.jpg": true}, busy: map[string]bool{"e.jpg": true}}
	files := []string{"a.jpg", "b.jpg", "c.jpg", "d.jpg", "e.jpg", "f.jpg"}

	stored, err := store.Upload(ctx, files)
	fmt.Println("stored:", stored) // kept, whatever failed
	var be *mlerr.BatchError[string]
	if !errors.As(err, &be) {
		return
	}
	fmt.Println("error:", err)
	for _, f := range be.Failures {
		fmt.Printf("  #%d %s: %s (%v, retryable: %v)\n", f.Index, f.Item, f.Reason, f.Code, f.Code.Retryable())
	}
	if be.FailureRate() > 0.5 {
		return // more than half failed: stop
	}

	store.missing["c.jpg"] = false // fix what is not retryable, then retry the failures only
	again, err := mlerr.RetryFailed(ctx, be, func(ctx context.Context, items []string) error {
		_, err := store.Upload(ctx, items)
		return err
	})
	fmt.Println("stored on retry:", again, "error:", err)
	fmt.Println("store:", store.stored)
	// Output:
	// stored: [a.jpg b.jpg d.jpg f.jpg]
	// error: 2 of 6 items failed: 1 x file not found, 1 x store busy
	//   #2 c.jpg: file not found (RESOURCE_DOES_NOT_EXIST, retryable: false)
	//   #4 e.jpg: store busy (TEMPORARILY_UNAVAILABLE, retryable: true)
	// stored on retry: [c.jpg e.jpg] error: <nil>
	// store: [a.jpg b.jpg d.jpg f.jpg c.jpg e.jpg]
}

// Retry only the failures that may succeed without a fix; the others stay
// in the error with their original index.
func ExampleRetryFailedWhere() {
	ctx := context.Background()
	store := &exampleFileStore{missing: map[string]bool{"c.jpg": true}, busy: map[string]bool{"e.jpg": true}}
	files := []string{"a.jpg", "b.jpg", "c.jpg", "d.jpg", "e.jpg", "f.jpg"}
	_, err := store.Upload(ctx, files)

	var be *mlerr.BatchError[string]
	errors.As(err, &be)
	again, err := mlerr.RetryFailedWhere(ctx, be, mlerr.Failure[string].Retryable,
		func(ctx context.Context, items []string) error {
			_, err := store.Upload(ctx, items)
			return err
		})
	fmt.Println("stored on retry:", again)
	fmt.Println("still failed:", err)
	errors.As(err, &be)
	fmt.Println("index of", be.Failures[0].Item, "in files:", be.Failures[0].Index)
	// Output:
	// stored on retry: [e.jpg]
	// still failed: 1 of 6 items failed: 1 x file not found
	// index of c.jpg in files: 2
}

// Workers report each item to a Collector; Result gives what succeeded, in
// order, and the batch error.
func ExampleCollector() {
	items := []int{10, 11, 12, 13, 14, 15, 16, 17}
	c := mlerr.NewCollector[int](len(items))
	var wg sync.WaitGroup
	for i, item := range items {
		wg.Add(1)
		go func() {
			defer wg.Done()
			if item%5 == 0 {
				c.Fail(i, item, "multiple of five", mlerr.New(mlerr.CodeInvalidParameterValue, "rejected"))
				return
			}
			c.Succeed(i, item)
		}()
	}
	wg.Wait()
	ok, be := c.Result()
	fmt.Println(ok)
	fmt.Println(be, "- items:", be.Failed(), "- code:", mlerr.CodeOf(be))
	// Output:
	// [11 12 13 14 16 17]
	// 2 of 8 items failed: 2 x multiple of five - items: [10 15] - code: INVALID_PARAMETER_VALUE
}

// Stop when more than 10% of a batch failed; go on with the partial result
// otherwise.
func ExampleBatchError_FailureRate() {
	upload := func(n, failed int) error {
		var fs []mlerr.Failure[int]
		for i := range failed {
			fs = append(fs, mlerr.Failure[int]{Item: i, Index: i, Code: mlerr.CodeResourceDoesNotExist, Reason: "missing"})
		}
		return fmt.Errorf("upload: %w", mlerr.NewBatchError(n, fs).Err())
	}
	for _, failed := range []int{0, 5, 20} {
		err := upload(100, failed)
		var be *mlerr.BatchError[int] // stays nil when nothing failed: its FailureRate is 0
		errors.As(err, &be)
		fmt.Printf("%d failed: rate %v, stop: %v\n", failed, be.FailureRate(), be.FailureRate() > 0.10)
	}
	// Output:
	// 0 failed: rate 0, stop: false
	// 5 failed: rate 0.05, stop: false
	// 20 failed: rate 0.2, stop: true
}

// A batch error travels as MLflow JSON, with every failure in details, and
// decodes back (into json.RawMessage items when their type is unknown).
// json.Unmarshal reads the problem+json form of MarshalProblem too.
func ExampleBatchError_UnmarshalJSON() {
	be := mlerr.NewBatchError(3, []mlerr.Failure[string]{{
		Item: "b.jpg", Index: 1, Reason: "file not found", Code: mlerr.CodeResourceDoesNotExist,
		Time: time.Date(2026, 2, 2, 15, 32, 30, 0, time.UTC),
	}})
	b, _ := json.Marshal(be)
	fmt.Println(string(b))

	var got mlerr.BatchError[json.RawMessage]
	err := json.Unmarshal(b, &got)
	f := got.Failures[0]
	fmt.Println(err, f.Index, string(f.Item), f.Code, f.Time, errors.Is(&got, mlerr.CodeResourceDoesNotExist))

	p, _ := be.MarshalProblem()
	var fromProblem mlerr.BatchError[string]
	err = json.Unmarshal(p, &fromProblem)
	fmt.Println(err, fromProblem.Failed(), fromProblem.Total)
	// Output:
	// {"error_code":"RESOURCE_DOES_NOT_EXIST","message":"1 of 3 items failed: 1 x file not found","details":{"total":3,"failures":[{"index":1,"error_code":"RESOURCE_DOES_NOT_EXIST","reason":"file not found","time":"2026-02-02T15:32:30Z","item":"b.jpg"}]}}
	// <nil> 1 "b.jpg" RESOURCE_DOES_NOT_EXIST 2026-02-02 15:32:30 +0000 UTC true
	// <nil> [b.jpg] 3
}
