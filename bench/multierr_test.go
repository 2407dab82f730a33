package bench

import (
	"errors"
	"fmt"
	"strconv"
	"strings"
	"testing"

	multierror "github.com/hashicorp/go-multierror"
	"go.uber.org/multierr"

	"github.com/mlerr/mlerr"
)

// The multi-error jobs, for a batch of n items that all failed, each with
// its own *mlerr.Error (three different reasons; the last item's cause is
// the target of the Is job):
//
//   - Build: collect the n failures in a loop as each library's users do,
//     then make the error. mlerr: append a Failure{Item, Index, Cause} and
//     NewBatchError; errors.Join: append to a []error and Join; multierr:
//     multierr.Append in the loop; go-multierror: multierror.Append in the
//     loop, then ErrorOrNil.
//   - Is: errors.Is(err, the last item's cause) on the built error.
//   - Error: err.Error() on the built error. mlerr's text is a summary
//     ("100 of 100 items failed: 34 x ..."); the peers join every item's
//     text, so their text grows with n.

// failureReasons are the causes' messages, in turn.
var failureReasons = []string{"metric value is NaN", "key too long", "run is not active"}

// batchCauses returns n distinct causes and the last one.
func batchCauses(n int) []error {
	causes := make([]error, n)
	for i := range causes {
		causes[i] = mlerr.New(mlerr.CodeInvalidParameterValue, failureReasons[i%len(failureReasons)])
	}
	return causes
}

// Each build loops over the items and collects an item's error when it has
// one (here every item has), as code processing a batch does.

func buildBatch(causes []error) error {
	var fs []mlerr.Failure[int]
	for i := range causes {
		if err := causes[i]; err != nil {
			fs = append(fs, mlerr.Failure[int]{Item: i, Index: i, Cause: err})
		}
	}
	return mlerr.NewBatchError(len(causes), fs).Err()
}

func buildJoin(causes []error) error {
	var errs []error
	for i := range causes {
		if err := causes[i]; err != nil {
			errs = append(errs, err)
		}
	}
	return errors.Join(errs...)
}

func buildMultierr(causes []error) error {
	var merr error
	for i := range causes {
		if err := causes[i]; err != nil {
			merr = multierr.Append(merr, err)
		}
	}
	return merr
}

func buildGoMultierror(causes []error) error {
	var result *multierror.Error
	for i := range causes {
		if err := causes[i]; err != nil {
			result = multierror.Append(result, err)
		}
	}
	return result.ErrorOrNil()
}

// multiErrorPairings lists every multi-error job, for each size, as mlerr
// against each peer.
func multiErrorPairings() []pairing {
	peers := []struct {
		name  string
		build func([]error) error
	}{
		{"errors.Join", buildJoin},
		{"multierr", buildMultierr},
		{"go-multierror", buildGoMultierror},
	}
	var ps []pairing
	for _, n := range []int{100, 10000} {
		causes := batchCauses(n)
		target := causes[n-1]
		ours := buildBatch(causes)
		size := "/n=" + strconv.Itoa(n)
		oursText := ours.Error()
		for _, p := range peers {
			theirs := p.build(causes)
			theirText := theirs.Error()
			ps = append(ps,
				pairing{"Build" + size + "/" + p.name,
					sideOf(func() error { return buildBatch(causes) }, holdsAll(n)),
					sideOf(func() error { return p.build(causes) }, holdsAll(n))},
				pairing{"Is" + size + "/" + p.name,
					sideOf(func() bool { return errors.Is(ours, target) }, want(true)),
					sideOf(func() bool { return errors.Is(theirs, target) }, want(true))},
				pairing{"Error" + size + "/" + p.name,
					sideOf(func() string { return ours.Error() }, want(oursText)),
					sideOf(func() string { return theirs.Error() }, want(theirText))},
			)
		}
	}
	return ps
}

// holdsAll checks that a built error reaches all n causes.
func holdsAll(n int) func(error) error {
	return func(err error) error {
		if err == nil {
			return errors.New("nil error")
		}
		var got int
		switch e := err.(type) {
		case interface{ Unwrap() []error }:
			got = len(e.Unwrap())
		case interface{ WrappedErrors() []error }:
			got = len(e.WrappedErrors())
		default:
			return fmt.Errorf("%T does not expose its causes", err)
		}
		if got != n {
			return fmt.Errorf("%T holds %d causes, want %d", err, got, n)
		}
		return nil
	}
}

// TestMultiErrorPeersDoTheJob checks every side of the multi-error
// benchmarks, and what each error's text looks like.
func TestMultiErrorPeersDoTheJob(t *testing.T) {
	ps := multiErrorPairings()
	if len(ps) != 2*3*3 {
		t.Fatalf("%d pairings, want 18", len(ps))
	}
	for _, p := range ps {
		if err := p.ours.check(); err != nil {
			t.Errorf("%s, mlerr: %v", p.name, err)
		}
		if err := p.peer.check(); err != nil {
			t.Errorf("%s, peer: %v", p.name, err)
		}
	}
	causes := batchCauses(100)
	if got, want := buildBatch(causes).Error(), "100 of 100 items failed: 34 x metric value is NaN, 33 x key too long, 33 x run is not active"; got != want {
		t.Errorf("batch error text %q, want %q", got, want)
	}
	for name, err := range map[string]error{"errors.Join": buildJoin(causes), "multierr": buildMultierr(causes), "go-multierror": buildGoMultierror(causes)} {
		if n := strings.Count(err.Error(), "metric value is NaN"); n != 34 {
			t.Errorf("%s text names the first reason %d times, want 34", name, n)
		}
	}
}

// BenchmarkMultiError times every multi-error job, mlerr against each peer,
// with compare.
func BenchmarkMultiError(b *testing.B) {
	for _, p := range multiErrorPairings() {
		b.Run(p.name, func(b *testing.B) { compare(b, p.ours.run, p.peer.run) })
	}
}
