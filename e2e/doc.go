// Package e2e holds Berth's end-to-end tests: a real berth binary on a loopback
// port, driven by real clients (the OCI conformance program, crane, oras, skopeo,
// containerd's ctr) and by plain HTTP requests that a well-behaved client never sends.
//
// The package has no code of its own; everything is in its _test.go files.
//
//  1. TestMain builds ./cmd/berth once into a temporary directory
//     (or uses the binary named by BERTH_BIN).
//  2. Each test starts its own `berth serve` with a fresh data directory,
//     waits for /readyz and stops the process when the test ends.
//  3. Client programs come from the directory named by BERTH_TOOLS
//     (./scripts/tools.sh fills .tools/bin); skopeo and ctr also come from PATH.
//     When BERTH_TOOLS is unset the client tests skip, so `go test ./...` passes
//     on a machine without the tools. ./scripts/test sets BERTH_REQUIRE_TOOLS=1,
//     and then a missing tool fails its test.
//
// BERTH_E2E_TARGET=distribution runs the same tests against CNCF Distribution
// ($BERTH_TOOLS/registry, installed by `BERTH_BENCH_TOOLS=1 ./scripts/tools.sh`).
// It is a way to tell a bug in a test from a bug in Berth; Distribution itself
// fails the checks where Berth promises more than it does.
package e2e
