package main

import (
	"errors"
	"fmt"
	"go/token"
	"go/types"
	"os"
	"path/filepath"
	"sort"
	"strings"

	"golang.org/x/tools/go/packages"
)

// modules are the Go modules of the repository whose packages are API, as
// directories relative to the root.
var modules = []string{".", "grpcerr"}

// notAPI are path elements under which no package is API.
var notAPI = []string{"internal", "cmd", "examples", "bench", "tools", "testdata"}

// apiPackage is one public package, type-checked.
type apiPackage struct {
	name  string // the file name of its baseline and listing: mlerr, mlflow, ...
	types *types.Package
}

// loadAPI type-checks every public package of the repository at root.
func loadAPI(root string) ([]apiPackage, error) {
	var out []apiPackage
	for _, dir := range modules {
		if _, err := os.Stat(filepath.Join(root, dir, "go.mod")); err != nil {
			continue // a repository without the sub-module
		}
		pkgs, err := loadModule(filepath.Join(root, dir))
		if err != nil {
			return nil, err
		}
		out = append(out, pkgs...)
	}
	sort.Slice(out, func(i, j int) bool { return out[i].name < out[j].name })
	return out, nil
}

func loadModule(dir string) ([]apiPackage, error) {
	cfg := &packages.Config{Dir: dir, Fset: token.NewFileSet(), Mode: packages.NeedName | packages.NeedTypes | packages.NeedModule}
	loaded, err := packages.Load(cfg, "./...")
	if err != nil {
		return nil, err
	}
	var out []apiPackage
	var errs []error
	for _, p := range loaded {
		if !isAPI(p) {
			continue
		}
		for _, e := range p.Errors {
			errs = append(errs, fmt.Errorf("%s: %v", p.PkgPath, e))
		}
		out = append(out, apiPackage{name: p.Name, types: p.Types})
	}
	return out, errors.Join(errs...)
}

func isAPI(p *packages.Package) bool {
	if p.Name == "main" || p.Module == nil {
		return false
	}
	rel := strings.TrimPrefix(strings.TrimPrefix(p.PkgPath, p.Module.Path), "/")
	for _, elem := range strings.Split(rel, "/") {
		for _, bad := range notAPI {
			if elem == bad {
				return false
			}
		}
	}
	return true
}
