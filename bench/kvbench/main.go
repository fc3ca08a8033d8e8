package main

import (
	"flag"
	"fmt"
	"os"
	"path/filepath"
)

// options are the command-line flags.
type options struct {
	berth  string // berth binary
	n      int    // timed requests of each kind, per round
	rounds int    // rounds, each measuring both setups afresh
	warmup int    // untimed requests before each timed series
	tags   int    // tags in the repository that tags/list reads
	dir    string // parent of the data directories
	keep   bool   // reports whether data directories and logs are kept
	diag   bool   // reports whether a 1-member kvnode behind a gateway is measured too
}

func main() {
	var o options
	flag.StringVar(&o.berth, "berth", "berth", "berth binary")
	flag.IntVar(&o.n, "n", 500, "timed manifest PUTs, and timed tags-list GETs, per round")
	flag.IntVar(&o.rounds, "rounds", 3, "rounds; each starts and measures both setups afresh")
	flag.IntVar(&o.warmup, "warmup", 20, "untimed requests before each timed series")
	flag.IntVar(&o.tags, "tags", 1000, "tags in the repository that tags/list reads")
	flag.StringVar(&o.dir, "dir", "", "parent of the data directories (default: the temp dir)")
	flag.BoolVar(&o.keep, "keep", false, "keep data directories and logs")
	flag.BoolVar(&o.diag, "diag", false,
		"also measure a 1-member kvnode behind a gateway (network hop without replication)")
	flag.Parse()
	if err := run(o); err != nil {
		fmt.Fprintf(os.Stderr, "kvbench: %v\n", err)
		os.Exit(1)
	}
}

// run measures both setups and prints the report.
func run(o options) error {
	work, err := os.MkdirTemp(o.dir, "kvbench-")
	if err != nil {
		return err
	}
	if o.keep {
		fmt.Fprintf(os.Stderr, "kvbench: data and logs in %s\n", work)
	} else {
		defer os.RemoveAll(work)
	}
	fmt.Printf("machine: %s, load average %s at start\n", machine(), loadAverage())
	fmt.Printf("berth: %s; n=%d per round, rounds=%d, warmup=%d, tags=%d\n\n",
		o.berth, o.n, o.rounds, o.warmup, o.tags)

	// Alternate the setups, so that a change in the machine's load during the run
	// falls on both.
	var embedded, single, cluster results
	for round := range o.rounds {
		dir := filepath.Join(work, fmt.Sprint(round))
		e, err := measureSetup(o, "embedded", func() (*setup, error) {
			return startEmbedded(o.berth, dir)
		})
		if err != nil {
			return err
		}
		embedded = embedded.add(e)
		if o.diag {
			r, err := measureSetup(o, "1-member kvnode", func() (*setup, error) {
				return startCluster(o.berth, dir, 1)
			})
			if err != nil {
				return err
			}
			single = single.add(r)
		}
		c, err := measureSetup(o, "cluster", func() (*setup, error) {
			return startCluster(o.berth, dir, 3)
		})
		if err != nil {
			return err
		}
		cluster = cluster.add(c)
	}
	report(os.Stdout, embedded, cluster, "cluster")
	if o.diag {
		fmt.Println("\ndiagnosis: the same figures with a 1-member kvnode behind a gateway")
		report(os.Stdout, embedded, single, "1-member")
	}
	fmt.Printf("\nload average at the end: %s\n", loadAverage())
	return nil
}

// measureSetup starts one setup, measures it and stops it.
func measureSetup(o options, name string, start func() (*setup, error)) (results, error) {
	fmt.Fprintf(os.Stderr, "kvbench: measuring %s\n", name)
	s, err := start()
	if err != nil {
		return results{}, fmt.Errorf("%s: %w", name, err)
	}
	defer s.stop()
	r, err := measure(o, newClient(s.addr))
	if err != nil {
		return r, fmt.Errorf("%s: %w (logs: %s)", name, err, s.logDir)
	}
	return r, nil
}
