package main

import (
	"fmt"
	"go/types"
	"io"
	"os"
	"path/filepath"
	"regexp"
	"sort"
	"strings"

	"golang.org/x/exp/apidiff"
)

// change is one API change of one package.
type change struct {
	pkg        string // the package's name
	name       string // what changed: Name, Type.Method, Type.Field
	message    string // apidiff's message
	compatible bool
}

// check compares pkgs with the baseline and the listings; it returns the
// exit code.
func check(root string, pkgs []apiPackage, w io.Writer) int {
	base, err := readBaseline(root)
	if err != nil {
		fmt.Fprintln(w, "apicheck:", err)
		return 1
	}
	unreleased, err := readUnreleased(filepath.Join(root, "CHANGELOG.md"))
	if err != nil {
		fmt.Fprintln(w, "apicheck:", err)
		return 1
	}
	code := reportChanges(w, diff(base, pkgs), unreleased)
	if stale := staleListings(root, pkgs); len(stale) > 0 {
		fmt.Fprintf(w, "apicheck: the listings %s are stale: run make api (or, in tools/apicheck, go run . -root ../.. -listing) and review the diff\n", strings.Join(stale, ", "))
		code = 1
	}
	return code
}

// diff lists the changes from the baseline to the current packages.
func diff(base map[string]*types.Package, pkgs []apiPackage) []change {
	var out []change
	seen := map[string]bool{}
	for _, p := range pkgs {
		seen[p.name] = true
		old, ok := base[p.name]
		if !ok {
			out = append(out, change{pkg: p.name, name: p.name, message: "package " + p.types.Path() + ": added", compatible: true})
			continue
		}
		for _, c := range apidiff.Changes(old, p.types).Changes {
			out = append(out, change{pkg: p.name, name: changedName(c.Message), message: c.Message, compatible: c.Compatible})
		}
	}
	for name, old := range base {
		if !seen[name] {
			out = append(out, change{pkg: name, name: name, message: "package " + old.Path() + ": removed"})
		}
	}
	sort.SliceStable(out, func(i, j int) bool { return out[i].pkg < out[j].pkg })
	return out
}

var receiver = regexp.MustCompile(`\(\*?(\w+)\)\.`)

// changedName is the object an apidiff message is about, "(*T).M" as T.M.
func changedName(message string) string {
	name, _, _ := strings.Cut(message, ": ")
	return receiver.ReplaceAllString(name, "$1.")
}

// reportChanges prints the changes and returns 1 when an incompatible one
// is not named in the Unreleased section of the CHANGELOG.
func reportChanges(w io.Writer, changes []change, unreleased []string) int {
	code := 0
	for _, c := range changes {
		switch {
		case c.compatible:
			fmt.Fprintf(w, "compatible     %s: %s\n", c.pkg, c.message)
		case mentioned(unreleased, c):
			fmt.Fprintf(w, "incompatible   %s: %s (in CHANGELOG.md)\n", c.pkg, c.message)
		default:
			fmt.Fprintf(w, "INCOMPATIBLE   %s: %s: not named in CHANGELOG.md's Unreleased section\n", c.pkg, c.message)
			code = 1
		}
	}
	if code != 0 {
		fmt.Fprintln(w, "apicheck: an incompatible API change must be listed under ## [Unreleased] in CHANGELOG.md, naming it in backquotes, e.g. `Type.Method` (after a release, record the new baseline: make api-baseline)")
	}
	return code
}

// mentioned reports whether a backquoted span of the Unreleased section
// names c: `T.M`, `(*T).M`, `pkg.T.M` or, for a package, its name.
func mentioned(spans []string, c change) bool {
	word := regexp.MustCompile(`(^|[^\w.])(` + regexp.QuoteMeta(c.pkg) + `\.)?` + regexp.QuoteMeta(c.name) + `($|[^\w.])`)
	for _, s := range spans {
		if word.MatchString(receiver.ReplaceAllString(s, "$1.")) {
			return true
		}
	}
	return false
}

var backquoted = regexp.MustCompile("`([^`]+)`")

// readUnreleased returns the backquoted spans of CHANGELOG.md's section
// "## [Unreleased]", up to the next "## " heading.
func readUnreleased(file string) ([]string, error) {
	data, err := os.ReadFile(file)
	if err != nil {
		return nil, err
	}
	_, rest, ok := strings.Cut(string(data), "## [Unreleased]")
	if !ok {
		return nil, fmt.Errorf("%s has no ## [Unreleased] section", file)
	}
	section, _, _ := strings.Cut(rest, "\n## ")
	var spans []string
	for _, m := range backquoted.FindAllStringSubmatch(section, -1) {
		spans = append(spans, m[1])
	}
	return spans, nil
}
