// Command registrybench compares Berth with CNCF Distribution on loopback.
//
// It starts both registries side by side, each with its own temporary data directory
// (and with -storage s3 its own bucket on one MinIO server it starts), and measures
// for each:
//
//  1. manifest GET requests per second and p99 latency at a fixed concurrency, with
//     wrk when it is installed and an in-process Go load generator otherwise;
//  2. blob push and blob pull throughput for one large generated blob;
//  3. the peak resident set size (VmHWM) of each server process over the run.
//
// It then starts a fresh Berth for a small and for a big blob, pushes and pulls the
// blob through it and reports Berth's peak RSS, which must not grow with the blob.
//
// Berth runs with authentication on: the benchmark sets the admin's password, sends
// the admin's Basic credentials with its pushes and pulls, and uses repositories of
// the public project "library", so that the manifest GET load pulls anonymously.
//
// Usage:
//
//	go run ./bench/registrybench -berth ./berth -registry .tools/bin/registry
//	go run ./bench/registrybench -berth ./berth -registry .tools/bin/registry -storage s3
//
// Either binary may be left out to measure the other alone. See docs/benchmarks.md.
package main
