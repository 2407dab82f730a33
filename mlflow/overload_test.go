package mlflow_test

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"net/http/httptest"
	"testing"

	"github.com/mlerr/mlerr"
	"github.com/mlerr/mlerr/mlflow"
)

// MLflow answers BAD_REQUEST (400) for an overloaded database as for a bad
// request; the overloaded answers are retried, the others are not.
func TestOverloadedDatabaseIsRetried(t *testing.T) {
	cases := []struct {
		name, code, message string
		wantCode            mlerr.Code
		retry               bool
	}{
		{"the pool ran dry", "BAD_REQUEST", "QueuePool limit of size 5 overflow 10 reached, connection timed out, timeout 30.00 (Background on this error at: https://sqlalche.me/e/21/3o7r)",
			mlerr.CodeTemporarilyUnavailable, true},
		{"too many clients", "BAD_REQUEST", `(psycopg.OperationalError) connection failed: FATAL:  sorry, too many clients already`,
			mlerr.CodeTemporarilyUnavailable, true},
		{"sqlite locked", "BAD_REQUEST", "(sqlite3.OperationalError) database is locked",
			mlerr.CodeTemporarilyUnavailable, true},
		{"a real bad request", "BAD_REQUEST", "Invalid value for metric 'a'", mlerr.CodeBadRequest, false},
		{"an integrity error", "BAD_REQUEST", "(psycopg.errors.UniqueViolation) duplicate key value", mlerr.CodeBadRequest, false},
		{"another code naming a pool", "INVALID_PARAMETER_VALUE", "QueuePool limit of size", mlerr.CodeInvalidParameterValue, false},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				w.Header().Set("Content-Type", "application/json")
				w.WriteHeader(http.StatusBadRequest)
				fmt.Fprintf(w, `{"error_code": %q, "message": %q}`, tc.code, tc.message)
			}))
			defer srv.Close()
			c, err := mlflow.NewClient(srv.URL)
			if err != nil {
				t.Fatal(err)
			}
			err = c.LogBatch(context.Background(), "r", []mlflow.Metric{{Key: "a", Value: 1, Timestamp: 1}}, nil, nil)
			e := mlerr.AsError(err)
			if e == nil || e.Code() != tc.wantCode || e.HTTPStatus() != http.StatusBadRequest {
				t.Fatalf("got %v (code %v, status %v), want code %v, status 400", err, e.Code(), e.HTTPStatus(), tc.wantCode)
			}
			if got := mlerr.Classify(err).Retry; got != tc.retry {
				t.Errorf("retried %v, want %v (%v)", got, tc.retry, err)
			}
			var cause *mlerr.Error
			if tc.retry && (!errors.As(errors.Unwrap(err), &cause) || cause.Code() != mlerr.CodeBadRequest) {
				t.Errorf("the server's BAD_REQUEST is not the cause of %v", err)
			}
		})
	}
}
