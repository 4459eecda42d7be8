// Command petrel-sim sweeps seeds of the simulator's workloads, or replays one seed.
//
//	petrel-sim -seeds N [-from S] [-workload W|all]   sweep N seeds from S
//	petrel-sim -seed S -workload W -trace             replay one seed, printing its trace
//
// A sweep prints seeds/s and simulated seconds per wall-clock second; a failing seed prints
// its error and the command that replays it. After the sweep it prints, per workload, how
// often each fault class and probe point fired; with -coverage FILE it also fails if a point
// the file requires never fired. The exit status is 1 if any seed failed or a point is missing.
package main

import (
	"bufio"
	"flag"
	"fmt"
	"io"
	"os"
	"strings"
	"time"

	"github.com/petrel-io/petrel/core/env"
	"github.com/petrel-io/petrel/sim"
	"github.com/petrel-io/petrel/sim/workload"
)

func main() {
	os.Exit(run(os.Args[1:]))
}

func run(args []string) int {
	fs := flag.NewFlagSet("petrel-sim", flag.ContinueOnError)
	seeds := fs.Int("seeds", 100, "how many seeds to sweep")
	from := fs.Uint64("from", 1, "first seed of the sweep")
	seed := fs.Uint64("seed", 0, "replay this one seed (with -trace to print its events)")
	name := fs.String("workload", "all", "workload to run: "+strings.Join(workload.Names(), ", ")+", or all")
	trace := fs.Bool("trace", false, "print every event of the replayed seed")
	verbose := fs.Bool("v", false, "print one line per seed")
	pinnedFile := fs.String("pinned", "testdata/sim/regressions.txt", "seeds that once failed, replayed before a sweep (skipped if the file is missing)")
	coverFile := fs.String("coverage", "", "fail the sweep if a point this file requires (\"<workload|*> <point>\" per line) was never hit")
	quiet := fs.Bool("q", false, "do not print the coverage report after a sweep")
	if err := fs.Parse(args); err != nil {
		return 2
	}
	names := workload.Names()
	if *name != "all" {
		if _, ok := workload.New(*name); !ok {
			fmt.Fprintf(os.Stderr, "petrel-sim: unknown workload %q (have %s)\n", *name, strings.Join(names, ", "))
			return 2
		}
		names = []string{*name}
	}
	if *seed != 0 {
		return replay(names, *seed, *trace)
	}
	failures, err := replayPinned(*pinnedFile, names)
	if err != nil {
		fmt.Fprintf(os.Stderr, "petrel-sim: %v\n", err)
		return 2
	}
	var required []sim.Required
	if *coverFile != "" {
		if required, err = readRequired(*coverFile); err != nil {
			fmt.Fprintf(os.Stderr, "petrel-sim: %v\n", err)
			return 2
		}
	}
	status, counts := sweep(names, *from, *seeds, *verbose)
	if !*quiet {
		printCoverage(os.Stdout, names, counts)
	}
	if *coverFile != "" {
		missing := sim.Missing(required, counts, *name == "all")
		for _, m := range missing {
			fmt.Printf("FAIL coverage: %s:%d: %s never hit %s in %d seeds\n", *coverFile, m.Line, m.Workload, m.Point, *seeds)
		}
		if len(missing) > 0 {
			status = 1
		}
	}
	if status != 0 || failures > 0 {
		return 1
	}
	return 0
}

func readRequired(path string) ([]sim.Required, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	required, err := sim.ParseRequired(f)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	return required, nil
}

// printCoverage prints, per workload, how often each fault class fired and each probe point
// was hit, summed over the sweep's seeds.
func printCoverage(out io.Writer, names []string, counts map[string]map[string]int) {
	for _, name := range names {
		points := counts[name]
		keys := env.SortedKeys(points)
		fmt.Fprintf(out, "coverage %s: %d points\n", name, len(keys))
		for _, k := range keys {
			fmt.Fprintf(out, "  %-8s %-44s %d\n", name, k, points[k])
		}
	}
}

// replayPinned reruns the regression list's seeds of the chosen workloads.
func replayPinned(path string, names []string) (failures int, err error) {
	f, err := os.Open(path)
	if os.IsNotExist(err) {
		return 0, nil
	}
	if err != nil {
		return 0, err
	}
	defer f.Close()
	pinned, err := sim.ParsePinned(f)
	if err != nil {
		return 0, fmt.Errorf("%s: %w", path, err)
	}
	chosen := map[string]bool{}
	for _, n := range names {
		chosen[n] = true
	}
	count := 0
	for _, p := range pinned {
		wl, ok := workload.New(p.Workload)
		if !ok {
			return 0, fmt.Errorf("%s: unknown workload %q", path, p.Workload)
		}
		if !chosen[p.Workload] {
			continue
		}
		count++
		if res := sim.Run(wl, p.Seed, sim.Options{}); res.Failed() {
			failures++
			fmt.Printf("FAIL pinned %s seed %d (%s): %v\n  replay: %s\n", p.Workload, p.Seed, p.Why, res.Err, res.Replay())
		}
	}
	fmt.Printf("pinned   %d regression seeds replayed, %d failing\n", count, failures)
	return failures, nil
}

func replay(names []string, seed uint64, trace bool) int {
	out := bufio.NewWriterSize(os.Stdout, 1<<20)
	defer out.Flush()
	status := 0
	for _, name := range names {
		wl, _ := workload.New(name)
		opts := sim.Options{}
		if trace {
			opts.TraceOut = out
		}
		res := sim.Run(wl, seed, opts)
		fmt.Fprintf(out, "workload %s seed %d: hash %016x, %d events, %v simulated\n", name, seed, res.Hash, res.Events, res.SimTime)
		if res.Failed() {
			fmt.Fprintf(out, "FAIL: %v\n", res.Err)
			status = 1
		}
	}
	return status
}

func sweep(names []string, from uint64, count int, verbose bool) (int, map[string]map[string]int) {
	failures := 0
	counts := map[string]map[string]int{}
	for _, name := range names {
		var cover sim.Coverage
		start := time.Now()
		var simulated time.Duration
		var events uint64
		for s := from; s < from+uint64(count); s++ {
			wl, _ := workload.New(name)
			res := sim.Run(wl, s, sim.Options{})
			simulated += res.SimTime
			events += res.Events
			cover.Add(res.Coverage)
			if verbose {
				fmt.Printf("%s seed %d: hash %016x %d events [%s]\n", name, s, res.Hash, res.Events, strings.Join(res.Profile.Classes(), ","))
			}
			if res.Failed() {
				failures++
				fmt.Printf("FAIL %s seed %d: %v\n  replay: %s\n", name, s, res.Err, res.Replay())
			}
		}
		wall := time.Since(start)
		fmt.Printf("%-8s %d seeds in %.1fs: %.1f seeds/s, %.0f simulated-s per wall-s, %.0f events/s\n",
			name, count, wall.Seconds(), float64(count)/wall.Seconds(), simulated.Seconds()/wall.Seconds(),
			float64(events)/wall.Seconds())
		counts[name] = cover.Counts()
	}
	if failures > 0 {
		fmt.Printf("%d failing seeds\n", failures)
		return 1, counts
	}
	return 0, counts
}
