// Command apicheck guards the exported API of mlerr's packages with
// golang.org/x/exp/apidiff. It lives in a module of its own, so x/exp and
// x/tools never enter the library's go.mod or import graph.
//
// For every public package of the module at -root and of its sub-module
// grpcerr (internal, cmd, examples and bench are not API), it compares the
// type-checked API with the baseline recorded in api/baseline/*.x (export
// data). An incompatible change fails the check unless the "Unreleased"
// section of CHANGELOG.md names it in backquotes (`Name`, `Type.Method`,
// `(*Type).Method`, optionally package-qualified). It also keeps
// api/*.txt, a readable listing of the current API for review, in step
// with the code.
//
// From the repository root (make api-check, make api, make api-baseline):
//
//	(cd tools/apicheck && go run . -root ../..)            # check
//	(cd tools/apicheck && go run . -root ../.. -listing)   # rewrite api/*.txt
//	(cd tools/apicheck && go run . -root ../.. -baseline)  # record the baseline (after a release)
package main

import (
	"flag"
	"fmt"
	"io"
	"os"
)

func main() {
	root := flag.String("root", "../..", "the repository root (the mlerr module)")
	listing := flag.Bool("listing", false, "rewrite the listings api/*.txt from the code")
	baseline := flag.Bool("baseline", false, "record the current API as the baseline (api/baseline/*.x) and rewrite the listings")
	flag.Parse()
	os.Exit(run(*root, mode(*listing, *baseline), os.Stdout))
}

type runMode int

const (
	modeCheck runMode = iota
	modeListing
	modeBaseline
)

func mode(listing, baseline bool) runMode {
	switch {
	case baseline:
		return modeBaseline
	case listing:
		return modeListing
	}
	return modeCheck
}

// run loads the API and does what m says; it returns the exit code.
func run(root string, m runMode, w io.Writer) int {
	pkgs, err := loadAPI(root)
	if err != nil {
		fmt.Fprintln(w, "apicheck:", err)
		return 1
	}
	switch m {
	case modeBaseline:
		err = writeBaseline(root, pkgs)
		if err == nil {
			err = writeListings(root, pkgs)
		}
	case modeListing:
		err = writeListings(root, pkgs)
	default:
		return check(root, pkgs, w)
	}
	if err != nil {
		fmt.Fprintln(w, "apicheck:", err)
		return 1
	}
	return 0
}
