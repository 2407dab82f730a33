package main

import (
	"bytes"
	"os"
	"path/filepath"
	"testing"
)

func TestChangedName(t *testing.T) {
	tests := []struct{ message, want string }{
		{"Foo: removed", "Foo"},
		{"(*Run).Close: changed from func() error to func(int) error", "Run.Close"},
		{"(T).M: removed", "T.M"},
		{"Limits.QueueItems: removed", "Limits.QueueItems"},
		{"BatchError[T].Failures: changed from []Failure[T] to []T", "BatchError[T].Failures"},
	}
	for _, tt := range tests {
		if got := changedName(tt.message); got != tt.want {
			t.Errorf("changedName(%q) = %q, want %q", tt.message, got, tt.want)
		}
	}
}

func TestMentioned(t *testing.T) {
	spans := []string{"(*Error).AppendJSON", "DecodeError(status, header, body)", "mlflow.TagStartToken", "Drops.Invalid"}
	tests := []struct {
		pkg, name string
		want      bool
	}{
		{"mlerr", "Error.AppendJSON", true},
		{"mlerr", "DecodeError", true},
		{"mlflow", "TagStartToken", true},
		{"mlerr", "Drops.Invalid", true},
		{"mlerr", "Invalid", false},
		{"mlerr", "Error", false},
		{"mlerr", "AppendJSON", false},
		{"mlerr", "Decode", false},
	}
	for _, tt := range tests {
		if got := mentioned(spans, change{pkg: tt.pkg, name: tt.name}); got != tt.want {
			t.Errorf("mentioned(%s.%s) = %v, want %v", tt.pkg, tt.name, got, tt.want)
		}
	}
}

// TestCheck records the baseline of a small module, changes its API and
// checks what apicheck says, with and without a CHANGELOG entry.
func TestCheck(t *testing.T) {
	const v1 = "package p\n\n// F is kept.\nfunc F() {}\n\n// G goes.\nfunc G() {}\n\n// Box is generic.\ntype Box[T any] struct{ V T }\n"
	const v2 = "package p\n\n// F is kept.\nfunc F() {}\n\n// H is new.\nfunc H() {}\n\n// Box is generic.\ntype Box[T comparable] struct{ V T }\n"
	tests := []struct {
		name, code, changelog string
		want                  int
		wantOut               string
	}{
		{name: "unchanged", code: v1, changelog: "", want: 0},
		{name: "incompatible, not in the changelog", code: v2, changelog: "- `H` added", want: 1, wantOut: "INCOMPATIBLE   p: G: removed"},
		{name: "generic constraint changed", code: v2, changelog: "- `G` removed", want: 1, wantOut: "Box"},
		{name: "both in the changelog", code: v2, changelog: "- `G` removed\n- `Box` takes comparable", want: 0, wantOut: "compatible     p: H: added"},
		{name: "entry of an older release does not count", code: v2, changelog: "\n## [0.1.0]\n- `G` `Box`", want: 1},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			root := t.TempDir()
			write(t, root, "go.mod", "module example.com/m\n\ngo 1.24\n")
			write(t, root, "p/p.go", v1)
			var out bytes.Buffer
			if code := run(root, modeBaseline, &out); code != 0 {
				t.Fatalf("baseline: %d %s", code, out.String())
			}
			write(t, root, "p/p.go", tt.code)
			write(t, root, "CHANGELOG.md", "# Changelog\n\n## [Unreleased]\n"+tt.changelog+"\n")
			if tt.code != v1 {
				if code := run(root, modeListing, &out); code != 0 {
					t.Fatalf("listing: %d %s", code, out.String())
				}
			}
			out.Reset()
			if got := run(root, modeCheck, &out); got != tt.want {
				t.Errorf("check = %d, want %d:\n%s", got, tt.want, out.String())
			}
			if !bytes.Contains(out.Bytes(), []byte(tt.wantOut)) {
				t.Errorf("output lacks %q:\n%s", tt.wantOut, out.String())
			}
		})
	}
}

func TestStaleListing(t *testing.T) {
	root := t.TempDir()
	write(t, root, "go.mod", "module example.com/m\n\ngo 1.24\n")
	write(t, root, "p/p.go", "package p\n\n// F is kept.\nfunc F() {}\n")
	write(t, root, "CHANGELOG.md", "## [Unreleased]\n")
	var out bytes.Buffer
	run(root, modeBaseline, &out)
	write(t, root, "p/p.go", "package p\n\n// F is kept.\nfunc F() {}\n\n// H is new.\nfunc H() {}\n")
	if got := run(root, modeCheck, &out); got != 1 || !bytes.Contains(out.Bytes(), []byte("api/p.txt are stale")) {
		t.Errorf("check = %d:\n%s", got, out.String())
	}
}

func TestListingGeneric(t *testing.T) {
	root := t.TempDir()
	write(t, root, "go.mod", "module example.com/m\n\ngo 1.24\n")
	write(t, root, "p/p.go", "package p\n\ntype Pair[K comparable, V any] struct{ Key K; Val V; hidden int }\n\nfunc (p *Pair[K, V]) Swap() Pair[K, V] { return *p }\n\ntype I interface{ M(x int) error }\n")
	pkgs, err := loadAPI(root)
	if err != nil || len(pkgs) != 1 {
		t.Fatal(pkgs, err)
	}
	want := "package p // example.com/m/p\n" +
		"field Pair.Key K\nfield Pair.Val V\nfunc (*Pair[K, V]).Swap() Pair[K, V]\nmethod I.M(x int) error\n" +
		"type I interface\ntype Pair[K comparable, V any] struct\n"
	if got := string(listing(pkgs[0].types)); got != want {
		t.Errorf("listing:\n%s\nwant:\n%s", got, want)
	}
}

func write(t *testing.T, root, name, content string) {
	t.Helper()
	p := filepath.Join(root, name)
	if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(p, []byte(content), 0o644); err != nil {
		t.Fatal(err)
	}
}
