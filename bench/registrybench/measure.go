package main

import (
	"context"
	"time"

	ocispec "github.com/opencontainers/image-spec/specs-go/v1"
)

// measurement holds the figures of one server.
type measurement struct {
	get      loadResult
	pushMBps float64
	pullMBps float64
	peakRSS  int64 // VmHWM in bytes at the end of the run
}

// measure pushes the small image, loads its manifest GET, then pushes and pulls the
// blob, and finally reads the server's peak RSS.
func measure(ctx context.Context, s *server, cfg config, gen loadGen, img *image,
	b blob) (measurement, error) {
	var m measurement
	c, err := newClient(s.url)
	if err != nil {
		return m, err
	}
	if m.get, err = measureGet(ctx, s, c, cfg, gen, img); err != nil {
		return m, err
	}
	logf("%s: manifest GET %.0f req/s, p99 %v", s.name, m.get.rps, m.get.p99)
	if m.pushMBps, m.pullMBps, err = pushPull(ctx, c, b, cfg.upload); err != nil {
		return m, err
	}
	logf("%s: blob push %.0f MB/s, pull %.0f MB/s", s.name, m.pushMBps, m.pullMBps)
	m.peakRSS, err = peakRSS(s.pid())
	return m, err
}

// measureGet pushes img, checks one manifest GET and runs the load after a warm-up.
func measureGet(ctx context.Context, s *server, c *client, cfg config, gen loadGen,
	img *image) (loadResult, error) {
	if err := img.push(ctx, c, imageRepo, imageTag); err != nil {
		return loadResult{}, err
	}
	path := "/v2/" + imageRepo + "/manifests/" + imageTag
	accept := ocispec.MediaTypeImageManifest
	if err := c.checkManifest(ctx, path, accept, img.manifestDigest); err != nil {
		return loadResult{}, err
	}
	spec := loadSpec{url: s.url + path, accept: accept, conns: cfg.conns, duration: warmup}
	logf("%s: manifest GET warm-up %v, then %v at %d connections",
		s.name, warmup, cfg.duration, cfg.conns)
	if _, err := gen.run(ctx, spec); err != nil {
		return loadResult{}, err
	}
	spec.duration = cfg.duration
	return gen.run(ctx, spec)
}

// pushPull pushes blob b and pulls it back, and returns both rates in MB/s (10^6 bytes).
func pushPull(ctx context.Context, c *client, b blob, mode string) (push, pull float64,
	err error) {
	start := time.Now()
	if err = c.pushBlob(ctx, blobRepo, b.reader(), b.size, b.digest, mode); err != nil {
		return 0, 0, err
	}
	push = mbps(b.size, time.Since(start))
	start = time.Now()
	if err = c.pullBlob(ctx, blobRepo, b.digest, b.size); err != nil {
		return 0, 0, err
	}
	return push, mbps(b.size, time.Since(start)), nil
}

func mbps(n int64, d time.Duration) float64 { return float64(n) / 1e6 / d.Seconds() }

// bigResult holds Berth's figures for the big blob.
type bigResult struct {
	size     int64
	pushMBps float64
	pullMBps float64
	peakRSS  int64
}

// measureBig starts a fresh Berth, pushes and pulls a big blob through it and reads
// its peak RSS, which must not grow with the blob.
func measureBig(ctx context.Context, cfg config, work string) (*bigResult, error) {
	logf("hashing the %v big blob", &cfg.bigSize)
	b, err := newBlob(2, int64(cfg.bigSize))
	if err != nil {
		return nil, err
	}
	logf("starting a fresh berth for the big blob")
	s, err := startServer(ctx, berthSpec(cfg.berthBin), work)
	if err != nil {
		return nil, err
	}
	defer s.stop()
	c, err := newClient(s.url)
	if err != nil {
		return nil, err
	}
	r := &bigResult{size: b.size}
	if r.pushMBps, r.pullMBps, err = pushPull(ctx, c, b, cfg.upload); err != nil {
		return nil, err
	}
	r.peakRSS, err = peakRSS(s.pid())
	logf("berth: big blob push %.0f MB/s, pull %.0f MB/s, peak RSS %.0f MiB",
		r.pushMBps, r.pullMBps, mib(r.peakRSS))
	return r, err
}
