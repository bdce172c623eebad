package report

import (
	"errors"
	"fmt"
	"io"
	"math"
	"strings"

	"github.com/gin-securesession/securesession/bench"
)

// The README's benchmark section is the text between these markers, each
// alone on its line.
const (
	StartMarker = "<!-- bench:start -->"
	EndMarker   = "<!-- bench:end -->"
)

// ErrNoMarkers is returned by Splice when the document lacks the markers.
var ErrNoMarkers = errors.New("report: no " + StartMarker + " … " + EndMarker + " markers")

// Splice replaces what lies between the markers in doc with section.
func Splice(doc, section string) (string, error) {
	i := strings.Index(doc, StartMarker)
	j := strings.Index(doc, EndMarker)
	if i < 0 || j < i {
		return "", ErrNoMarkers
	}
	head := doc[:i+len(StartMarker)]
	return head + "\n" + strings.TrimSpace(section) + "\n" + doc[j:], nil
}

// README writes the README's benchmark section (without the markers).
// load may be nil.
func README(w io.Writer, res *bench.Results, load *bench.LoadResults) {
	p := func(format string, a ...any) { fmt.Fprintf(w, format, a...) }
	if isSmoke(res) {
		p("> **Smoke run** (fewer than 7 rounds): these figures only show that the harness works.\n\n")
	}
	p("Measured by `bash scripts/bench.sh` in the separate `bench/` module, so the compared libraries never enter this "+
		"module's dependencies: %s; %s; medians of %d rounds. Every request is a fresh `*http.Request` through the real Gin "+
		"router with the previous response's Set-Cookie fed back, as a browser does, and bare Gin serving the same routes "+
		"is measured in the same rounds, interleaved. **whole** is gin-contrib's time ÷ ours for the whole request; "+
		"**overhead** is (gin-contrib − bare Gin) ÷ (ours − bare Gin), what the session layer itself costs. The method, "+
		"min–max over rounds, CPU time, floors, scs and the load test are in [bench/RESULTS.md](bench/RESULTS.md).\n\n",
		machineLine(res.Machine), span(res.Machine), res.Config.Rounds)
	p("| backend | request | securesession | gin-contrib | bare Gin | whole | overhead | allocs (ours / gin-contrib) |\n")
	p("|---|---|---:|---:|---:|---:|---:|---:|\n")
	for i := range res.Groups {
		v := newView(&res.Groups[i])
		if v.ours == nil || v.bare == nil {
			continue
		}
		var theirs *bench.Member
		for j := range v.g.Members {
			if v.g.Members[j].Role == bench.RoleTheirs {
				theirs = &v.g.Members[j]
			}
		}
		backend := strings.TrimPrefix(v.ours.Label, "securesession ")
		ours := dur(stats(series(v.ours, wall)).med)
		bare := dur(stats(series(v.bare, wall)).med)
		oa := count(stats(series(v.ours, allocs)).med)
		if theirs == nil {
			p("| %s | %s | %s | not offered | %s | – | – | %s / – |\n", backend, kindTitle(v.g.Family, v.g.Kind), ours, bare, oa)
			continue
		}
		p("| %s | %s | %s | %s | %s | %s | %s | %s / %s |\n", backend, kindTitle(v.g.Family, v.g.Kind), ours,
			dur(stats(series(theirs, wall)).med), bare,
			ratio(stats(v.whole(theirs)).med), ratio(stats(v.overhead(theirs)).med),
			oa, count(stats(series(theirs, allocs)).med))
	}
	p("\n")

	outs := Evaluate(res)
	met, measured := 0, 0
	var missed []string
	for _, o := range outs {
		if !o.Measured {
			continue
		}
		measured++
		if o.Met {
			met++
		} else {
			missed = append(missed, fmt.Sprintf("%s %s, %s (measured %s)", o.Family, kindTitle(o.Family, o.Kind), o.Text(), ratio(o.Median)))
		}
	}
	p("Targets met: %d of %d.", met, measured)
	if len(missed) > 0 {
		p(" Missed: %s.", strings.Join(missed, "; "))
	}
	p("\n")

	if load == nil || len(load.Scenarios) == 0 {
		return
	}
	p("\nLoad test over HTTP on loopback (%d virtual users with their own cookie jars; the load generator shares the "+
		"machine), requests per second as a share of bare Gin's on the same route:\n\n", load.Connections)
	p("| server |")
	for _, s := range load.Scenarios {
		p(" %s |", s.Title)
	}
	p("\n|---|%s\n", strings.Repeat("---:|", len(load.Scenarios)))
	var names []string
	labels := map[string]string{}
	for _, s := range load.Scenarios {
		for _, sv := range s.Servers {
			if _, ok := labels[sv.Name]; !ok && sv.Role != bench.RoleBare {
				names = append(names, sv.Name)
				labels[sv.Name] = sv.Label
			}
		}
	}
	for _, n := range names {
		p("| %s |", labels[n])
		for _, s := range load.Scenarios {
			cell := "–"
			floor := math.NaN()
			for i, sv := range s.Servers {
				rps := stats(loadSeries(sv, func(r bench.LoadRun) float64 { return r.RPS })).med
				if i == 0 {
					floor = rps
				}
				if sv.Name == n {
					cell = pct(rps / floor)
				}
			}
			p(" %s |", cell)
		}
		p("\n")
	}
	if lines := loadTargetLines(load); len(lines) > 0 {
		p("\nLoad targets (a quiet machine): %s.\n", strings.Join(lines, "; "))
	}
}
