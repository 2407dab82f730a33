// Command mlflowsink serves the in-memory MLflow server of the tests
// (internal/fakemlflow) on a loopback port, optionally holding each
// runs/log-batch request for -delay, and prints its URL. It is where the Go
// client's own CPU is profiled (docs/performance.md): against it the client,
// not the server, sets the pace, so a profile of a million points has
// thousands of samples rather than a few dozen.
//
//	mlflowsink [-delay 100ms]    prints http://127.0.0.1:PORT, serves until killed
package main

import (
	"flag"
	"fmt"
	"net"
	"net/http"
	"os"
	"strings"
	"time"

	"github.com/mlerr/mlerr/internal/fakemlflow"
)

func main() {
	delay := flag.Duration("delay", 0, "hold each log-batch request this long (a slow server)")
	flag.Parse()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		fmt.Fprintln(os.Stderr, "mlflowsink:", err)
		os.Exit(1)
	}
	fmt.Println("http://" + ln.Addr().String())
	f := fakemlflow.New()
	srv := &http.Server{ReadHeaderTimeout: 10 * time.Second, Handler: http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if *delay > 0 && strings.HasSuffix(r.URL.Path, "runs/log-batch") {
			time.Sleep(*delay)
		}
		f.ServeHTTP(w, r)
	})}
	fmt.Fprintln(os.Stderr, "mlflowsink:", srv.Serve(ln))
	os.Exit(1)
}
