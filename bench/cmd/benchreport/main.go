// Command benchreport reads `go test -bench` output of the bench package
// (any -count) on standard input and prints markdown tables of the median
// of each benchmark: every contender with its ratio to the floors, our
// backends head to head with their matching contenders, and the targets
// of issue 6.
package main

import (
	"bufio"
	"fmt"
	"os"
	"regexp"
	"slices"
	"strconv"
	"strings"
)

type stats struct {
	ns, bytes, allocs, rt []float64
}

var line = regexp.MustCompile(`^Benchmark(\S+?)(?:-\d+)?\s+\d+\s+(.*)$`)

func main() {
	all := map[string]*stats{}
	var order []string
	sc := bufio.NewScanner(os.Stdin)
	for sc.Scan() {
		m := line.FindStringSubmatch(sc.Text())
		if m == nil {
			continue
		}
		name := m[1]
		s := all[name]
		if s == nil {
			s = &stats{}
			all[name] = s
			order = append(order, name)
		}
		f := strings.Fields(m[2])
		for i := 0; i+1 < len(f); i += 2 {
			v, err := strconv.ParseFloat(f[i], 64)
			if err != nil {
				continue
			}
			switch f[i+1] {
			case "ns/op":
				s.ns = append(s.ns, v)
			case "B/op":
				s.bytes = append(s.bytes, v)
			case "allocs/op":
				s.allocs = append(s.allocs, v)
			case "roundtrips/op":
				s.rt = append(s.rt, v)
			}
		}
	}
	if len(order) == 0 {
		fmt.Fprintln(os.Stderr, "benchreport: no benchmark lines on standard input")
		os.Exit(1)
	}
	r := report{all: all}
	r.requests(order)
	r.floors(order)
	r.headToHead()
	r.targets()
}

type report struct{ all map[string]*stats }

func median(xs []float64) float64 {
	if len(xs) == 0 {
		return 0
	}
	s := slices.Clone(xs)
	slices.Sort(s)
	if len(s)%2 == 1 {
		return s[len(s)/2]
	}
	return (s[len(s)/2-1] + s[len(s)/2]) / 2
}

func (r report) ns(contender, req string) float64 {
	if s := r.all["Requests/"+contender+"/"+req]; s != nil {
		return median(s.ns)
	}
	return 0
}

func (r report) allocs(contender, req string) float64 {
	if s := r.all["Requests/"+contender+"/"+req]; s != nil {
		return median(s.allocs)
	}
	return 0
}

// backendFloor is the floor router (bare Gin plus the backend's one
// unavoidable operation) for a contender's family.
func backendFloor(contender string) string {
	switch {
	case strings.Contains(contender, "cookie"):
		return "floor-gin+aead"
	case strings.Contains(contender, "memcache"):
		return "floor-gin+getmulti"
	case strings.Contains(contender, "sqlite"):
		return "floor-gin+select"
	}
	return ""
}

func num(v float64) string {
	switch {
	case v == 0:
		return "-"
	case v >= 100:
		return strconv.FormatFloat(v, 'f', 0, 64)
	default:
		return strconv.FormatFloat(v, 'f', 1, 64)
	}
}

func ratio(a, b float64) string {
	if a == 0 || b == 0 {
		return "-"
	}
	return strconv.FormatFloat(a/b, 'f', 2, 64) + "x"
}

func (r report) requests(order []string) {
	fmt.Println("### Every contender, three requests through a Gin router")
	fmt.Println()
	fmt.Println("Medians of the runs. `x bare Gin`: time over the bare-Gin router's on the same request. `x backend floor`: time over a bare-Gin router doing only the backend's one unavoidable operation (AEAD open, memcached GetMulti, SQLite SELECT by primary key) on Read.")
	fmt.Println()
	fmt.Println("| contender | request | ns/op | B/op | allocs/op | memcached round trips | x bare Gin | x backend floor |")
	fmt.Println("|---|---|---:|---:|---:|---:|---:|---:|")
	for _, name := range order {
		rest, ok := strings.CutPrefix(name, "Requests/")
		if !ok {
			continue
		}
		contender, req, _ := strings.Cut(rest, "/")
		s := r.all[name]
		ns := median(s.ns)
		fl := "-"
		if f := backendFloor(contender); f != "" && req == "Read" && !strings.HasPrefix(contender, "floor") {
			fl = ratio(ns, r.ns(f, "Read"))
		}
		fmt.Printf("| %s | %s | %s | %s | %s | %s | %s | %s |\n", contender, req, num(ns), num(median(s.bytes)), num(median(s.allocs)), num(median(s.rt)), ratio(ns, r.ns("bare-gin", req)), fl)
	}
	fmt.Println()
}

func (r report) floors(order []string) {
	fmt.Println("### Floors: the bare operation, no router")
	fmt.Println()
	fmt.Println("| operation | ns/op | B/op | allocs/op |")
	fmt.Println("|---|---:|---:|---:|")
	for _, name := range order {
		rest, ok := strings.CutPrefix(name, "Floor/")
		if !ok {
			continue
		}
		s := r.all[name]
		fmt.Printf("| %s | %s | %s | %s |\n", rest, num(median(s.ns)), num(median(s.bytes)), num(median(s.allocs)))
	}
	fmt.Println()
}

var pairs = []struct{ ours, theirs string }{
	{"ours-cookie", "gincontrib-cookie"},
	{"ours-cookie-nocache", "gincontrib-cookie"},
	{"ours-memcache", "gincontrib-memcached"},
	{"ours-gorm-sqlite", "gincontrib-gorm-sqlite"},
	{"ours-gorm-sqlite", "scs-sqlite3"},
}

var reqs = []string{"Login", "Read", "Write"}

func (r report) headToHead() {
	fmt.Println("### Head to head (speed-up = their time / our time; allocs = ours / theirs)")
	fmt.Println()
	fmt.Println("| ours | theirs | request | our ns/op | their ns/op | speed-up | our allocs | their allocs | alloc ratio |")
	fmt.Println("|---|---|---|---:|---:|---:|---:|---:|---:|")
	for _, p := range pairs {
		for _, q := range reqs {
			o, t := r.ns(p.ours, q), r.ns(p.theirs, q)
			if o == 0 || t == 0 {
				continue
			}
			oa, ta := r.allocs(p.ours, q), r.allocs(p.theirs, q)
			fmt.Printf("| %s | %s | %s | %s | %s | %s | %s | %s | %s |\n", p.ours, p.theirs, q, num(o), num(t), ratio(t, o), num(oa), num(ta), ratio(oa, ta))
		}
	}
	fmt.Println()
}

func (r report) targets() {
	fmt.Println("### Targets (issue 6), from these medians")
	fmt.Println()
	fmt.Println("| target | measured | met |")
	fmt.Println("|---|---:|:---:|")
	row := func(what string, measured float64, ok bool, unit string) {
		if measured == 0 || measured != measured {
			fmt.Printf("| %s | not measured | - |\n", what)
			return
		}
		mark := "no"
		if ok {
			mark = "yes"
		}
		fmt.Printf("| %s | %s%s | %s |\n", what, strconv.FormatFloat(measured, 'f', 2, 64), unit, mark)
	}
	speed := func(ours, theirs, q string) float64 {
		o, t := r.ns(ours, q), r.ns(theirs, q)
		if o == 0 {
			return 0
		}
		return t / o
	}
	slow := func(ours, floor, q string) float64 {
		f := r.ns(floor, q)
		if f == 0 {
			return 0
		}
		return r.ns(ours, q) / f
	}
	allocRatio := func(ours, theirs, q string) float64 {
		t := r.allocs(theirs, q)
		if t == 0 {
			return 0
		}
		return r.allocs(ours, q) / t
	}
	for _, q := range []string{"Read", "Write"} {
		v := speed("ours-cookie", "gincontrib-cookie", q)
		row("cookie "+q+": >= 5x faster than gin-contrib cookie", v, v >= 5, "x")
	}
	for _, q := range []string{"Read", "Write"} {
		v := allocRatio("ours-cookie", "gincontrib-cookie", q)
		row("cookie "+q+": <= 1/3 of gin-contrib cookie's allocs", v, v <= 1.0/3, "x")
	}
	v := slow("ours-cookie", "bare-gin", "Read")
	row("cookie Read: within 3x of bare Gin (cookie seen before: open-cache hit)", v, v <= 3, "x")
	for _, q := range []string{"Read", "Write"} {
		v := speed("ours-cookie-nocache", "gincontrib-cookie", q)
		row("cookie, cache off, "+q+": >= 5x faster than gin-contrib cookie", v, v >= 5, "x")
	}
	v = slow("ours-cookie-nocache", "bare-gin", "Read")
	row("cookie, cache off, Read: within 3x of bare Gin", v, v <= 3, "x")
	v = slow("ours-cookie-nocache", "floor-gin+aead", "Read")
	row("cookie, cache off, Read: within 3x of bare Gin + one AEAD open (floor-gin+aead)", v, v <= 3, "x")
	for _, q := range []string{"Read", "Write"} {
		v := speed("ours-memcache", "gincontrib-memcached", q)
		row("memcache "+q+": >= 2x faster than gin-contrib memcached", v, v >= 2, "x")
	}
	v = slow("ours-memcache", "floor-gin+getmulti", "Read")
	row("memcache Read: within 1.3x of bare Gin + one GetMulti", v, v <= 1.3, "x")
	for _, q := range []string{"Read", "Write"} {
		v := speed("ours-gorm-sqlite", "gincontrib-gorm-sqlite", q)
		row("GORM/SQLite "+q+": >= 3x faster than gin-contrib GORM", v, v >= 3, "x")
	}
	v = speed("ours-gorm-sqlite", "gincontrib-gorm-sqlite", "Login")
	row("GORM/SQLite Login: >= 2x faster than gin-contrib GORM", v, v >= 2, "x")
	for _, q := range reqs {
		v := speed("ours-gorm-sqlite", "scs-sqlite3", q)
		row("GORM/SQLite "+q+": faster than scs sqlite3store", v, v > 1, "x")
	}
	fmt.Println()
}
