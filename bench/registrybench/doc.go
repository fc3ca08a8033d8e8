// Command registrybench compares Berth with CNCF Distribution on loopback.
//
// It starts both registries side by side, each with its own temporary data directory,
// and measures for each:
//
//  1. manifest GET requests per second and p99 latency at a fixed concurrency, with
//     wrk when it is installed and an in-process Go load generator otherwise;
//  2. blob push and blob pull throughput for one large generated blob;
//  3. the peak resident set size (VmHWM) of each server process over the run.
//
// It then starts a fresh Berth, pushes and pulls a bigger blob through it and reports
// Berth's peak RSS, which must stay bounded however large the blob is.
//
// Usage:
//
//	go run ./bench/registrybench -berth ./berth -registry .tools/bin/registry
//
// Either binary may be left out to measure the other alone. See docs/benchmarks.md.
package main
