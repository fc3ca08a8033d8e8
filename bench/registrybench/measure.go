package main

import (
	"context"
	"slices"
	"syscall"
	"time"

	ocispec "github.com/opencontainers/image-spec/specs-go/v1"
)

// measurement holds the figures of one server.
type measurement struct {
	get     loadResult
	getCPU  time.Duration // server CPU time per manifest GET
	getRSS  int64         // VmHWM in bytes after the manifest GET load
	blob    transfer
	peakRSS int64 // VmHWM in bytes at the end of the run
}

// transfer holds the figures of one blob pushed and pulled back.
type transfer struct {
	size               int64
	pushMBps, pullMBps float64       // 10^6 bytes per second
	pushCPU, pullCPU   time.Duration // server CPU time per GiB
}

// measure pushes the small image, loads its manifest GET, then pushes and pulls the
// blob, reading the server's peak RSS after the load and at the end.
func measure(ctx context.Context, s *server, cfg config, gen loadGen, img *image,
	b blob) (measurement, error) {
	var m measurement
	c, err := newClient(s)
	if err != nil {
		return m, err
	}
	if err := prepareGet(ctx, s, c, img); err != nil {
		return m, err
	}
	if m.get, m.getCPU, err = loadGet(ctx, s, cfg, gen); err != nil {
		return m, err
	}
	logf("%s: manifest GET %.0f req/s, p99 %v", s.name, m.get.rps, m.get.p99)
	if m.getRSS, err = peakRSS(s.pid()); err != nil {
		return m, err
	}
	if m.blob, err = pushPull(ctx, s, c, b, cfg.upload, cfg.pulls); err != nil {
		return m, err
	}
	m.peakRSS, err = peakRSS(s.pid())
	return m, err
}

// manifestPath is the path of the image manifest the load GETs.
const manifestPath = "/v2/" + imageRepo + "/manifests/" + imageTag

// prepareGet pushes img and checks one GET of its manifest.
func prepareGet(ctx context.Context, s *server, c *client, img *image) error {
	if err := img.push(ctx, c, imageRepo, imageTag); err != nil {
		return err
	}
	return c.checkManifest(ctx, manifestPath, ocispec.MediaTypeImageManifest, img.manifestDigest)
}

// loadGet runs the manifest GET load after a warm-up and returns its result and the
// server's CPU time per request.
func loadGet(ctx context.Context, s *server, cfg config, gen loadGen) (loadResult,
	time.Duration, error) {
	spec := loadSpec{url: s.url + manifestPath, accept: ocispec.MediaTypeImageManifest,
		conns: cfg.conns, duration: warmup}
	logf("%s: manifest GET warm-up %v, then %v at %d connections",
		s.name, warmup, cfg.duration, cfg.conns)
	if _, err := gen.run(ctx, spec); err != nil {
		return loadResult{}, 0, err
	}
	spec.duration = cfg.duration
	var r loadResult
	cpu, err := cpuDuring(s.pid(), func() (err error) {
		r, err = gen.run(ctx, spec)
		return err
	})
	if err != nil || r.requests == 0 {
		return r, 0, err
	}
	return r, cpu / time.Duration(r.requests), nil
}

// pushPull pushes blob b and pulls it back pulls times, keeping the median pull rate
// (single pulls on a shared 2-core machine vary by 10-20%). It first flushes dirty
// pages to disk so that the writeback of an earlier phase does not slow this one down.
func pushPull(ctx context.Context, s *server, c *client, b blob, mode string,
	pulls int) (transfer, error) {
	syscall.Sync()
	t := transfer{size: b.size}
	var elapsed time.Duration
	var err error
	t.pushCPU, err = cpuDuring(s.pid(), func() error {
		start := time.Now()
		defer func() { elapsed = time.Since(start) }()
		return c.pushBlob(ctx, blobRepo, b.reader(), b.size, b.digest, mode)
	})
	if err != nil {
		return t, err
	}
	t.pushMBps = mbps(b.size, elapsed)
	rates := make([]float64, 0, max(pulls, 1))
	for range max(pulls, 1) {
		var cpu time.Duration
		cpu, err = cpuDuring(s.pid(), func() error {
			start := time.Now()
			defer func() { elapsed = time.Since(start) }()
			return c.pullBlob(ctx, blobRepo, b.digest, b.size)
		})
		if err != nil {
			return t, err
		}
		t.pullCPU += cpu
		rates = append(rates, mbps(b.size, elapsed))
	}
	slices.Sort(rates)
	t.pullMBps = rates[len(rates)/2]
	t.pullCPU /= time.Duration(len(rates))
	t.pushCPU, t.pullCPU = perGiB(t.pushCPU, b.size), perGiB(t.pullCPU, b.size)
	logf("%s: %v blob push %.0f MB/s, pull %.0f MB/s",
		s.name, (*size)(&t.size), t.pushMBps, t.pullMBps)
	return t, err
}

func mbps(n int64, d time.Duration) float64 { return float64(n) / 1e6 / d.Seconds() }

func perGiB(d time.Duration, n int64) time.Duration {
	return time.Duration(float64(d) * float64(1<<30) / float64(n))
}

// freshResult holds the figures of one blob moved through a fresh Berth.
type freshResult struct {
	blob    transfer
	peakRSS int64
}

// measureFresh starts a fresh Berth, pushes and pulls a blob of n bytes through it
// and reads its peak RSS, which must not grow with the blob.
func measureFresh(ctx context.Context, e *env, n int64, seed uint64) (freshResult, error) {
	r := freshResult{}
	logf("hashing the %v blob for a fresh berth", (*size)(&n))
	b, err := newBlob(seed, n)
	if err != nil {
		return r, err
	}
	bucket, err := e.bucket(ctx, "berth")
	if err != nil {
		return r, err
	}
	logf("starting a fresh berth for the %v blob", (*size)(&n))
	s, err := startServer(ctx, berthSpec(e.cfg.berthBin, bucket, ""), e.work)
	if err != nil {
		return r, err
	}
	defer s.stop()
	c, err := newClient(s)
	if err != nil {
		return r, err
	}
	if r.blob, err = pushPull(ctx, s, c, b, e.cfg.upload, 1); err != nil {
		return r, err
	}
	r.peakRSS, err = peakRSS(s.pid())
	logf("berth: %v blob, peak RSS %.0f MiB", (*size)(&n), mib(r.peakRSS))
	return r, err
}
