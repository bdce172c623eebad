// Package report turns the results of cmd/benchrun and cmd/loadtest into
// bench/RESULTS.md and the README's benchmark section, and checks the
// targets.
package report

import (
	"fmt"
	"io"
	"math"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/gin-securesession/securesession/bench"
)

// Target is a goal for one of our backends against another contender on
// one request kind, checked on the medians of one run.
type Target struct {
	Family, Kind string
	Theirs       string  // the contender compared with the group's first "ours" member
	Allocs       bool    // false: session-overhead ratio theirs/ours >= Want; true: allocations ours/theirs <= Want
	Slowdown     bool    // Theirs is ours with a feature on: its whole-request time over ours <= Want
	Want         float64 // the bound
}

// Text says the target in words.
func (t Target) Text() string {
	theirs := t.Theirs
	if c, ok := bench.ContenderByName(t.Theirs); ok {
		theirs = c.Label
	}
	if t.Allocs {
		return "allocs ≤ " + fraction(t.Want) + " of " + theirs + "'s"
	}
	if t.Slowdown {
		return theirs + " within " + strconv.FormatFloat(t.Want, 'f', -1, 64) + "× of it (whole request)"
	}
	return "overhead ≥ " + strconv.FormatFloat(t.Want, 'f', -1, 64) + "× " + theirs
}

func fraction(x float64) string {
	if math.Abs(x-1.0/3) < 1e-9 {
		return "⅓"
	}
	return strconv.FormatFloat(x, 'g', 3, 64)
}

// Targets are the goals printed beside the results.
var Targets = []Target{
	{bench.FamilyCookie, bench.KindLogin, "gincontrib-cookie", false, false, 3},
	{bench.FamilyCookie, bench.KindReadFresh, "gincontrib-cookie", false, false, 10},
	{bench.FamilyCookie, bench.KindRead, "gincontrib-cookie", false, false, 15},
	{bench.FamilyCookie, bench.KindWrite, "gincontrib-cookie", false, false, 8},
	{bench.FamilyCookie, bench.KindReadFresh, "gincontrib-cookie", true, false, 1.0 / 3},
	{bench.FamilyCookie, bench.KindRead, "gincontrib-cookie", true, false, 1.0 / 3},
	{bench.FamilyCookie, bench.KindWrite, "gincontrib-cookie", true, false, 1.0 / 3},
	{Family: bench.FamilyCookie, Kind: bench.KindRead, Theirs: "ours-cookie-shared-memcache", Slowdown: true, Want: 1.2},
	{bench.FamilyMemcached, bench.KindLogin, "gincontrib-memcached", false, false, 1.0},
	{bench.FamilyMemcached, bench.KindRead, "gincontrib-memcached", false, false, 1.4},
	{bench.FamilyMemcached, bench.KindWrite, "gincontrib-memcached", false, false, 1.5},
	{bench.FamilyMemcached, bench.KindLogout, "gincontrib-memcached", false, false, 1.1},
	{bench.FamilyGORM, bench.KindLogin, "gincontrib-gorm-sqlite", false, false, 1.5},
	{bench.FamilyGORM, bench.KindLogin, "scs-sqlite3store", false, false, 1.0},
	{bench.FamilyGORM, bench.KindRead, "gincontrib-gorm-sqlite", false, false, 3},
	{bench.FamilyGORM, bench.KindWrite, "gincontrib-gorm-sqlite", false, false, 3.5},
}

// Outcome is a Target checked against a run.
type Outcome struct {
	Target
	Measured  bool
	Median    float64
	Lo, Hi    float64 // min and max over rounds
	RoundsMet int
	Rounds    int
	Met       bool
	OursName  string
}

// Evaluate checks every target against res.
func Evaluate(res *bench.Results) []Outcome {
	var out []Outcome
	for _, t := range Targets {
		o := Outcome{Target: t}
		v, ok := find(res, t.Family, t.Kind)
		if ok {
			if m := v.member(t.Theirs); m != nil && v.ours != nil {
				var xs []float64
				switch {
				case t.Allocs:
					xs = v.perRound(m, func(o, s bench.Sample) float64 { return o.Allocs / s.Allocs })
				case t.Slowdown:
					xs = v.whole(m)
				default:
					xs = v.overhead(m)
				}
				s := stats(xs)
				if s.n > 0 {
					o.Measured, o.Median, o.Lo, o.Hi, o.Rounds, o.OursName = true, s.med, s.lo, s.hi, s.n, v.ours.Name
					for _, x := range xs {
						if meets(t, x) {
							o.RoundsMet++
						}
					}
					o.Met = meets(t, s.med)
				}
			}
		}
		out = append(out, o)
	}
	return out
}

func meets(t Target, x float64) bool {
	if math.IsNaN(x) {
		return false
	}
	if t.Allocs || t.Slowdown {
		return x <= t.Want
	}
	return x >= t.Want
}

// view is one group with its reference members found.
type view struct {
	g    *bench.Group
	ours *bench.Member // the first "ours" member: the reference of the ratios
	bare *bench.Member
}

func find(res *bench.Results, family, kind string) (view, bool) {
	for i := range res.Groups {
		g := &res.Groups[i]
		if g.Family == family && g.Kind == kind {
			return newView(g), true
		}
	}
	return view{}, false
}

func newView(g *bench.Group) view {
	v := view{g: g}
	for i := range g.Members {
		m := &g.Members[i]
		switch {
		case m.Role == bench.RoleOurs && v.ours == nil:
			v.ours = m
		case m.Role == bench.RoleBare:
			v.bare = m
		}
	}
	return v
}

func (v view) member(name string) *bench.Member {
	for i := range v.g.Members {
		if v.g.Members[i].Name == name {
			return &v.g.Members[i]
		}
	}
	return nil
}

// perRound applies f(ours, m) to each round.
func (v view) perRound(m *bench.Member, f func(ours, m bench.Sample) float64) []float64 {
	var xs []float64
	for r := range min(len(m.Rounds), len(v.ours.Rounds)) {
		xs = append(xs, f(v.ours.Rounds[r], m.Rounds[r]))
	}
	return xs
}

// whole is m's time over ours, per round.
func (v view) whole(m *bench.Member) []float64 {
	return v.perRound(m, func(o, s bench.Sample) float64 { return s.WallNs / o.WallNs })
}

// overhead is (m − bare) / (ours − bare), per round; NaN in a round where
// ours is not slower than bare Gin (the ratio means nothing there).
func (v view) overhead(m *bench.Member) []float64 {
	if v.bare == nil {
		return nil
	}
	var xs []float64
	for r := range min(len(m.Rounds), len(v.ours.Rounds), len(v.bare.Rounds)) {
		b := v.bare.Rounds[r].WallNs
		d := v.ours.Rounds[r].WallNs - b
		if d <= 0 {
			xs = append(xs, math.NaN())
			continue
		}
		xs = append(xs, (m.Rounds[r].WallNs-b)/d)
	}
	return xs
}

type stat struct {
	med, lo, hi float64
	n           int
}

// stats is the median, min and max of xs, NaNs left out.
func stats(xs []float64) stat {
	s := slices.DeleteFunc(slices.Clone(xs), math.IsNaN)
	if len(s) == 0 {
		return stat{med: math.NaN(), lo: math.NaN(), hi: math.NaN()}
	}
	slices.Sort(s)
	med := s[len(s)/2]
	if len(s)%2 == 0 {
		med = (s[len(s)/2-1] + s[len(s)/2]) / 2
	}
	return stat{med: med, lo: s[0], hi: s[len(s)-1], n: len(s)}
}

func series(m *bench.Member, f func(bench.Sample) float64) []float64 {
	xs := make([]float64, len(m.Rounds))
	for i, s := range m.Rounds {
		xs[i] = f(s)
	}
	return xs
}

func wall(s bench.Sample) float64   { return s.WallNs }
func cpu(s bench.Sample) float64    { return s.CPUNs }
func bytes(s bench.Sample) float64  { return s.Bytes }
func allocs(s bench.Sample) float64 { return s.Allocs }
func trips(s bench.Sample) float64 {
	if s.RoundTrips == nil {
		return math.NaN()
	}
	return *s.RoundTrips
}

// Formatting.

func dur(ns float64) string {
	if math.IsNaN(ns) {
		return "–"
	}
	us := ns / 1000
	switch {
	case us < 10:
		return strconv.FormatFloat(us, 'f', 2, 64) + " µs"
	case us < 100:
		return strconv.FormatFloat(us, 'f', 1, 64) + " µs"
	case us < 10000:
		return strconv.FormatFloat(us, 'f', 0, 64) + " µs"
	default:
		return strconv.FormatFloat(us/1000, 'f', 1, 64) + " ms"
	}
}

func ratio(x float64) string {
	if math.IsNaN(x) || math.IsInf(x, 0) {
		return "n/a"
	}
	if math.Abs(x) < 10 {
		return strconv.FormatFloat(x, 'f', 2, 64) + "×"
	}
	return strconv.FormatFloat(x, 'f', 1, 64) + "×"
}

func count(x float64) string {
	if math.IsNaN(x) {
		return "–"
	}
	if x >= 100 {
		return strconv.FormatFloat(x, 'f', 0, 64)
	}
	return strconv.FormatFloat(x, 'f', 1, 64)
}

// withRange is "median (min–max)".
func withRange(s stat, f func(float64) string) string {
	if s.n == 0 {
		return f(math.NaN())
	}
	if s.n == 1 || f(s.lo) == f(s.hi) {
		return f(s.med)
	}
	lo, hi := f(s.lo), f(s.hi)
	if i := strings.LastIndexByte(lo, ' '); i > 0 && strings.HasSuffix(hi, lo[i:]) {
		lo = lo[:i] // "0.83–0.90 µs", not "0.83 µs–0.90 µs"
	} else if strings.HasSuffix(lo, "×") && strings.HasSuffix(hi, "×") {
		lo = strings.TrimSuffix(lo, "×")
	}
	return f(s.med) + " (" + lo + "–" + hi + ")"
}

var familyTitle = map[string]string{
	bench.FamilyCookie:    "Cookie backend",
	bench.FamilyMemcached: "memcached backend",
	bench.FamilyGORM:      "GORM backend on SQLite",
}

// kindTitle names a request kind in a family's tables: the cookie
// backend's repeated read is labelled as the cache hit it is.
func kindTitle(family, name string) string {
	if name == bench.KindRead {
		if family == bench.FamilyCookie {
			return "read, warm cache (cookie seen before: cache hit)"
		}
		return "read"
	}
	if k, ok := bench.KindByName(name); ok {
		return k.Title
	}
	return name
}

// Method is the paragraph that says how the figures were measured.
func Method(res *bench.Results) string {
	return fmt.Sprintf("Each request is a fresh `*http.Request` served by the contender's real Gin router "+
		"(`ServeHTTP`, with a minimal ResponseWriter), and the response's Set-Cookie is fed back into that browser's next "+
		"request, as a cookie jar would; the kinds that need a session per operation (a read with a never-seen cookie, touch, "+
		"logout, log out everywhere) log their browsers in beforehand, untimed. Bare Gin serving the same routes with no session "+
		"layer is measured in every group (backend × request kind). Each of the %d rounds measures every group, in a shuffled "+
		"order, and splits each member's operations into %d slices sent in turn with the other members' slices, in a new random "+
		"order for each slice, so that load from elsewhere on the machine hits every member alike. Times are medians over the "+
		"rounds with the min–max beside them; ratios are taken per round (the members ran interleaved) and their median "+
		"reported: **whole** = their time ÷ ours for the whole request, **overhead** = (theirs − bare Gin) ÷ (ours − bare Gin), "+
		"what the session layer itself costs. CPU is the process's user + system time over the same batches (all threads, so "+
		"garbage collection is included; memcached's own CPU is not); B/op and allocs/op come from `runtime.MemStats` over the "+
		"batches. Touch moves an injected clock past the touch interval. memcached runs on a free loopback port, started by "+
		"the harness; SQLite files are in WAL mode in a temporary directory.", res.Config.Rounds, res.Config.Slices)
}

func isSmoke(res *bench.Results) bool { return res.Config.Rounds < 7 }

func runLine(res *bench.Results) string {
	size := res.Config.BenchTime + " per member per round"
	if res.Config.Ops > 0 {
		size = strconv.Itoa(res.Config.Ops) + " operations per member per round"
	}
	return fmt.Sprintf("%d rounds, %s in %d slices, seed %d", res.Config.Rounds, size, res.Config.Slices, res.Config.Seed)
}

func machineLine(m bench.Machine) string {
	s := fmt.Sprintf("%d cores (GOMAXPROCS %d), %s, %s %s", m.Cores, m.GOMAXPROCS, m.CPU, m.Go, m.OSArch)
	if m.Commit != "" {
		s += ", commit " + m.Commit
	}
	return s
}

func span(m bench.Machine) string {
	return fmt.Sprintf("%s – %s UTC, load average %s at start, %s at end",
		m.Started.Format("2006-01-02 15:04"), m.Finished.Format("15:04"), m.LoadStart, m.LoadEnd)
}

// Render writes RESULTS.md. load may be nil.
func Render(w io.Writer, res *bench.Results, load *bench.LoadResults) {
	p := func(format string, a ...any) { fmt.Fprintf(w, format, a...) }
	p("# securesession benchmarks\n\n")
	p("Generated by `bash scripts/bench.sh` from one run; do not edit by hand. Raw data: `results.json`%s.\n\n", map[bool]string{true: " and `load.json`", false: ""}[load != nil])
	p("- **Machine:** %s.\n", machineLine(res.Machine))
	p("- **In-process run:** %s; %s.\n", span(res.Machine), runLine(res))
	if load != nil {
		p("- **Load test:** %s.\n", span(load.Machine))
	}
	for _, s := range res.Skipped {
		p("- **Left out:** %s.\n", s)
	}
	p("\n")
	if isSmoke(res) {
		p("> **Smoke run** (fewer than 7 rounds): these figures only show that the harness works. They are not results.\n\n")
	}
	p("## Method\n\n%s\n\n", Method(res))
	p("Request kinds (one operation each):\n\n")
	for _, k := range bench.Kinds {
		p("- **%s**: %s.\n", k.Title, k.Doc)
	}
	p("\n")

	renderTargets(w, Evaluate(res))

	for _, fam := range bench.Families {
		var views []view
		for i := range res.Groups {
			if res.Groups[i].Family == fam {
				views = append(views, newView(&res.Groups[i]))
			}
		}
		if len(views) == 0 {
			continue
		}
		p("## %s\n\n", familyTitle[fam])
		for _, v := range views {
			renderGroup(w, v)
		}
	}
	renderFloors(w, res)
	if load != nil {
		renderLoad(w, load)
	}
}

func renderTargets(w io.Writer, outs []Outcome) {
	p := func(format string, a ...any) { fmt.Fprintf(w, format, a...) }
	p("## Targets\n\n")
	p("Checked on the median of the per-round ratios; *rounds* says in how many rounds the ratio alone would meet it.\n\n")
	p("| backend | request | target | measured: median (min–max) | rounds | met |\n|---|---|---|---:|---:|:---:|\n")
	for _, o := range outs {
		if !o.Measured {
			p("| %s | %s | %s | not measured | – | – |\n", o.Family, kindTitle(o.Family, o.Kind), o.Text())
			continue
		}
		f := ratio
		if o.Allocs {
			f = func(x float64) string { return strconv.FormatFloat(x, 'f', 3, 64) + "×" }
		}
		p("| %s | %s | %s | %s | %d/%d | %s |\n", o.Family, kindTitle(o.Family, o.Kind), o.Text(),
			withRange(stat{o.Median, o.Lo, o.Hi, o.Rounds}, f), o.RoundsMet, o.Rounds, metWord(o.Met))
	}
	p("\n")
}

func metWord(met bool) string {
	if met {
		return "met"
	}
	return "**missed**"
}

func renderGroup(w io.Writer, v view) {
	p := func(format string, a ...any) { fmt.Fprintf(w, format, a...) }
	hasTrips := false
	for _, m := range v.g.Members {
		if len(m.Rounds) > 0 && m.Rounds[0].RoundTrips != nil {
			hasTrips = true
		}
	}
	p("### %s\n\n", kindTitle(v.g.Family, v.g.Kind))
	p("| contender | wall/op | CPU/op | B/op | allocs/op |")
	sep := "|---|---:|---:|---:|---:|"
	if hasTrips {
		p(" memcached round trips/op |")
		sep += "---:|"
	}
	p(" whole: theirs ÷ ours | overhead: theirs ÷ ours | target |\n%s---:|---:|---|\n", sep)
	outs := Evaluate(&bench.Results{Groups: []bench.Group{*v.g}})
	for i := range v.g.Members {
		m := &v.g.Members[i]
		name := m.Label
		if m == v.ours {
			name = "**" + name + "**"
		}
		p("| %s | %s | %s | %s | %s |", name,
			withRange(stats(series(m, wall)), dur), dur(stats(series(m, cpu)).med),
			count(stats(series(m, bytes)).med), count(stats(series(m, allocs)).med))
		if hasTrips {
			p(" %s |", count(stats(series(m, trips)).med))
		}
		wholeS, overS := "–", "–"
		switch {
		case m == v.ours:
			wholeS, overS = "reference", "reference"
		case m.Role == bench.RoleBare || v.ours == nil:
		case m.Role == bench.RoleFloor:
			wholeS = "floor"
		default:
			wholeS = withRange(stats(v.whole(m)), ratio)
			overS = withRange(stats(v.overhead(m)), ratio)
		}
		var tgt []string
		for _, o := range outs {
			if o.Theirs == m.Name && o.Measured {
				tgt = append(tgt, o.Text()+": "+metWord(o.Met))
			}
		}
		p(" %s | %s | %s |\n", wholeS, overS, strings.Join(tgt, "; "))
	}
	p("\n")
}

func renderFloors(w io.Writer, res *bench.Results) {
	var rows []string
	for i := range res.Groups {
		v := newView(&res.Groups[i])
		if v.ours == nil {
			continue
		}
		for j := range v.g.Members {
			m := &v.g.Members[j]
			if m.Role != bench.RoleFloor {
				continue
			}
			over := v.perRound(m, func(o, f bench.Sample) float64 { return o.WallNs / f.WallNs })
			diff := v.perRound(m, func(o, f bench.Sample) float64 { return o.WallNs - f.WallNs })
			rows = append(rows, fmt.Sprintf("| %s | %s | %s | %s | %s | %s | %s |", v.g.Family, kindTitle(v.g.Family, v.g.Kind), m.Label,
				dur(stats(series(m, wall)).med), dur(stats(series(v.ours, wall)).med), withRange(stats(over), ratio), dur(stats(diff).med)))
		}
	}
	if len(rows) == 0 {
		return
	}
	fmt.Fprintf(w, "## Floors\n\nA floor is bare Gin plus the one backend operation a request cannot avoid, with no session layer: how close to it the session layer comes.\n\n")
	fmt.Fprintf(w, "| backend | request | floor | floor wall/op | ours wall/op | ours ÷ floor | ours − floor |\n|---|---|---|---:|---:|---:|---:|\n")
	for _, r := range rows {
		fmt.Fprintln(w, r)
	}
	fmt.Fprintln(w)
}

func renderLoad(w io.Writer, load *bench.LoadResults) {
	p := func(format string, a ...any) { fmt.Fprintf(w, format, a...) }
	p("## Load test over real HTTP on 127.0.0.1\n\n")
	p("A closed loop of %d virtual users, each on its own keep-alive connection with its own cookie jar (logged in before the run; "+
		"every Set-Cookie fed back), up to %d requests or %s per run, %s per server and scenario, interleaved; medians of the "+
		"runs, min–max of requests per second beside them. Load generator and servers share the machine's cores, so cheap "+
		"servers are held back by the client as much as by themselves.\n\n", load.Connections, load.Requests, load.Limit, plural(load.Runs, "run"))
	for _, s := range load.Scenarios {
		p("### %s\n\n", s.Title)
		p("| server | requests/run | req/s | %% of bare Gin | p50 | p90 | p99 |\n|---|---:|---:|---:|---:|---:|---:|\n")
		floor := math.NaN()
		for i, sv := range s.Servers {
			rps := stats(loadSeries(sv, func(r bench.LoadRun) float64 { return r.RPS }))
			if i == 0 {
				floor = rps.med
			}
			p("| %s | %s | %s | %s | %s | %s | %s |\n", sv.Label,
				count(stats(loadSeries(sv, func(r bench.LoadRun) float64 { return float64(r.Requests) })).med),
				withRange(rps, func(x float64) string { return strconv.FormatFloat(x, 'f', 0, 64) }),
				pct(rps.med/floor),
				latency(sv, func(r bench.LoadRun) time.Duration { return r.P50 }),
				latency(sv, func(r bench.LoadRun) time.Duration { return r.P90 }),
				latency(sv, func(r bench.LoadRun) time.Duration { return r.P99 }))
		}
		p("\n")
	}
	for _, s := range load.Skipped {
		p("Left out: %s.\n\n", s)
	}
	if lines := loadTargetLines(load); len(lines) > 0 {
		p("Load targets (a quiet machine): %s.\n\n", strings.Join(lines, "; "))
	}
}

// loadTargets are what the cookie backend must keep of bare Gin's
// requests per second under the load test, on a quiet machine.
var loadTargets = []struct {
	scenario, server string
	min              float64
}{
	{"read", "ours-cookie", 0.90},
	{"write", "ours-cookie", 0.70},
}

// loadTargetLines says of each load target the share measured (the
// median run's requests per second over bare Gin's) and whether it is met.
func loadTargetLines(load *bench.LoadResults) []string {
	var lines []string
	for _, t := range loadTargets {
		for _, sc := range load.Scenarios {
			if sc.Name != t.scenario || len(sc.Servers) == 0 {
				continue
			}
			bare := stats(loadSeries(sc.Servers[0], func(r bench.LoadRun) float64 { return r.RPS })).med
			for _, sv := range sc.Servers {
				if sv.Name != t.server {
					continue
				}
				got := stats(loadSeries(sv, func(r bench.LoadRun) float64 { return r.RPS })).med / bare
				verdict := "met"
				if !(got >= t.min) {
					verdict = "**missed**"
				}
				lines = append(lines, fmt.Sprintf("%s on %s ≥ %s of bare Gin: %s, %s", sv.Label, sc.Name, pct(t.min), pct(got), verdict))
			}
		}
	}
	return lines
}

func loadSeries(s bench.LoadServer, f func(bench.LoadRun) float64) []float64 {
	xs := make([]float64, len(s.Runs))
	for i, r := range s.Runs {
		xs[i] = f(r)
	}
	return xs
}

func latency(s bench.LoadServer, f func(bench.LoadRun) time.Duration) string {
	return dur(stats(loadSeries(s, func(r bench.LoadRun) float64 { return float64(f(r)) })).med)
}

func plural(n int, word string) string {
	if n == 1 {
		return "1 " + word
	}
	return strconv.Itoa(n) + " " + word + "s"
}

func pct(x float64) string {
	if math.IsNaN(x) {
		return "–"
	}
	return strconv.FormatFloat(100*x, 'f', 0, 64) + "%"
}
