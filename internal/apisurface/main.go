// Command apisurface prints the exported API of the module's packages, one
// declaration per line, sorted, so that a checked-in copy (api/*.txt) shows
// every change of the public surface in review. It uses only the standard
// library's parser: no type checking, no dependencies, nothing that could
// enter the library's own import graph.
//
// Usage (from the module root):
//
//	go run ./internal/apisurface -w api       # rewrite api/*.txt
//	go run ./internal/apisurface -check api   # exit 1 when api/*.txt is stale
package main

import (
	"bytes"
	"flag"
	"fmt"
	"go/ast"
	"go/parser"
	"go/printer"
	"go/token"
	"io/fs"
	"os"
	"path/filepath"
	"sort"
	"strings"
)

func main() {
	write := flag.String("w", "", "write the listings into this directory")
	check := flag.String("check", "", "compare the listings with this directory")
	flag.Parse()
	if (*write == "") == (*check == "") {
		fmt.Fprintln(os.Stderr, "apisurface: give exactly one of -w DIR or -check DIR")
		os.Exit(2)
	}
	listings, err := surface(".")
	if err != nil {
		fmt.Fprintln(os.Stderr, "apisurface:", err)
		os.Exit(1)
	}
	if *write != "" {
		if err := writeAll(*write, listings); err != nil {
			fmt.Fprintln(os.Stderr, "apisurface:", err)
			os.Exit(1)
		}
		return
	}
	if stale := compare(*check, listings); len(stale) > 0 {
		fmt.Fprintln(os.Stderr, "apisurface: the exported API changed; review it and run `go run ./internal/apisurface -w api`:")
		for _, s := range stale {
			fmt.Fprintln(os.Stderr, "  "+s)
		}
		os.Exit(1)
	}
}

// surface returns one listing per public package directory, keyed by the
// listing's file name ("mlerr.txt", "mlflow.txt").
func surface(root string) (map[string]string, error) {
	out := map[string]string{}
	err := filepath.WalkDir(root, func(path string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if !d.IsDir() {
			return nil
		}
		name := d.Name()
		if path != root && (strings.HasPrefix(name, ".") || strings.HasPrefix(name, "_") ||
			name == "testdata" || name == "internal" || name == "examples" || name == "bench" || name == "cmd") {
			return filepath.SkipDir
		}
		lines, pkg, err := listDir(path)
		if err != nil || pkg == "" {
			return err
		}
		file := "mlerr.txt"
		if path != root {
			file = strings.ReplaceAll(filepath.ToSlash(path), "/", "_") + ".txt"
		}
		out[file] = "package " + pkg + "\n" + strings.Join(lines, "\n") + "\n"
		return nil
	})
	return out, err
}

// listDir parses the non-test Go files of one directory.
func listDir(dir string) ([]string, string, error) {
	fset := token.NewFileSet()
	pkgs, err := parser.ParseDir(fset, dir, func(fi fs.FileInfo) bool {
		return !strings.HasSuffix(fi.Name(), "_test.go")
	}, 0)
	if err != nil {
		return nil, "", err
	}
	var lines []string
	var pkgName string
	for name, pkg := range pkgs {
		if name == "main" {
			continue
		}
		pkgName = name
		for _, f := range pkg.Files {
			lines = append(lines, fileDecls(fset, f)...)
		}
	}
	sort.Strings(lines)
	return lines, pkgName, nil
}

func fileDecls(fset *token.FileSet, f *ast.File) []string {
	var lines []string
	for _, decl := range f.Decls {
		switch d := decl.(type) {
		case *ast.FuncDecl:
			if !d.Name.IsExported() || (d.Recv != nil && !exportedRecv(d.Recv)) {
				continue
			}
			recv := ""
			if d.Recv != nil {
				recv = "(" + node(fset, d.Recv.List[0].Type) + ") "
			}
			sig := strings.TrimPrefix(node(fset, d.Type), "func")
			lines = append(lines, "func "+recv+d.Name.Name+sig)
		case *ast.GenDecl:
			lines = append(lines, genDecl(fset, d)...)
		}
	}
	return lines
}

func genDecl(fset *token.FileSet, d *ast.GenDecl) []string {
	var lines []string
	for _, spec := range d.Specs {
		switch s := spec.(type) {
		case *ast.TypeSpec:
			if !s.Name.IsExported() {
				continue
			}
			params := ""
			if s.TypeParams != nil {
				params = node(fset, s.TypeParams)
				params = "[" + params[1:len(params)-1] + "]"
			}
			head := "type " + s.Name.Name + params + " "
			if s.Assign.IsValid() {
				head += "= "
			}
			switch t := s.Type.(type) {
			case *ast.StructType:
				lines = append(lines, head+"struct")
				for _, field := range t.Fields.List {
					for _, n := range field.Names {
						if n.IsExported() {
							lines = append(lines, "type "+s.Name.Name+" struct field "+n.Name+" "+node(fset, field.Type))
						}
					}
					if len(field.Names) == 0 {
						lines = append(lines, "type "+s.Name.Name+" struct embeds "+node(fset, field.Type))
					}
				}
			case *ast.InterfaceType:
				lines = append(lines, head+"interface")
				for _, m := range t.Methods.List {
					for _, n := range m.Names {
						lines = append(lines, "type "+s.Name.Name+" interface method "+n.Name+strings.TrimPrefix(node(fset, m.Type), "func"))
					}
					if len(m.Names) == 0 {
						lines = append(lines, "type "+s.Name.Name+" interface embeds "+node(fset, m.Type))
					}
				}
			default:
				lines = append(lines, head+node(fset, s.Type))
			}
		case *ast.ValueSpec:
			for i, n := range s.Names {
				if !n.IsExported() {
					continue
				}
				line := d.Tok.String() + " " + n.Name
				if s.Type != nil {
					line += " " + node(fset, s.Type)
				}
				if d.Tok == token.CONST && i < len(s.Values) {
					line += " = " + node(fset, s.Values[i])
				}
				lines = append(lines, line)
			}
		}
	}
	return lines
}

func exportedRecv(fl *ast.FieldList) bool {
	t := fl.List[0].Type
	if st, ok := t.(*ast.StarExpr); ok {
		t = st.X
	}
	switch x := t.(type) {
	case *ast.IndexExpr:
		t = x.X
	case *ast.IndexListExpr:
		t = x.X
	}
	id, ok := t.(*ast.Ident)
	return ok && id.IsExported()
}

func node(fset *token.FileSet, n ast.Node) string {
	var b bytes.Buffer
	if err := printer.Fprint(&b, fset, n); err != nil {
		return fmt.Sprintf("<%v>", err)
	}
	return strings.Join(strings.Fields(b.String()), " ")
}

func writeAll(dir string, listings map[string]string) error {
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return err
	}
	old, _ := filepath.Glob(filepath.Join(dir, "*.txt"))
	for _, f := range old {
		if _, ok := listings[filepath.Base(f)]; !ok {
			if err := os.Remove(f); err != nil {
				return err
			}
		}
	}
	for name, text := range listings {
		if err := os.WriteFile(filepath.Join(dir, name), []byte(text), 0o644); err != nil {
			return err
		}
	}
	return nil
}

// compare returns a line per listing that differs from its checked-in copy.
func compare(dir string, listings map[string]string) []string {
	var stale []string
	seen := map[string]bool{}
	for name, text := range listings {
		seen[name] = true
		old, err := os.ReadFile(filepath.Join(dir, name))
		switch {
		case err != nil:
			stale = append(stale, name+": not recorded")
		case string(old) != text:
			stale = append(stale, name+": "+firstDiff(string(old), text))
		}
	}
	files, _ := filepath.Glob(filepath.Join(dir, "*.txt"))
	for _, f := range files {
		if !seen[filepath.Base(f)] {
			stale = append(stale, filepath.Base(f)+": package no longer exists")
		}
	}
	sort.Strings(stale)
	return stale
}

// firstDiff names the first line added or removed.
func firstDiff(old, cur string) string {
	o := map[string]bool{}
	for _, l := range strings.Split(old, "\n") {
		o[l] = true
	}
	c := map[string]bool{}
	for _, l := range strings.Split(cur, "\n") {
		c[l] = true
		if !o[l] {
			return "added " + l
		}
	}
	for _, l := range strings.Split(old, "\n") {
		if !c[l] {
			return "removed " + l
		}
	}
	return "order changed"
}
