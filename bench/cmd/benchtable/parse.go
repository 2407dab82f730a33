package main

import (
	"encoding/csv"
	"fmt"
	"io"
	"regexp"
	"strconv"
	"strings"
)

// stat is benchstat's summary of one metric of one benchmark: the median of
// the runs and its 95% confidence interval, as benchstat prints it ("4%",
// "∞" with too few runs, "" when it has none).
type stat struct {
	Value float64
	CI    string
}

// stats maps a benchmark name (without the -GOMAXPROCS suffix) to its
// metrics by unit ("mlerr/peer", "peer-allocs/op", ...).
type stats map[string]map[string]stat

var procsSuffix = regexp.MustCompile(`-\d+$`)

// parseCSV reads benchstat's CSV format: tables separated by blank lines,
// each with a header row naming the input file, a row ",UNIT,CI", then one
// row per benchmark "NAME,VALUE,CI" and a closing "geomean" row.
func parseCSV(r io.Reader) (stats, error) {
	cr := csv.NewReader(r)
	cr.FieldsPerRecord = -1
	out := stats{}
	unit := ""
	for line := 1; ; line++ {
		rec, err := cr.Read()
		if err == io.EOF {
			return out, nil
		}
		if err != nil {
			return nil, fmt.Errorf("reading the CSV: %w", err)
		}
		if len(rec) < 2 {
			continue
		}
		name := strings.TrimSpace(rec[0])
		switch {
		case name == "" && len(rec) >= 3 && rec[2] == "CI":
			unit = rec[1]
			continue
		case name == "" || name == "geomean":
			continue
		}
		if unit == "" {
			return nil, fmt.Errorf("record %d: benchmark %q before any unit row", line, name)
		}
		v, err := strconv.ParseFloat(rec[1], 64)
		if err != nil {
			return nil, fmt.Errorf("record %d: %s %s: value %q is not a number", line, name, unit, rec[1])
		}
		ci := ""
		if len(rec) >= 3 {
			ci = rec[2]
		}
		name = procsSuffix.ReplaceAllString(name, "")
		if out[name] == nil {
			out[name] = map[string]stat{}
		}
		out[name][unit] = stat{Value: v, CI: ci}
	}
}
