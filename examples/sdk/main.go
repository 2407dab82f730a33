// Command sdk shows how an SDK author wraps a REST API with mlerr: every
// response goes through FromResponse, every call through one retry policy
// with a budget shared by the whole client, and an upload of many items
// reports a partial failure as a *BatchError that keeps what succeeded and
// retries only what failed. Callers of the SDK then branch on codes and kinds
// with errors.Is, never on message text.
//
// It runs offline against an in-process server that misbehaves on purpose:
//
//	go run ./examples/sdk
package main

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"strings"
	"sync/atomic"
	"time"

	"github.com/mlerr/mlerr"
)

// Client is the SDK's client for a dataset-upload API.
type Client struct {
	base   string
	http   *http.Client
	policy mlerr.Policy
}

// NewClient returns a client whose calls share one retry budget: when the
// server is sick, retries of all calls together slow down to a trickle.
func NewClient(base string) *Client {
	p := mlerr.DefaultPolicy()
	p.InitialDelay = 10 * time.Millisecond // short, for the demo
	p.MaxDelay = 50 * time.Millisecond
	p.AttemptTimeout = mlerr.Off // the http.Client's Timeout bounds each attempt
	p.Budget = mlerr.NewBudget(0.2, 20)
	p.OnRetry = func(ev mlerr.RetryEvent) {
		fmt.Printf("  retry %d in %v: %v\n", ev.Attempt, ev.Wait.Round(time.Millisecond), ev.Err)
	}
	return &Client{base: base, http: &http.Client{Timeout: 10 * time.Second}, policy: p}
}

// call sends one request with retries and decodes the JSON answer into out.
func (c *Client) call(ctx context.Context, method, path string, in, out any) error {
	return mlerr.Retry(ctx, c.policy, func(ctx context.Context) error {
		var body io.Reader
		if in != nil {
			b, err := json.Marshal(in)
			if err != nil {
				return mlerr.Permanent(err)
			}
			body = strings.NewReader(string(b))
		}
		req, err := http.NewRequestWithContext(ctx, method, c.base+path, body)
		if err != nil {
			return mlerr.Permanent(mlerr.ErrInvalidURL.Wrap(err, "building the request"))
		}
		req.Header.Set("Content-Type", "application/json")
		resp, err := c.http.Do(req)
		if err != nil {
			return err // refused, reset, timeouts: Classify decides
		}
		if err := mlerr.FromResponse(resp); err != nil {
			return err // MLflow JSON or problem+json, with status and Retry-After
		}
		defer resp.Body.Close()
		if out == nil {
			return nil
		}
		return json.NewDecoder(resp.Body).Decode(out)
	})
}

// Dataset is what GetDataset returns.
type Dataset struct {
	Name  string `json:"name"`
	Items int    `json:"items"`
}

// GetDataset returns a dataset. A missing one is RESOURCE_DOES_NOT_EXIST.
func (c *Client) GetDataset(ctx context.Context, name string) (Dataset, error) {
	var d Dataset
	err := c.call(ctx, http.MethodGet, "/datasets/"+name, nil, &d)
	return d, err
}

// Upload sends items one request each. It returns the items that were
// stored and, when some were not, a *mlerr.BatchError[string] saying which,
// why and when: partial results and the error together, nothing is lost.
func (c *Client) Upload(ctx context.Context, items []string) ([]string, error) {
	col := mlerr.NewCollector[string](len(items))
	for i, it := range items {
		if err := c.call(ctx, http.MethodPost, "/items", map[string]string{"item": it}, nil); err != nil {
			col.Fail(i, it, "", err) // the reason is taken from the error
			continue
		}
		col.Succeed(i, it)
	}
	ok, be := col.Result()
	return ok, be.Err()
}

func main() {
	srv := httptest.NewServer(flakyAPI())
	defer srv.Close()
	ctx := context.Background()
	c := NewClient(srv.URL)

	fmt.Println("GetDataset(mnist): the server restarts first")
	d, err := c.GetDataset(ctx, "mnist")
	fmt.Printf("  -> %+v, err=%v\n", d, err)

	fmt.Println("GetDataset(cifar): does not exist")
	_, err = c.GetDataset(ctx, "cifar")
	fmt.Printf("  -> not found? %v; retried? %v; code %s, HTTP %d\n",
		errors.Is(err, mlerr.CodeResourceDoesNotExist), retried(err), mlerr.CodeOf(err), mlerr.HTTPStatusOf(err))

	fmt.Println("Upload 6 items: 2 are refused")
	items := []string{"a.jpg", "b.jpg", "missing.jpg", "c.jpg", "huge.tiff", "d.jpg"}
	stored, err := c.Upload(ctx, items)
	var be *mlerr.BatchError[string]
	if errors.As(err, &be) {
		fmt.Printf("  -> %d stored; %v\n", len(stored), be)
		for reason, its := range be.ByReason() {
			fmt.Printf("     %q: %v\n", reason, its)
		}
		if be.FailureRate() > 0.5 {
			fmt.Println("  more than half failed: stop")
			os.Exit(1)
		}
		// The user fixes the files, then retries only the failures.
		fixed.Store(true)
		again, err := mlerr.RetryFailed(ctx, be, func(ctx context.Context, items []string) error {
			_, err := c.Upload(ctx, items) // its *BatchError indexes into items; RetryFailed maps them back
			return err
		})
		fmt.Printf("  -> retried %d, now stored %v, still failing: %v\n", len(be.Failures), again, err)
	}
}

// retried reports whether err went through more than one attempt.
func retried(err error) bool {
	var re *mlerr.RetryError
	return errors.As(err, &re) && re.Attempts > 1
}

// fixed is set once the user has fixed the refused files.
var fixed atomic.Bool

// flakyAPI is the server: it restarts (503) twice, knows only "mnist", and
// refuses two of the uploads until they are fixed.
func flakyAPI() http.Handler {
	var restarts atomic.Int32
	mux := http.NewServeMux()
	mux.HandleFunc("GET /datasets/{name}", func(w http.ResponseWriter, r *http.Request) {
		if restarts.Add(1) <= 2 {
			mlerr.WriteError(w, r, mlerr.New(mlerr.CodeTemporarilyUnavailable, "restarting"))
			return
		}
		name := r.PathValue("name")
		if name != "mnist" {
			mlerr.WriteError(w, r, mlerr.New(mlerr.CodeResourceDoesNotExist, "no dataset "+name))
			return
		}
		_ = json.NewEncoder(w).Encode(Dataset{Name: name, Items: 70000})
	})
	mux.HandleFunc("POST /items", func(w http.ResponseWriter, r *http.Request) {
		var in struct{ Item string }
		if err := json.NewDecoder(r.Body).Decode(&in); err != nil {
			mlerr.WriteError(w, r, mlerr.New(mlerr.CodeMalformedRequest, err.Error()))
			return
		}
		switch {
		case fixed.Load():
		case in.Item == "missing.jpg":
			mlerr.WriteError(w, r, mlerr.New(mlerr.CodeResourceDoesNotExist, "asset not found"))
			return
		case strings.HasSuffix(in.Item, ".tiff"):
			mlerr.WriteError(w, r, mlerr.InvalidParameterValue("format %s not supported", ".tiff"))
			return
		}
		w.WriteHeader(http.StatusOK)
		_, _ = io.WriteString(w, "{}")
	})
	return mux
}
