package main

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"time"

	"berth.dev/berth/p2p"
)

// result is one measured run.
type result struct {
	mode       string
	agents     int
	times      []time.Duration // completion of every agent, sorted
	seedEgress float64         // bytes the gateway sent for the blob
}

// measure pushes a fresh blob (so that the seed's memory of earlier runs plays no
// part), starts n agents and has them all pull it at once.
func measure(
	ctx context.Context, cfg config, g *gateway, work, mode string, n int,
) (result, error) {
	res := result{mode: mode, agents: n}
	dig, err := g.pushBlob("bench/swarm", int64(cfg.size))
	if err != nil {
		return res, err
	}
	dir, err := os.MkdirTemp(work, fmt.Sprintf("%s-%d-", mode, n))
	if err != nil {
		return res, err
	}
	gatewayURL, egress := g.url, func() (float64, error) {
		return metric(g.url+"/metrics", "berth_p2p_upload_bytes_total", dig)
	}
	rates := append([]string{"--upload-rate", cfg.rate.String(), "--download-rate",
		cfg.rate.String()}, cfg.extra...)
	if mode == "off" {
		px, err := startProxy(strings.TrimPrefix(g.url, "http://"), int64(cfg.rate))
		if err != nil {
			return res, err
		}
		defer px.close()
		gatewayURL, rates = px.url(), []string{"--no-p2p"}
		egress = func() (float64, error) { return float64(px.sent.Load()), nil }
	}
	agents, err := startAgents(ctx, cfg, g, dir, gatewayURL, n, rates)
	if err != nil {
		return res, err
	}
	defer stopAgents(agents)
	if res.times, err = pullAll(agents, g.password, dig); err != nil {
		return res, err
	}
	res.seedEgress, err = egress()
	return res, err
}

// pullAll has every agent pull dig at once and returns the sorted completion times.
func pullAll(agents []*agent, password, dig string) ([]time.Duration, error) {
	times := make([]time.Duration, len(agents))
	errs := make([]error, len(agents))
	var wg sync.WaitGroup
	start := time.Now()
	for i, a := range agents {
		wg.Go(func() {
			errs[i] = pull(a.url+"/v2/bench/swarm/blobs/"+dig, password, dig)
			times[i] = time.Since(start)
		})
	}
	wg.Wait()
	for i, err := range errs {
		if err != nil {
			return nil, fmt.Errorf("agent %d: %w (log %s)", i, err,
				filepath.Base(agents[i].log))
		}
	}
	slices.Sort(times)
	return times, nil
}

// percentile returns the p-th percentile of sorted times (nearest rank).
func percentile(times []time.Duration, p float64) time.Duration {
	i := int(float64(len(times))*p/100+0.999999) - 1
	return times[max(0, min(i, len(times)-1))]
}

func printHeader(cfg config) {
	bound := time.Duration(float64(cfg.size) / float64(cfg.rate) * float64(time.Second))
	piece := size(p2p.PieceSizeFor(int64(cfg.size), int64(cfg.piece)))
	fmt.Printf("S = %s, B = %s/s, piece = %s (p2p.piece_size %s), bound S/B = %.2fs\n\n",
		cfg.size.String(), cfg.rate.String(), piece.String(), cfg.piece.String(), bound.Seconds())
	fmt.Printf("%-5s %6s %8s %8s %8s %9s %11s\n", "mode", "agents", "p50", "p99", "max",
		"p99/bound", "seed egr/S")
}

func printRow(cfg config, r result) {
	bound := float64(cfg.size) / float64(cfg.rate)
	p99 := percentile(r.times, 99)
	fmt.Printf("%-5s %6d %7.2fs %7.2fs %7.2fs %9.2f %11.2f\n", r.mode, r.agents,
		percentile(r.times, 50).Seconds(), p99.Seconds(), r.times[len(r.times)-1].Seconds(),
		p99.Seconds()/bound, r.seedEgress/float64(cfg.size))
}
