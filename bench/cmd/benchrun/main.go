// Command benchrun measures every contender of the bench package on every
// request kind, in interleaved and shuffled rounds with bare Gin in each
// group, and writes the results as JSON for cmd/benchreport.
//
//	go run ./cmd/benchrun -rounds 9 -benchtime 250ms -o results.json
//	go run ./cmd/benchrun -rounds 2 -benchtime 200x -run 'cookie/'   # a smoke run of one family
//
// It starts its own memcached on a free loopback port (Debian package
// memcached; without it the memcached family is left out) and keeps its
// SQLite files in a temporary directory.
package main

import (
	"encoding/json"
	"flag"
	"fmt"
	"os"
	"regexp"
	"strconv"
	"strings"
	"time"

	"github.com/gin-securesession/securesession/bench"
)

func main() {
	rounds := flag.Int("rounds", 9, "rounds (at least 7 for results; fewer is a smoke run)")
	benchtime := flag.String("benchtime", "250ms", "measured time per member of a group per round, or Nx for N operations")
	slicesN := flag.Int("slices", 4, "batches per member per round, interleaved with the other members'")
	seed := flag.Uint64("seed", 0, "seed of the shuffles (0: random, recorded in the results)")
	run := flag.String("run", "", "only the groups whose family/kind matches this regular expression")
	out := flag.String("o", "results.json", "output file")
	commit := flag.String("commit", "", "commit measured, recorded in the results")
	flag.Parse()
	if err := main1(*rounds, *benchtime, *slicesN, *seed, *run, *out, *commit); err != nil {
		fmt.Fprintln(os.Stderr, "benchrun:", err)
		os.Exit(1)
	}
}

func main1(rounds int, benchtime string, slicesN int, seed uint64, run, out, commit string) error {
	cfg := bench.Config{Rounds: rounds, Slices: slicesN, Seed: seed, Log: os.Stderr}
	if n, ok := strings.CutSuffix(benchtime, "x"); ok {
		ops, err := strconv.Atoi(n)
		if err != nil || ops < 1 {
			return fmt.Errorf("-benchtime %q: want a duration or Nx", benchtime)
		}
		cfg.Ops = ops
	} else {
		d, err := time.ParseDuration(benchtime)
		if err != nil || d <= 0 {
			return fmt.Errorf("-benchtime %q: want a duration or Nx", benchtime)
		}
		cfg.BenchTime = d
	}
	if run != "" {
		re, err := regexp.Compile(run)
		if err != nil {
			return fmt.Errorf("-run: %w", err)
		}
		cfg.Match = func(family, kind string) bool { return re.MatchString(family + "/" + kind) }
	}
	if rounds < 7 {
		fmt.Fprintf(os.Stderr, "benchrun: %d rounds: a smoke run, not results\n", rounds)
	}
	env, note, stop, err := bench.StartEnv()
	if err != nil {
		return err
	}
	defer stop()
	if note != "" {
		fmt.Fprintln(os.Stderr, "benchrun: leaving out the memcached family:", note)
	}
	res, err := bench.Run(env, cfg)
	if err != nil {
		return err
	}
	res.Machine.Commit = commit
	b, err := json.MarshalIndent(res, "", "  ")
	if err != nil {
		return err
	}
	return os.WriteFile(out, append(b, '\n'), 0o644)
}
