package bench

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"strconv"
	"testing"

	crdb "github.com/cockroachdb/errors"
	pkgerrors "github.com/pkg/errors"
	spb "google.golang.org/genproto/googleapis/rpc/status"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"
	"google.golang.org/protobuf/encoding/protojson"

	"github.com/mlerr/mlerr"
)

// The error jobs, each done the way a user of each library would do it:
//
//   - Create: an error saying "run 42 not found". mlerr.New with a code;
//     errors.New (no code: the floor); status.Error with codes.NotFound;
//     cockroachdb's and pkg/errors' New (both record a stack trace).
//   - Wrap: context added to a cause, with formatting. mlerr.Errorf with a
//     code and %w; fmt.Errorf with %w; status.Errorf with %v (a gRPC status
//     has no cause, so the chain is lost); Wrapf of cockroachdb and pkg/errors.
//   - Is/depth=N: "is it a not-found?" on an error wrapped N times with the
//     library's own wrapper (fmt.Errorf for mlerr, the standard library and
//     gRPC, which has none). errors.Is(err, code) for mlerr; errors.Is on a
//     sentinel for the standard library and pkg/errors; status.Code(err) ==
//     codes.NotFound for gRPC; cockroachdb's errors.Is on a sentinel.
//   - CodeOf/depth=N: read the code of an error wrapped N times. mlerr.CodeOf;
//     status.Code for gRPC; errors.As to a coded error type (codedErr below)
//     for the others, with their own As.
//   - Encode, Decode: an error to bytes a client can read back, and back to
//     an error with its code and message. mlerr's MarshalJSON/UnmarshalJSON
//     (MLflow's JSON); encoding/json on a struct of the same two fields;
//     protojson on the gRPC status proto (grpc-gateway's JSON); cockroachdb's
//     EncodeError + protobuf (binary: it has no JSON form). pkg/errors has no
//     encoding and sits these out.

// codedErr is how a user of the standard library (or of pkg/errors or
// cockroachdb/errors) gives an error a code: a type of their own.
type codedErr struct {
	Code    string `json:"error_code"`
	Message string `json:"message"`
}

func (e *codedErr) Error() string { return e.Code + ": " + e.Message }

const runGoneMsg = "run 42 not found"

var (
	errDiskFull     = errors.New("disk full")
	errStdNotFound  = errors.New(runGoneMsg)
	errPkgNotFound  = pkgerrors.New(runGoneMsg)
	errCrdbNotFound = crdb.New(runGoneMsg)
)

// wrapWith wraps err n times with the given wrapper.
func wrapWith(err error, n int, wrap func(error, int) error) error {
	for i := range n {
		err = wrap(err, i)
	}
	return err
}

func fmtWrap(err error, i int) error  { return fmt.Errorf("layer %d: %w", i, err) }
func pkgWrap(err error, i int) error  { return pkgerrors.Wrapf(err, "layer %d", i) }
func crdbWrap(err error, i int) error { return crdb.Wrapf(err, "layer %d", i) }

func isText(want string) func(error) error {
	return func(err error) error {
		if err == nil || err.Error() != want {
			return fmt.Errorf("got %v, want %q", err, want)
		}
		return nil
	}
}

// errorPairings lists every error job as mlerr against each peer.
func errorPairings() []pairing {
	ctx := context.Background()
	var ps []pairing
	add := func(op string, ours side, peers map[string]side) {
		for _, name := range []string{"std", "grpc-status", "cockroachdb", "pkg-errors"} {
			if p, ok := peers[name]; ok {
				ps = append(ps, pairing{op + "/" + name, ours, p})
			}
		}
	}

	add("Create",
		sideOf(func() error { return mlerr.New(mlerr.CodeResourceDoesNotExist, runGoneMsg) },
			isText("RESOURCE_DOES_NOT_EXIST: "+runGoneMsg)),
		map[string]side{
			"std": sideOf(func() error { return errors.New(runGoneMsg) }, isText(runGoneMsg)),
			"grpc-status": sideOf(func() error { return status.Error(codes.NotFound, runGoneMsg) },
				isText("rpc error: code = NotFound desc = "+runGoneMsg)),
			"cockroachdb": sideOf(func() error { return crdb.New(runGoneMsg) }, isText(runGoneMsg)),
			"pkg-errors":  sideOf(func() error { return pkgerrors.New(runGoneMsg) }, isText(runGoneMsg)),
		})

	const wrapped = "writing run abc: disk full"
	add("Wrap",
		sideOf(func() error { return mlerr.Errorf(mlerr.CodeIOError, "writing run %s: %w", "abc", errDiskFull) },
			func(err error) error {
				if !errors.Is(err, errDiskFull) || mlerr.CodeOf(err) != mlerr.CodeIOError {
					return fmt.Errorf("lost the cause or the code: %v", err)
				}
				return isText("IO_ERROR: " + wrapped)(err)
			}),
		map[string]side{
			"std": sideOf(func() error { return fmt.Errorf("writing run %s: %w", "abc", errDiskFull) }, isText(wrapped)),
			"grpc-status": sideOf(func() error { return status.Errorf(codes.Internal, "writing run %s: %v", "abc", errDiskFull) },
				isText("rpc error: code = Internal desc = "+wrapped)),
			"cockroachdb": sideOf(func() error { return crdb.Wrapf(errDiskFull, "writing run %s", "abc") }, isText(wrapped)),
			"pkg-errors":  sideOf(func() error { return pkgerrors.Wrapf(errDiskFull, "writing run %s", "abc") }, isText(wrapped)),
		})

	for _, depth := range []int{0, 1, 5} {
		d := "/depth=" + strconv.Itoa(depth)
		ours := wrapWith(mlerr.New(mlerr.CodeResourceDoesNotExist, runGoneMsg), depth, fmtWrap)
		std := wrapWith(errStdNotFound, depth, fmtWrap)
		grpcErr := wrapWith(status.Error(codes.NotFound, runGoneMsg), depth, fmtWrap)
		crdbErr := wrapWith(errCrdbNotFound, depth, crdbWrap)
		pkgErr := wrapWith(errPkgNotFound, depth, pkgWrap)
		add("Is"+d,
			sideOf(func() bool { return errors.Is(ours, mlerr.CodeResourceDoesNotExist) }, want(true)),
			map[string]side{
				"std":         sideOf(func() bool { return errors.Is(std, errStdNotFound) }, want(true)),
				"grpc-status": sideOf(func() bool { return status.Code(grpcErr) == codes.NotFound }, want(true)),
				"cockroachdb": sideOf(func() bool { return crdb.Is(crdbErr, errCrdbNotFound) }, want(true)),
				"pkg-errors":  sideOf(func() bool { return pkgerrors.Is(pkgErr, errPkgNotFound) }, want(true)),
			})

		coded := &codedErr{Code: "RESOURCE_DOES_NOT_EXIST", Message: runGoneMsg}
		stdCoded := wrapWith(coded, depth, fmtWrap)
		crdbCoded := wrapWith(coded, depth, crdbWrap)
		pkgCoded := wrapWith(coded, depth, pkgWrap)
		add("CodeOf"+d,
			sideOf(func() mlerr.Code { return mlerr.CodeOf(ours) }, want(mlerr.CodeResourceDoesNotExist)),
			map[string]side{
				"std": sideOf(func() string {
					var ce *codedErr
					if errors.As(stdCoded, &ce) {
						return ce.Code
					}
					return ""
				}, want(coded.Code)),
				"grpc-status": sideOf(func() codes.Code { return status.Code(grpcErr) }, want(codes.NotFound)),
				"cockroachdb": sideOf(func() string {
					var ce *codedErr
					if crdb.As(crdbCoded, &ce) {
						return ce.Code
					}
					return ""
				}, want(coded.Code)),
				"pkg-errors": sideOf(func() string {
					var ce *codedErr
					if pkgerrors.As(pkgCoded, &ce) {
						return ce.Code
					}
					return ""
				}, want(coded.Code)),
			})
	}

	// Encode and decode: the same error, "run 42 not found" with a not-found code.
	oursErr := mlerr.New(mlerr.CodeResourceDoesNotExist, runGoneMsg)
	stdErr := &codedErr{Code: "RESOURCE_DOES_NOT_EXIST", Message: runGoneMsg}
	grpcErr := status.Error(codes.NotFound, runGoneMsg)
	crdbErr := crdb.New(runGoneMsg)
	encodes := func(b []byte, err error) error {
		if err != nil || len(b) == 0 {
			return fmt.Errorf("encoding failed: %v", err)
		}
		return nil
	}
	add("Encode",
		sideOf(func() []byte { b, _ := oursErr.MarshalJSON(); return b }, func(b []byte) error { return encodes(b, nil) }),
		map[string]side{
			"std": sideOf(func() []byte { b, _ := json.Marshal(stdErr); return b }, func(b []byte) error { return encodes(b, nil) }),
			"grpc-status": sideOf(func() []byte {
				b, _ := protojson.Marshal(status.Convert(grpcErr).Proto())
				return b
			}, func(b []byte) error { return encodes(b, nil) }),
			"cockroachdb": sideOf(func() []byte {
				enc := crdb.EncodeError(ctx, crdbErr)
				b, _ := enc.Marshal()
				return b
			}, func(b []byte) error { return encodes(b, nil) }),
		})

	oursJSON, _ := oursErr.MarshalJSON()
	stdJSON, _ := json.Marshal(stdErr)
	grpcJSON, _ := protojson.Marshal(status.Convert(grpcErr).Proto())
	crdbEnc := crdb.EncodeError(ctx, crdbErr)
	crdbBytes, _ := crdbEnc.Marshal()
	add("Decode",
		sideOf(func() error {
			e := new(mlerr.Error)
			if err := e.UnmarshalJSON(oursJSON); err != nil {
				return err
			}
			return e
		}, func(err error) error {
			if mlerr.CodeOf(err) != mlerr.CodeResourceDoesNotExist {
				return fmt.Errorf("decoded %v: lost the code", err)
			}
			return isText("RESOURCE_DOES_NOT_EXIST: " + runGoneMsg)(err)
		}),
		map[string]side{
			"std": sideOf(func() error {
				e := new(codedErr)
				if err := json.Unmarshal(stdJSON, e); err != nil {
					return err
				}
				return e
			}, isText("RESOURCE_DOES_NOT_EXIST: "+runGoneMsg)),
			"grpc-status": sideOf(func() error {
				p := new(spb.Status)
				if err := protojson.Unmarshal(grpcJSON, p); err != nil {
					return err
				}
				return status.ErrorProto(p)
			}, isText("rpc error: code = NotFound desc = "+runGoneMsg)),
			"cockroachdb": sideOf(func() error {
				var enc crdb.EncodedError
				if err := enc.Unmarshal(crdbBytes); err != nil {
					return err
				}
				return crdb.DecodeError(ctx, enc)
			}, isText(runGoneMsg)),
		})
	return ps
}

// TestErrorPeersDoTheJob checks that each side of every error benchmark
// gives the right answer: the error text, the code found, the round trip.
func TestErrorPeersDoTheJob(t *testing.T) {
	ps := errorPairings()
	if len(ps) != 2*4+6*4+2*3 {
		t.Fatalf("%d pairings, want %d", len(ps), 2*4+6*4+2*3)
	}
	for _, p := range ps {
		if err := p.ours.check(); err != nil {
			t.Errorf("%s, mlerr: %v", p.name, err)
		}
		if err := p.peer.check(); err != nil {
			t.Errorf("%s, peer: %v", p.name, err)
		}
	}
}

// BenchmarkErrors times every error job, mlerr against each peer, with
// compare (interleaved batches; the metric to read is mlerr/peer).
func BenchmarkErrors(b *testing.B) {
	for _, p := range errorPairings() {
		b.Run(p.name, func(b *testing.B) { compare(b, p.ours.run, p.peer.run) })
	}
}
