package main

import (
	"bytes"
	"fmt"
	"go/types"
	"os"
	"path/filepath"
	"sort"
	"strings"
)

// listing prints the exported API of p, one declaration per line, sorted:
// constants, variables, functions, types (generic ones with their type
// parameters), exported fields, methods of interfaces and methods.
func listing(p *types.Package) []byte {
	qual := func(other *types.Package) string {
		if other == p {
			return ""
		}
		return other.Name()
	}
	var lines []string
	scope := p.Scope()
	for _, name := range scope.Names() {
		obj := scope.Lookup(name)
		if !obj.Exported() {
			continue
		}
		lines = append(lines, objectLines(obj, qual)...)
	}
	sort.Strings(lines)
	var buf bytes.Buffer
	fmt.Fprintf(&buf, "package %s // %s\n", p.Name(), p.Path())
	for _, l := range lines {
		buf.WriteString(l + "\n")
	}
	return buf.Bytes()
}

func objectLines(obj types.Object, qual types.Qualifier) []string {
	if c, ok := obj.(*types.Const); ok {
		return []string{constLine(c, qual)}
	}
	tn, ok := obj.(*types.TypeName)
	if !ok {
		return []string{types.ObjectString(obj, qual)}
	}
	if tn.IsAlias() {
		return []string{"type " + tn.Name() + " = " + types.TypeString(types.Unalias(tn.Type()), qual)}
	}
	named := tn.Type().(*types.Named)
	lines := []string{typeHeader(named, qual)}
	lines = append(lines, memberLines(named, qual)...)
	for i := 0; i < named.NumMethods(); i++ {
		if m := named.Method(i); m.Exported() {
			lines = append(lines, types.ObjectString(m, qual))
		}
	}
	return lines
}

// constLine is "const C T = value", or "const C = value" when untyped.
func constLine(c *types.Const, qual types.Qualifier) string {
	if b, ok := c.Type().(*types.Basic); ok && b.Info()&types.IsUntyped != 0 {
		return "const " + c.Name() + " = " + c.Val().ExactString()
	}
	return types.ObjectString(c, qual) + " = " + c.Val().ExactString()
}

// typeHeader is "type T[P C] kind": struct and interface members follow on
// lines of their own.
func typeHeader(named *types.Named, qual types.Qualifier) string {
	head := "type " + named.Obj().Name() + typeParams(named, qual) + " "
	switch u := named.Underlying().(type) {
	case *types.Struct:
		return head + "struct"
	case *types.Interface:
		if !u.IsMethodSet() {
			return head + types.TypeString(u, qual)
		}
		return head + "interface"
	default:
		return head + types.TypeString(u, qual)
	}
}

func typeParams(named *types.Named, qual types.Qualifier) string {
	tp := named.TypeParams()
	if tp.Len() == 0 {
		return ""
	}
	var parts []string
	for i := 0; i < tp.Len(); i++ {
		p := tp.At(i)
		parts = append(parts, p.Obj().Name()+" "+types.TypeString(p.Constraint(), qual))
	}
	return "[" + strings.Join(parts, ", ") + "]"
}

// memberLines lists the exported fields of a struct and the methods of an
// interface, as "field T.F type" and "method T.M(sig)".
func memberLines(named *types.Named, qual types.Qualifier) []string {
	var lines []string
	name := named.Obj().Name()
	switch u := named.Underlying().(type) {
	case *types.Struct:
		for i := 0; i < u.NumFields(); i++ {
			if f := u.Field(i); f.Exported() {
				lines = append(lines, "field "+name+"."+f.Name()+" "+types.TypeString(f.Type(), qual))
			}
		}
	case *types.Interface:
		for i := 0; i < u.NumMethods(); i++ {
			if m := u.Method(i); m.Exported() {
				lines = append(lines, "method "+name+"."+m.Name()+strings.TrimPrefix(types.TypeString(m.Type(), qual), "func"))
			}
		}
	}
	return lines
}

func listingFile(root, name string) string { return filepath.Join(root, "api", name+".txt") }

// writeListings rewrites api/<name>.txt for every package.
func writeListings(root string, pkgs []apiPackage) error {
	for _, p := range pkgs {
		if err := os.WriteFile(listingFile(root, p.name), listing(p.types), 0o644); err != nil {
			return err
		}
	}
	return nil
}

// staleListings names the listings that differ from the code.
func staleListings(root string, pkgs []apiPackage) []string {
	var stale []string
	for _, p := range pkgs {
		got, err := os.ReadFile(listingFile(root, p.name))
		if err != nil || !bytes.Equal(got, listing(p.types)) {
			stale = append(stale, "api/"+p.name+".txt")
		}
	}
	return stale
}
