package bench

import (
	"errors"
	"fmt"
	"io"
	"math/rand/v2"
	"runtime"
	"slices"
	"time"
)

// Config says how long and how often to measure.
type Config struct {
	// Rounds is how many times every group is measured; the report gives
	// medians and the min–max over rounds. At least 7 for results.
	Rounds int
	// BenchTime is the measured time per member of a group per round.
	BenchTime time.Duration
	// Ops, when positive, replaces BenchTime with a fixed number of
	// operations per member per round (a smoke run).
	Ops int
	// Slices splits each member's round into this many batches, sent in
	// turn with the other members' batches (in a new random order for each
	// slice), so that a burst of load from elsewhere hits every member of
	// a group alike.
	Slices int
	// Seed seeds the shuffles; 0 picks one (recorded in the results).
	Seed uint64
	// Match, if set, keeps the groups (family/kind) it returns true for.
	Match func(family, kind string) bool
	// Log receives progress lines; nil discards them.
	Log io.Writer
}

// Results is one run: every group's members, each with one Sample per
// round. It is what cmd/benchrun writes as JSON and cmd/benchreport reads.
type Results struct {
	Machine Machine  `json:"machine"`
	Config  RunInfo  `json:"config"`
	Skipped []string `json:"skipped,omitempty"` // contenders left out, and why
	Groups  []Group  `json:"groups"`
}

// RunInfo records the Config a run used.
type RunInfo struct {
	Rounds    int    `json:"rounds"`
	BenchTime string `json:"bench_time,omitempty"`
	Ops       int    `json:"ops,omitempty"`
	Slices    int    `json:"slices"`
	Seed      uint64 `json:"seed"`
}

// Group is one family and request kind: the members measured together.
type Group struct {
	Family  string   `json:"family"`
	Kind    string   `json:"kind"`
	Members []Member `json:"members"`
}

// Member is one contender's measurements in a group.
type Member struct {
	Name   string   `json:"name"`
	Label  string   `json:"label"`
	Role   Role     `json:"role"`
	Rounds []Sample `json:"rounds"`
}

// Sample is one member's round: totals over its batches, per operation.
type Sample struct {
	Ops    int     `json:"ops"`
	WallNs float64 `json:"wall_ns"` // wall-clock time per operation
	CPUNs  float64 `json:"cpu_ns"`  // CPU time of the whole process (all threads, GC included) per operation
	Bytes  float64 `json:"bytes"`   // heap bytes allocated per operation
	Allocs float64 `json:"allocs"`  // heap allocations per operation
	// RoundTrips per operation to memcached, for the contenders that count them.
	RoundTrips *float64 `json:"round_trips,omitempty"`
}

type cell struct {
	c      Contender
	app    *App
	n      int // operations per round
	rounds []Sample
}

type group struct {
	family string
	kind   Kind
	cells  []*cell
}

// roleOrder is the order of members within a group.
var roleOrder = map[Role]int{RoleOurs: 0, RoleTheirs: 1, RoleOther: 2, RoleFloor: 3, RoleBare: 4}

// Run measures every group that cfg.Match keeps.
func Run(env *Env, cfg Config) (*Results, error) {
	if cfg.Rounds < 1 || cfg.Slices < 1 || (cfg.Ops <= 0 && cfg.BenchTime <= 0) {
		return nil, errors.New("bench: Run: need Rounds >= 1, Slices >= 1 and Ops or BenchTime")
	}
	if cfg.Seed == 0 {
		cfg.Seed = rand.Uint64()
	}
	logw := cfg.Log
	if logw == nil {
		logw = io.Discard
	}
	res := &Results{Config: RunInfo{Rounds: cfg.Rounds, Ops: cfg.Ops, Slices: cfg.Slices, Seed: cfg.Seed}}
	if cfg.Ops <= 0 {
		res.Config.BenchTime = cfg.BenchTime.String()
	}
	res.Machine = ReadMachine()

	apps := map[string]*App{}
	defer func() {
		for _, a := range apps {
			a.Close()
		}
	}()
	app := func(c Contender) (*App, error) {
		if a := apps[c.Name]; a != nil {
			return a, nil
		}
		a, err := c.New(env)
		if err != nil {
			return nil, fmt.Errorf("%s: %w", c.Name, err)
		}
		apps[c.Name] = a
		return a, nil
	}

	var groups []*group
	for _, fam := range Families {
		for _, k := range Kinds {
			if cfg.Match != nil && !cfg.Match(fam, k.Name) {
				continue
			}
			g := &group{family: fam, kind: k}
			hasOurs := false
			for _, c := range Contenders {
				if (c.Family != fam && c.Role != RoleBare) || !c.Serves(k.Name) {
					continue
				}
				if c.NeedsMemcached && env.MemcacheAddr == "" {
					continue
				}
				a, err := app(c)
				if err != nil {
					return nil, err
				}
				g.cells = append(g.cells, &cell{c: c, app: a})
				hasOurs = hasOurs || c.Role == RoleOurs
			}
			if !hasOurs {
				continue
			}
			slices.SortStableFunc(g.cells, func(a, b *cell) int { return roleOrder[a.c.Role] - roleOrder[b.c.Role] })
			groups = append(groups, g)
		}
	}
	if env.MemcacheAddr == "" {
		res.Skipped = append(res.Skipped, "the memcached family: no memcached running")
	}
	if len(groups) == 0 {
		return nil, errors.New("bench: Run: no group to measure")
	}

	// Warm up and size each member's round.
	start := time.Now()
	for _, g := range groups {
		for _, c := range g.cells {
			n, err := calibrate(c.app, g.kind.Name, cfg)
			if err != nil {
				return nil, err
			}
			c.n = max(n, cfg.Slices)
		}
	}
	fmt.Fprintf(logw, "bench: %d groups calibrated in %v; %d rounds of %d slices\n", len(groups), time.Since(start).Round(time.Millisecond), cfg.Rounds, cfg.Slices)

	rng := rand.New(rand.NewPCG(cfg.Seed, cfg.Seed^0x9e3779b97f4a7c15))
	for r := range cfg.Rounds {
		t0 := time.Now()
		order := slices.Clone(groups)
		rng.Shuffle(len(order), func(i, j int) { order[i], order[j] = order[j], order[i] })
		for _, g := range order {
			if err := g.round(cfg.Slices, rng); err != nil {
				return nil, err
			}
		}
		d := time.Since(t0)
		fmt.Fprintf(logw, "bench: round %d/%d in %v (about %v to go)\n", r+1, cfg.Rounds, d.Round(time.Millisecond), (d * time.Duration(cfg.Rounds-r-1)).Round(time.Second))
	}
	for _, g := range groups {
		out := Group{Family: g.family, Kind: g.kind.Name}
		for _, c := range g.cells {
			out.Members = append(out.Members, Member{Name: c.c.Name, Label: c.c.Label, Role: c.c.Role, Rounds: c.rounds})
		}
		res.Groups = append(res.Groups, out)
	}
	res.Machine.Finish()
	return res, nil
}

// calibrate warms c up on kind and returns how many operations fill
// cfg.BenchTime (or cfg.Ops).
func calibrate(a *App, kind string, cfg Config) (int, error) {
	if cfg.Ops > 0 {
		_, err := measure(a, kind, min(cfg.Ops, 20))
		return cfg.Ops, err
	}
	const enough = 20 * time.Millisecond
	n := 1
	for {
		s, err := measure(a, kind, n)
		if err != nil {
			return 0, err
		}
		spent := time.Duration(s.WallNs * float64(n))
		if spent >= enough || n >= 1<<20 {
			return int(min(max(float64(cfg.BenchTime)/s.WallNs, 1), 1<<22)), nil
		}
		n *= 4
	}
}

// round measures one round of g: each member's operations in slices,
// the members of each slice in a random order.
func (g *group) round(slicesN int, rng *rand.Rand) error {
	runtime.GC() // garbage of the previous group is not charged to this one
	acc := make([]Sample, len(g.cells))
	trips := make([]float64, len(g.cells))
	perm := make([]int, len(g.cells))
	for i := range perm {
		perm[i] = i
	}
	for s := range slicesN {
		rng.Shuffle(len(perm), func(i, j int) { perm[i], perm[j] = perm[j], perm[i] })
		for _, i := range perm {
			c := g.cells[i]
			n := c.n / slicesN
			if s < c.n%slicesN {
				n++
			}
			m, err := measure(c.app, g.kind.Name, n)
			if err != nil {
				return err
			}
			a := &acc[i]
			a.Ops += n
			f := float64(n)
			a.WallNs += m.WallNs * f
			a.CPUNs += m.CPUNs * f
			a.Bytes += m.Bytes * f
			a.Allocs += m.Allocs * f
			if m.RoundTrips != nil {
				trips[i] += *m.RoundTrips * f
			}
		}
	}
	for i, c := range g.cells {
		a := acc[i]
		f := float64(a.Ops)
		a.WallNs /= f
		a.CPUNs /= f
		a.Bytes /= f
		a.Allocs /= f
		if c.app.RoundTrips != nil {
			t := trips[i] / f
			a.RoundTrips = &t
		}
		c.rounds = append(c.rounds, a)
	}
	return nil
}

// measure prepares n operations of kind on a (not measured), runs them
// and returns the per-operation figures.
func measure(a *App, kind string, n int) (Sample, error) {
	bt, err := Prepare(a, kind, n)
	if err != nil {
		return Sample{}, err
	}
	defer bt.Done()
	var m0, m1 runtime.MemStats
	runtime.ReadMemStats(&m0)
	var rt0 int64
	if a.RoundTrips != nil {
		rt0 = a.RoundTrips.Load()
	}
	c0 := cpuTime()
	t0 := time.Now()
	bt.Run()
	wall := time.Since(t0)
	c1 := cpuTime()
	var trips int64
	if a.RoundTrips != nil {
		trips = a.RoundTrips.Load() - rt0
	}
	runtime.ReadMemStats(&m1)
	if err := bt.Err(); err != nil {
		return Sample{}, err
	}
	f := float64(n)
	s := Sample{
		Ops:    n,
		WallNs: float64(wall) / f,
		CPUNs:  float64(c1-c0) / f,
		Bytes:  float64(m1.TotalAlloc-m0.TotalAlloc) / f,
		Allocs: float64(m1.Mallocs-m0.Mallocs) / f,
	}
	if a.RoundTrips != nil {
		t := float64(trips) / f
		s.RoundTrips = &t
	}
	return s, nil
}
