// Command pluginbench measures what WebAssembly policies cost Berth (issue 6):
//
//   - the latency that 0, 1 and 3 bound plugins add to manifest PUT and GET over
//     HTTP on loopback (p50 and p99);
//   - decisions per second per core of the policy engine with 3 push policies;
//   - cold start (new host: load, bind, first call) with and without the on-disk
//     compilation cache.
//
// It runs the registry core, the gateway and the policy engine in this process
// over an embedded kvnode member and filesystem storage, without authentication,
// so that the figures are the plugins' cost alone. Push policies are built-ins
// (deny-tags, max-image-size, required-annotations), all allowing; the pull
// policy is allowpull (this folder), bound once or three times. Not run in CI.
//
//	go run ./bench/pluginbench -n 2000 -cpuprofile /tmp/plugins.pprof
//
// docs/benchmarks.md records the figures.
package main
