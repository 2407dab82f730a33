package mlerr_test

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"syscall"
	"time"

	"github.com/mlerr/mlerr"
)

// An SDK author wraps a REST call: FromResponse turns an error response into
// an *Error (code, observed status, Retry-After), and Do retries what the
// taxonomy says is transient, returning the body of the first success.
func ExampleDo_httpClient() {
	calls := 0
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		calls++
		if calls < 3 { // the tracking server restarts
			w.Header().Set("Content-Type", "application/json")
			w.WriteHeader(http.StatusServiceUnavailable)
			_, _ = io.WriteString(w, `{"error_code":"TEMPORARILY_UNAVAILABLE","message":"restarting"}`)
			return
		}
		_, _ = io.WriteString(w, `{"run":{"info":{"run_id":"r1"}}}`)
	}))
	defer srv.Close()

	client := &http.Client{Timeout: 30 * time.Second}
	policy := mlerr.DefaultPolicy()
	policy.AttemptTimeout = mlerr.Off // the client's Timeout bounds each attempt
	policy.InitialDelay = mlerr.Off   // only to keep this example instant
	policy.OnRetry = func(ev mlerr.RetryEvent) {
		fmt.Printf("attempt %d: %v (%s)\n", ev.Attempt, ev.Err, ev.Reason)
	}

	getRun := func(ctx context.Context) ([]byte, error) {
		req, err := http.NewRequestWithContext(ctx, http.MethodGet, srv.URL+"/api/2.0/mlflow/runs/get?run_id=r1", nil)
		if err != nil {
			return nil, mlerr.Permanent(err) // a bad URL will not get better
		}
		resp, err := client.Do(req)
		if err != nil {
			return nil, err // network errors: Classify knows refused from TLS failures
		}
		if err := mlerr.FromResponse(resp); err != nil {
			return nil, err // 429, 503 (with Retry-After) are retried; 400, 404 are not
		}
		defer resp.Body.Close()
		return io.ReadAll(resp.Body)
	}

	body, err := mlerr.Do(context.Background(), policy, getRun)
	fmt.Println(string(body), err)
	// Output:
	// attempt 1: TEMPORARILY_UNAVAILABLE: restarting (status 5xx)
	// attempt 2: TEMPORARILY_UNAVAILABLE: restarting (status 5xx)
	// {"run":{"info":{"run_id":"r1"}}} <nil>
}

// Retry gives up with a *RetryError that says why, and still unwraps to the
// last error.
func ExampleRetry() {
	policy := mlerr.Policy{MaxAttempts: 3, InitialDelay: mlerr.Off}
	err := mlerr.Retry(context.Background(), policy, func(context.Context) error {
		return mlerr.New(mlerr.CodeTemporarilyUnavailable, "server down")
	})

	var re *mlerr.RetryError
	if errors.As(err, &re) {
		fmt.Println(re.Reason, re.Attempts)
	}
	fmt.Println(errors.Is(err, mlerr.CodeTemporarilyUnavailable))
	fmt.Println(re.Last)
	// Output:
	// exhausted 3
	// true
	// TEMPORARILY_UNAVAILABLE: server down
}

// Classify explains what Retry would do with an error.
func ExampleClassify() {
	refused := &net.OpError{Op: "dial", Net: "tcp", Err: os.NewSyscallError("connect", syscall.ECONNREFUSED)}
	for _, err := range []error{
		mlerr.New(mlerr.CodeResourceDoesNotExist, "no such run"),
		mlerr.New(mlerr.CodeRequestLimitExceeded, "slow down").WithRetryAfter(2 * time.Second),
		mlerr.Decoder{}.DecodeError(502, nil, []byte("<html>Bad Gateway</html>")),
		refused,
		&net.DNSError{Err: "no such host", Name: "mlflow.invalid", IsNotFound: true},
		context.Canceled,
	} {
		d := mlerr.Classify(err)
		fmt.Printf("%-5v %-4v %s\n", d.Retry, d.After, d.Reason)
	}
	// Output:
	// false 0s   code never
	// true  2s   retry-after
	// true  0s   status 5xx
	// true  0s   connection refused
	// false 0s   dns not found
	// false 0s   context canceled
}

// Permanent stops at once, whatever the error says.
func ExamplePermanent() {
	calls := 0
	err := mlerr.Retry(context.Background(), mlerr.Policy{}, func(context.Context) error {
		calls++
		return mlerr.Permanent(mlerr.New(mlerr.CodeTemporarilyUnavailable, "quota of the day used"))
	})
	fmt.Println(calls, err)
	// Output: 1 retry stopped (permanent) after 1 attempt: TEMPORARILY_UNAVAILABLE: quota of the day used
}

// An operation asks for its own delay, which Retry honours (clamped by the
// policy's MaxRetryAfter) even for an error it would not retry otherwise.
func ExampleRetryAfter() {
	err := mlerr.RetryAfter(errors.New("lock held by another writer"), 5*time.Second)
	d := mlerr.Classify(err)
	fmt.Println(d.Retry, d.After, d.Reason)
	fmt.Println(err)
	// Output:
	// true 5s retry-after
	// lock held by another writer
}

// One Budget shared by every call of a client: when the server fails every
// call, retries fall to one per ten calls instead of multiplying the load.
func ExampleNewBudget() {
	budget := mlerr.NewBudget(0.1, 5)
	policy := mlerr.Policy{InitialDelay: mlerr.Off, Budget: budget}
	attempts := 0
	for range 100 {
		_ = mlerr.Retry(context.Background(), policy, func(context.Context) error {
			attempts++
			return mlerr.New(mlerr.CodeTemporarilyUnavailable, "down")
		})
	}
	fmt.Println("attempts for 100 calls:", attempts)
	// Output: attempts for 100 calls: 114
}
