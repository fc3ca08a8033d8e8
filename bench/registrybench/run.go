package main

import (
	"context"
	"fmt"
	"os"
	"time"
)

// Repositories and tag the benchmark writes to. They are in Berth's public project
// "library"; Distribution takes any name.
const (
	imageRepo = "library/bench-app"
	imageTag  = "v1"
	blobRepo  = "library/bench-blob"
	warmup    = 2 * time.Second
)

// env is what every server of a run shares.
type env struct {
	cfg  config
	work string     // parent of the data directories
	s3   *s3Backend // nil unless -storage s3
}

// bucket returns a new bucket for owner with -storage s3, else nil.
func (e *env) bucket(ctx context.Context, owner string) (*s3Bucket, error) {
	if e.s3 == nil {
		return nil, nil
	}
	return e.s3.newBucket(ctx, owner)
}

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
	e := &env{cfg: cfg, work: work}
	if cfg.storage == "s3" {
		if e.s3, err = startS3(ctx, cfg.minioBin, work); err != nil {
			return err
		}
		defer e.s3.stop()
	}

	rep := newReport(cfg, gen.name())
	if err := measureSideBySide(ctx, e, gen, rep); err != nil {
		return err
	}
	if cfg.berthBin != "" {
		for i, sz := range []size{cfg.smallSize, cfg.bigSize} {
			if sz == 0 {
				continue
			}
			r, err := measureFresh(ctx, e, int64(sz), uint64(2+i))
			if err != nil {
				return err
			}
			rep.fresh = append(rep.fresh, r)
		}
	}
	rep.print(os.Stdout)
	return nil
}

// measureSideBySide starts every configured server, then measures them one at a time.
func measureSideBySide(ctx context.Context, e *env, gen loadGen, rep *report) error {
	servers, err := startAll(ctx, e)
	defer stopAll(servers)
	if err != nil {
		return err
	}
	logf("hashing the %v test blob", &e.cfg.blobSize)
	b, err := newBlob(1, int64(e.cfg.blobSize))
	if err != nil {
		return err
	}
	img, err := newImage()
	if err != nil {
		return err
	}
	for _, s := range servers {
		m, err := measure(ctx, s, e.cfg, gen, img, b)
		if err != nil {
			return fmt.Errorf("%s: %w", s.name, err)
		}
		rep.results[s.name] = m
	}
	return nil
}

// startAll starts Berth and Distribution, whichever are configured.
func startAll(ctx context.Context, e *env) ([]*server, error) {
	var specs []serverSpec
	if e.cfg.berthBin != "" {
		bucket, err := e.bucket(ctx, "berth")
		if err != nil {
			return nil, err
		}
		specs = append(specs, berthSpec(e.cfg.berthBin, bucket, e.cfg.berthDebug))
	}
	if e.cfg.registryBin != "" {
		bucket, err := e.bucket(ctx, "distribution")
		if err != nil {
			return nil, err
		}
		specs = append(specs, distributionSpec(e.cfg.registryBin, bucket))
	}
	var servers []*server
	for _, spec := range specs {
		logf("starting %s", spec.name)
		s, err := startServer(ctx, spec, e.work)
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
