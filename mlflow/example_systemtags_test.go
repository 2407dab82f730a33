package mlflow_test

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"

	"github.com/mlerr/mlerr"
	"github.com/mlerr/mlerr/mlflow"
)

// A new run carries the system tags MLflow's fluent client sets, with the
// user also as the run's user_id; WithUser names the user. (The stand-in
// server prints what runs/create received.)
func ExampleWithUser() {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		var req mlflow.CreateRunRequest
		_ = json.NewDecoder(r.Body).Decode(&req)
		fmt.Println("user_id:", req.UserID)
		for _, tg := range req.Tags {
			if tg.Key == mlflow.TagUser || tg.Key == mlflow.TagSourceType {
				fmt.Println(tg.Key, "=", tg.Value)
			}
		}
		fmt.Fprint(w, `{"run": {"info": {"run_id": "r1", "experiment_id": "0", "status": "RUNNING"}}}`)
	}))
	defer srv.Close()
	b, err := mlflow.NewBackend(srv.URL, mlflow.WithUser("alice"))
	if err != nil {
		panic(err)
	}
	info, err := b.StartRun(context.Background(), mlerr.RunSpec{})
	fmt.Println(info.RunID, err)
	// Output:
	// user_id: alice
	// mlflow.source.type = LOCAL
	// mlflow.user = alice
	// r1 <nil>
}
