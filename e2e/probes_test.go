package e2e

import (
	"net/http"
	"strings"
	"testing"
)

// TestProbes checks the endpoints that operators and load balancers use.
func TestProbes(t *testing.T) {
	if target.kind != "berth" {
		t.Skipf("%s has no health, readiness or metrics endpoints", target.kind)
	}
	t.Parallel()
	s := startServer(t)
	s.pushBlob(t, "probes/repo", randomBytes(t, 1024)) // some traffic to count

	for _, path := range []string{"/healthz", "/readyz"} {
		if r := s.do(t, "GET", path, nil); r.status != http.StatusOK {
			t.Errorf("GET %s: %v, want 200", path, r)
		}
	}
	r := s.do(t, "GET", "/metrics", nil)
	if r.status != http.StatusOK {
		t.Fatalf("GET /metrics: %v, want 200", r)
	}
	if ct := r.header.Get("Content-Type"); !strings.HasPrefix(ct, "text/plain") &&
		!strings.HasPrefix(ct, "application/openmetrics-text") {
		t.Errorf("GET /metrics: Content-Type %q, want Prometheus text", ct)
	}
	if !strings.Contains(string(r.body), "# TYPE ") {
		t.Errorf("GET /metrics: no \"# TYPE\" line in %q", truncate(string(r.body), 512))
	}
	if r := s.do(t, "GET", "/v2/", nil); r.status != http.StatusOK {
		t.Errorf("GET /v2/: %v, want 200 (no authentication yet)", r)
	}
}
