package main

import (
	"context"
	"flag"
	"fmt"
	"os"
	"os/signal"
	"syscall"
	"time"
)

// config holds the command-line settings of one benchmark run.
type config struct {
	berthBin    string        // Berth binary; empty skips Berth
	registryBin string        // Distribution binary; empty skips Distribution
	duration    time.Duration // length of the manifest GET load
	conns       int           // concurrent connections for the manifest GET load
	blobSize    size          // blob pushed and pulled through each registry
	bigSize     size          // blob for Berth's bounded-memory check; zero skips it
	smallSize   size          // small blob of the same check, for comparison; zero skips it
	storage     string        // "filesystem" or "s3" (both registries on one MinIO)
	minioBin    string        // MinIO binary for -storage s3
	berthDebug  string        // BERTH_DEBUG_ADDR of the side-by-side Berth (pprof); "" is off
	loadgen     string        // "auto", "wrk" or "go"
	upload      string        // "put" (POST then PUT with body) or "patch"
	workDir     string        // parent of the temporary data directories
	pulls       int           // pulls of the blob; the median rate is reported
}

func parseFlags() config {
	cfg := config{blobSize: 1 << 30, bigSize: 2 << 30, smallSize: 64 << 20}
	flag.StringVar(&cfg.berthBin, "berth", "", "path to the berth binary (empty: skip Berth)")
	flag.StringVar(&cfg.registryBin, "registry", "",
		"path to the Distribution registry binary (empty: skip Distribution)")
	flag.DurationVar(&cfg.duration, "duration", 10*time.Second, "manifest GET load duration")
	flag.IntVar(&cfg.conns, "conns", 32, "concurrent connections for the manifest GET load")
	flag.Var(&cfg.blobSize, "size", "blob size for push and pull throughput (e.g. 1GiB)")
	flag.Var(&cfg.bigSize, "big-size", "blob size for Berth's peak RSS check (0: skip)")
	flag.Var(&cfg.smallSize, "small-size",
		"small blob for the peak RSS check, to compare with -big-size (0: skip)")
	flag.StringVar(&cfg.storage, "storage", "filesystem",
		"blob storage of both registries: filesystem or s3 (one MinIO, a bucket each)")
	flag.StringVar(&cfg.minioBin, "minio", ".tools/bin/minio", "MinIO binary for -storage s3")
	flag.StringVar(&cfg.berthDebug, "berth-debug", "",
		"serve the measured Berth's pprof on this address (BERTH_DEBUG_ADDR)")
	flag.StringVar(&cfg.loadgen, "loadgen", "auto", "manifest GET load generator: auto, wrk or go")
	flag.StringVar(&cfg.upload, "upload", "put",
		"blob upload: put (POST, then PUT with the body) or patch (POST, PATCH, PUT)")
	flag.IntVar(&cfg.pulls, "pulls", 5, "pulls of the blob per server; the median MB/s is reported")
	flag.StringVar(&cfg.workDir, "work-dir", os.TempDir(), "parent of the temporary data dirs")
	flag.Parse()
	return cfg
}

func (c config) validate() error {
	switch {
	case c.berthBin == "" && c.registryBin == "":
		return fmt.Errorf("nothing to measure: give -berth, -registry or both")
	case c.conns < 1 || c.duration <= 0 || c.blobSize <= 0 || c.bigSize < 0 || c.smallSize < 0:
		return fmt.Errorf("-conns, -duration and -size must be positive, " +
			"-big-size and -small-size not negative")
	case c.storage != "filesystem" && c.storage != "s3":
		return fmt.Errorf("-storage must be filesystem or s3, not %q", c.storage)
	case c.upload != "put" && c.upload != "patch":
		return fmt.Errorf("-upload must be put or patch, not %q", c.upload)
	}
	return nil
}

func main() {
	cfg := parseFlags()
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	err := run(ctx, cfg)
	stop()
	if err != nil {
		fmt.Fprintf(os.Stderr, "registrybench: %v\n", err)
		os.Exit(1)
	}
}
