// Command kvbench compares Berth's metadata latency on the embedded single member
// of `berth serve` with a 3-member `berth kvnode` cluster behind `berth gateway`,
// all on loopback, in one run (issue 3's benchmark).
//
// For each setup, one at a time, it:
//
//  1. starts the processes with fresh data directories and waits until they serve;
//  2. pushes one config and one layer, then PUTs -n small image manifests one after
//     another, each with a fresh tag and a distinct annotation, and times each PUT;
//  3. fills a second repository with -tags tags, then times -n sequential
//     GET /v2/<repo>/tags/list?n=100;
//  4. stops the processes.
//
// It prints p50 and p99 of both latencies, the cluster/embedded ratios and the
// target (the cluster within 1.5x of the single member). No test asserts on them.
//
// Usage:
//
//	go build -o /tmp/berth ./cmd/berth
//	go run ./bench/kvbench -berth /tmp/berth
//
// See docs/benchmarks.md.
package main
