// Package gateway is Berth's HTTP surface: the OCI Distribution API under /v2/,
// health and readiness probes, and Prometheus metrics. It holds no state of its own;
// every request is served from the registry core, so any replica serves any request.
//
// Domain errors from the registry core become OCI error codes and HTTP statuses in
// one table (errors.go). Blob bodies stream between the socket and storage; the Fiber
// server is configured for streamed request bodies (see server.go).
package gateway
