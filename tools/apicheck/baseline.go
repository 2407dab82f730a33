package main

import (
	"bytes"
	"fmt"
	"go/token"
	"go/types"
	"os"
	"path/filepath"
	"strings"

	"golang.org/x/tools/go/gcexportdata"
)

func baselineDir(root string) string { return filepath.Join(root, "api", "baseline") }

// writeBaseline records each package's API as export data,
// api/baseline/<name>.x, replacing the baseline of packages that are gone.
func writeBaseline(root string, pkgs []apiPackage) error {
	dir := baselineDir(root)
	if err := os.RemoveAll(dir); err != nil {
		return err
	}
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return err
	}
	for _, p := range pkgs {
		var buf bytes.Buffer
		if err := gcexportdata.Write(&buf, token.NewFileSet(), p.types); err != nil {
			return fmt.Errorf("%s: %v", p.types.Path(), err)
		}
		data := append([]byte(p.types.Path()+"\n"), buf.Bytes()...)
		if err := os.WriteFile(filepath.Join(dir, p.name+".x"), data, 0o644); err != nil {
			return err
		}
	}
	return nil
}

// readBaseline reads the recorded packages, keyed by name.
func readBaseline(root string) (map[string]*types.Package, error) {
	files, err := filepath.Glob(filepath.Join(baselineDir(root), "*.x"))
	if err != nil || len(files) == 0 {
		return nil, fmt.Errorf("no baseline in %s (record one with make api-baseline): %v", baselineDir(root), err)
	}
	out := map[string]*types.Package{}
	for _, f := range files {
		pkg, err := readExport(f)
		if err != nil {
			return nil, fmt.Errorf("%s: %v", f, err)
		}
		out[strings.TrimSuffix(filepath.Base(f), ".x")] = pkg
	}
	return out, nil
}

// readExport reads a file written by writeBaseline: the package path on
// the first line, then its export data.
func readExport(file string) (*types.Package, error) {
	data, err := os.ReadFile(file)
	if err != nil {
		return nil, err
	}
	path, export, ok := bytes.Cut(data, []byte("\n"))
	if !ok {
		return nil, fmt.Errorf("no package path")
	}
	return gcexportdata.Read(bytes.NewReader(export), token.NewFileSet(), map[string]*types.Package{}, string(path))
}
