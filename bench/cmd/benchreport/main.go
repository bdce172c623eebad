// Command benchreport writes bench/RESULTS.md from the JSON of
// cmd/benchrun (and of cmd/loadtest, if given) and, with -readme, replaces
// the README's benchmark section between the markers
//
//	<!-- bench:start -->
//	<!-- bench:end -->
//
// When the README has no markers it says so and changes nothing (the
// section is still written to -section, if given).
//
//	go run ./cmd/benchreport -results results.json -load load.json -o RESULTS.md -readme ../README.md
package main

import (
	"bytes"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"os"

	"github.com/gin-securesession/securesession/bench"
	"github.com/gin-securesession/securesession/bench/report"
)

func main() {
	resultsPath := flag.String("results", "results.json", "cmd/benchrun's JSON")
	loadPath := flag.String("load", "", "cmd/loadtest's JSON (optional)")
	out := flag.String("o", "RESULTS.md", "where to write the full tables")
	readme := flag.String("readme", "", "README to update between the markers (optional)")
	section := flag.String("section", "", "also write the README section to this file (optional)")
	flag.Parse()
	if err := run(*resultsPath, *loadPath, *out, *readme, *section); err != nil {
		fmt.Fprintln(os.Stderr, "benchreport:", err)
		os.Exit(1)
	}
}

func readJSON(path string, v any) error {
	b, err := os.ReadFile(path)
	if err != nil {
		return err
	}
	if err := json.Unmarshal(b, v); err != nil {
		return fmt.Errorf("%s: %w", path, err)
	}
	return nil
}

func run(resultsPath, loadPath, out, readme, sectionPath string) error {
	var res bench.Results
	if err := readJSON(resultsPath, &res); err != nil {
		return err
	}
	var load *bench.LoadResults
	if loadPath != "" {
		load = new(bench.LoadResults)
		if err := readJSON(loadPath, load); err != nil {
			return err
		}
	}
	var buf bytes.Buffer
	report.Render(&buf, &res, load)
	if err := os.WriteFile(out, buf.Bytes(), 0o644); err != nil {
		return err
	}
	buf.Reset()
	report.README(&buf, &res, load)
	if sectionPath != "" {
		if err := os.WriteFile(sectionPath, buf.Bytes(), 0o644); err != nil {
			return err
		}
	}
	if readme == "" {
		return nil
	}
	doc, err := os.ReadFile(readme)
	if err != nil {
		return err
	}
	updated, err := report.Splice(string(doc), buf.String())
	if errors.Is(err, report.ErrNoMarkers) {
		fmt.Fprintf(os.Stderr, "benchreport: %s has no %s … %s markers; left unchanged\n", readme, report.StartMarker, report.EndMarker)
		return nil
	}
	if err != nil {
		return err
	}
	return os.WriteFile(readme, []byte(updated), 0o644)
}
