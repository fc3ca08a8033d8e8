package gateway

import (
	"io"
	"log/slog"
	"net/http/httptest"
	"testing"

	"github.com/gofiber/fiber/v2"
)

func TestClientIP(t *testing.T) {
	tests := []struct {
		name    string
		trusted []string
		xff     string
		proto   string
		want    string
		scheme  string
	}{
		{"no proxies: the peer, headers ignored", nil, "203.0.113.9", "https", "0.0.0.0", "http"},
		{"trusted peer: the forwarded client", []string{"0.0.0.0"}, "203.0.113.9", "https",
			"203.0.113.9", "https"},
		{"spoofed left part ignored", []string{"0.0.0.0/32", "10.0.0.0/8"},
			"1.2.3.4, 203.0.113.9, 10.1.2.3", "", "203.0.113.9", "http"},
		{"all hops trusted: the left-most", []string{"0.0.0.0", "10.0.0.0/8"}, "10.9.9.9",
			"", "10.9.9.9", "http"},
		{"garbage stops the walk", []string{"0.0.0.0"}, "nonsense", "", "0.0.0.0", "http"},
		{"bad proto ignored", []string{"0.0.0.0"}, "", "gopher", "0.0.0.0", "http"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			ps, err := ParseTrustedProxies(tt.trusted)
			if err != nil {
				t.Fatal(err)
			}
			s := &Server{proxies: ps, log: slog.New(slog.NewTextHandler(io.Discard, nil))}
			app := fiber.New()
			app.Get("/", func(c *fiber.Ctx) error {
				return c.SendString(s.clientIP(c) + " " + s.scheme(c))
			})
			req := httptest.NewRequest("GET", "/", nil)
			if tt.xff != "" {
				req.Header.Set("X-Forwarded-For", tt.xff)
			}
			if tt.proto != "" {
				req.Header.Set("X-Forwarded-Proto", tt.proto)
			}
			resp, err := app.Test(req)
			if err != nil {
				t.Fatal(err)
			}
			b, _ := io.ReadAll(resp.Body)
			if got, want := string(b), tt.want+" "+tt.scheme; got != want {
				t.Errorf("got %q, want %q", got, want)
			}
		})
	}
	if _, err := ParseTrustedProxies([]string{"10.0.0.0/33"}); err == nil {
		t.Error("ParseTrustedProxies accepted 10.0.0.0/33")
	}
}
