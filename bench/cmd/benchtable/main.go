// Command benchtable turns benchstat's CSV output (benchstat -format csv) of
// the bench module's paired benchmarks into the markdown tables of
// bench/RESULTS.md: for each group of benchmarks (errors, multi-error,
// retry), the mlerr/peer ratio of every job against every peer, the
// allocations of both sides, and the list of the cases where mlerr is
// slower than a peer.
//
//	benchstat -format csv bench.txt | go run ./cmd/benchtable > tables.md
package main

import (
	"bufio"
	"fmt"
	"os"
)

func main() {
	stats, err := parseCSV(bufio.NewReader(os.Stdin))
	if err != nil {
		fmt.Fprintln(os.Stderr, "benchtable:", err)
		os.Exit(1)
	}
	if len(stats) == 0 {
		fmt.Fprintln(os.Stderr, "benchtable: no benchmark in the input")
		os.Exit(1)
	}
	if err := render(os.Stdout, stats, groups); err != nil {
		fmt.Fprintln(os.Stderr, "benchtable:", err)
		os.Exit(1)
	}
}

// group is one table: the benchmarks whose name starts with Prefix, one row
// per job (the name between the prefix and the last element) and one column
// per peer (the last element).
type group struct {
	Title  string
	Prefix string
	Peers  []string
	// Baselines are columns that are not peer libraries (the op called
	// directly, mlerr with other options): never listed as "slower".
	Baselines map[string]bool
	Note      string
}

var groups = []group{
	{
		Title:  "Errors",
		Prefix: "Errors/",
		Peers:  []string{"std", "grpc-status", "cockroachdb", "pkg-errors"},
		Note: "std: `errors.New`, `fmt.Errorf`, `errors.Is` on a sentinel, `errors.As` to a coded type, " +
			"`encoding/json` on a struct; grpc-status: `status.Error`/`Errorf`/`Code`, protojson; " +
			"cockroachdb/errors and pkg/errors: their `New`, `Wrapf`, `Is`, `As` (and cockroachdb's " +
			"`EncodeError`/`DecodeError` + protobuf). pkg/errors has no encoding.",
	},
	{
		Title:  "Multi-error",
		Prefix: "MultiError/",
		Peers:  []string{"errors.Join", "multierr", "go-multierror"},
		Note: "n failed items, each with its own `*mlerr.Error`: Build collects them in a loop and " +
			"makes the error (`NewBatchError` vs `errors.Join`, `multierr.Append`, `multierror.Append`); " +
			"Is finds the last item's cause; Error renders the text (mlerr: a summary by reason; the " +
			"peers: every item's text).",
	},
	{
		Title:     "Retry",
		Prefix:    "Ratio/",
		Peers:     []string{"direct", "mlerr-attempt-timeout", "retry-go", "backoff", "failsafe"},
		Baselines: map[string]bool{"direct": true, "mlerr-attempt-timeout": true},
		Note: "`mlerr.Retry` with `AttemptTimeout: mlerr.Off`, 5 attempts, zero delay, against avast/retry-go, " +
			"cenkalti/backoff/v5 and failsafe-go (built once, reused). direct: the op called without a " +
			"retry loop; mlerr-attempt-timeout: mlerr with its default 30 s per-attempt timeout.",
	},
}
