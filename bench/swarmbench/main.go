package main

import (
	"context"
	"flag"
	"fmt"
	"os"
	"os/signal"
	"strconv"
	"strings"
	"syscall"
)

// config holds the settings of one benchmark.
type config struct {
	berthBin string
	agents   []int
	size     size // S, the blob
	rate     size // B, bytes per second of every capped link
	piece    size
	modes    []string // "p2p", "off"
	workDir  string
	extra    []string // more flags of every agent in p2p mode
	seedUp   int      // p2p.max_uploads of the seed; 0 keeps berth's default
}

func parseFlags() (config, error) {
	cfg := config{size: 32 << 20, rate: 4 << 20, piece: 1 << 20}
	var agents, modes string
	flag.StringVar(&cfg.berthBin, "berth", "", "path to the berth binary (required)")
	flag.StringVar(&agents, "agents", "8,16,32", "comma-separated agent counts")
	flag.Var(&cfg.size, "size", "blob size S (e.g. 32MiB)")
	flag.Var(&cfg.rate, "rate", "per-agent upload and download cap B per second, and the "+
		"seed's upload cap")
	flag.Var(&cfg.piece, "piece", "p2p.piece_size of the gateway (the largest piece)")
	flag.StringVar(&modes, "modes", "p2p,off", "p2p (the swarm) and/or off (all from the gateway)")
	flag.StringVar(&cfg.workDir, "work-dir", os.TempDir(), "parent of the temporary directories")
	flag.IntVar(&cfg.seedUp, "seed-uploads", 0, "pieces the seed sends at once (0: default)")
	agentFlags := flag.String("agent-flags", "", "more flags of every agent in p2p mode, "+
		"space-separated (e.g. \"--max-uploads 4\")")
	flag.Parse()
	cfg.extra = strings.Fields(*agentFlags)
	if cfg.berthBin == "" {
		return cfg, fmt.Errorf("-berth is required (go build -o /tmp/berth ./cmd/berth)")
	}
	for _, a := range strings.Split(agents, ",") {
		n, err := strconv.Atoi(strings.TrimSpace(a))
		if err != nil || n < 1 {
			return cfg, fmt.Errorf("-agents %q: want counts such as 8,16,32", agents)
		}
		cfg.agents = append(cfg.agents, n)
	}
	cfg.modes = strings.Split(modes, ",")
	return cfg, nil
}

func main() {
	cfg, err := parseFlags()
	if err != nil {
		fmt.Fprintln(os.Stderr, "swarmbench:", err)
		os.Exit(2)
	}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	if err := run(ctx, cfg); err != nil {
		fmt.Fprintln(os.Stderr, "swarmbench:", err)
		os.Exit(1)
	}
}

// run starts one berth serve and measures every mode and agent count against it.
func run(ctx context.Context, cfg config) error {
	work, err := os.MkdirTemp(cfg.workDir, "swarmbench-")
	if err != nil {
		return err
	}
	if os.Getenv("SWARMBENCH_KEEP") == "" {
		defer os.RemoveAll(work)
	} else {
		fmt.Fprintln(os.Stderr, "swarmbench: keeping", work)
	}
	gw, err := startGateway(ctx, cfg, work)
	if err != nil {
		return err
	}
	defer gw.stop()
	printHeader(cfg)
	for _, mode := range cfg.modes {
		for _, n := range cfg.agents {
			res, err := measure(ctx, cfg, gw, work, mode, n)
			if err != nil {
				return fmt.Errorf("%s, %d agents: %w", mode, n, err)
			}
			printRow(cfg, res)
		}
	}
	return nil
}
