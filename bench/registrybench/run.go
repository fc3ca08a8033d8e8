package main

import (
	"context"
	"fmt"
	"os"
	"time"
)

// Repositories and tag the benchmark writes to.
const (
	imageRepo = "bench/app"
	imageTag  = "v1"
	blobRepo  = "bench/blob"
	warmup    = 2 * time.Second
)

// run measures every configured server and prints the report to stdout.
func run(ctx context.Context, cfg config) error {
	if err := cfg.validate(); err != nil {
		return err
	}
	gen, err := chooseLoadGen(cfg.loadgen)
	if err != nil {
		return err
	}
	work, err := os.MkdirTemp(cfg.workDir, "registrybench-")
	if err != nil {
		return err
	}
	defer os.RemoveAll(work)

	rep := newReport(cfg, gen.name())
	if err := measureSideBySide(ctx, cfg, gen, work, rep); err != nil {
		return err
	}
	if cfg.berthBin != "" && cfg.bigSize > 0 {
		if rep.big, err = measureBig(ctx, cfg, work); err != nil {
			return err
		}
	}
	rep.print(os.Stdout)
	return nil
}

// measureSideBySide starts every configured server, then measures them one at a time.
func measureSideBySide(ctx context.Context, cfg config, gen loadGen, work string,
	rep *report) error {
	servers, err := startAll(ctx, cfg, work)
	defer stopAll(servers)
	if err != nil {
		return err
	}
	logf("hashing the %v test blob", &cfg.blobSize)
	b, err := newBlob(1, int64(cfg.blobSize))
	if err != nil {
		return err
	}
	img, err := newImage()
	if err != nil {
		return err
	}
	for _, s := range servers {
		m, err := measure(ctx, s, cfg, gen, img, b)
		if err != nil {
			return fmt.Errorf("%s: %w", s.name, err)
		}
		rep.results[s.name] = m
	}
	return nil
}

// startAll starts Berth and Distribution, whichever are configured.
func startAll(ctx context.Context, cfg config, work string) ([]*server, error) {
	var specs []serverSpec
	if cfg.berthBin != "" {
		specs = append(specs, berthSpec(cfg.berthBin))
	}
	if cfg.registryBin != "" {
		specs = append(specs, distributionSpec(cfg.registryBin))
	}
	var servers []*server
	for _, spec := range specs {
		logf("starting %s", spec.name)
		s, err := startServer(ctx, spec, work)
		if err != nil {
			return servers, err
		}
		servers = append(servers, s)
	}
	return servers, nil
}

func stopAll(servers []*server) {
	for _, s := range servers {
		if err := s.stop(); err != nil {
			logf("stop %s: %v", s.name, err)
		}
	}
}

// logf prints a progress line to stderr; the report goes to stdout.
func logf(format string, args ...any) {
	fmt.Fprintf(os.Stderr, "registrybench: "+format+"\n", args...)
}
