package e2e

import (
	"crypto/tls"
	"errors"
	"net"
	"net/http"
	"strings"
	"testing"
	"time"
)

// TestProbes checks the endpoints that operators and load balancers use.
func TestProbes(t *testing.T) {
	if target.kind == "distribution" {
		t.Skip("Distribution has no health, readiness or metrics endpoints")
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

// tlsAnswerDeadline bounds the wait for any answer to a TLS handshake. Clients
// that try HTTPS before plain HTTP (skopeo, Docker with insecure registries)
// stall until their own timeout when the server stays silent.
const tlsAnswerDeadline = 5 * time.Second

// TestTLSHandshakeToPlainPort sends a TLS ClientHello to the plain-HTTP port.
// The server must answer or close at once, so that clients fall back to HTTP.
func TestTLSHandshakeToPlainPort(t *testing.T) {
	t.Parallel()
	s := startServer(t)
	conn, err := net.DialTimeout("tcp", s.addr, tlsAnswerDeadline)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	conn.SetDeadline(time.Now().Add(tlsAnswerDeadline))
	client := tls.Client(conn, &tls.Config{InsecureSkipVerify: true})
	err = client.Handshake()
	var netErr net.Error
	switch {
	case err == nil:
		t.Fatal("TLS handshake with a plain-HTTP server succeeded")
	case errors.As(err, &netErr) && netErr.Timeout():
		t.Errorf("no answer to a TLS ClientHello within %s: clients that try HTTPS "+
			"first stall before falling back to HTTP", tlsAnswerDeadline)
	}
}
