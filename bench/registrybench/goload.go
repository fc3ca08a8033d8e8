package main

import (
	"context"
	"io"
	"net/http"
	"slices"
	"sync"
	"time"
)

// goLoad drives the load from this process: one keep-alive connection per goroutine.
// It shares the CPU with the server under test, so it understates fast servers.
type goLoad struct {
	fallback bool // wrk was wanted but is not installed
}

func (g goLoad) name() string {
	if g.fallback {
		return "in-process Go client (wrk not found)"
	}
	return "in-process Go client"
}

func (goLoad) run(ctx context.Context, spec loadSpec) (loadResult, error) {
	transport := &http.Transport{MaxIdleConnsPerHost: spec.conns}
	defer transport.CloseIdleConnections()
	hc := &http.Client{Transport: transport}
	ctx, cancel := context.WithTimeout(ctx, spec.duration)
	defer cancel()

	var mu sync.Mutex // guards samples and errors
	var samples []time.Duration
	var errors int64
	var wg sync.WaitGroup
	start := time.Now()
	for range spec.conns {
		wg.Go(func() {
			lat, errs := hammer(ctx, hc, spec)
			mu.Lock()
			samples, errors = append(samples, lat...), errors+errs
			mu.Unlock()
		})
	}
	wg.Wait()
	elapsed := time.Since(start)
	return summarize(samples, errors, elapsed), nil
}

// hammer sends GETs one after another until ctx ends and returns their latencies.
func hammer(ctx context.Context, hc *http.Client, spec loadSpec) ([]time.Duration, int64) {
	var lat []time.Duration
	var errors int64
	for ctx.Err() == nil {
		req, _ := http.NewRequestWithContext(ctx, http.MethodGet, spec.url, nil)
		req.Header.Set("Accept", spec.accept)
		t0 := time.Now()
		resp, err := hc.Do(req)
		if err != nil {
			if ctx.Err() == nil {
				errors++
			}
			continue
		}
		io.Copy(io.Discard, resp.Body)
		resp.Body.Close()
		lat = append(lat, time.Since(t0))
		if resp.StatusCode != http.StatusOK {
			errors++
		}
	}
	return lat, errors
}

// summarize computes the rate and the 99th percentile of the sorted samples.
func summarize(samples []time.Duration, errors int64, elapsed time.Duration) loadResult {
	r := loadResult{requests: int64(len(samples)), errors: errors}
	if len(samples) == 0 {
		return r
	}
	slices.Sort(samples)
	r.p99 = samples[(len(samples)*99+99)/100-1]
	r.rps = float64(len(samples)) / elapsed.Seconds()
	return r
}
