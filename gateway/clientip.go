package gateway

import (
	"fmt"
	"net/netip"
	"strings"

	"github.com/gofiber/fiber/v2"
)

// proxies are the load balancers whose X-Forwarded-For and X-Forwarded-Proto headers
// the gateway believes. The zero value believes nobody.
type proxies []netip.Prefix

// ParseTrustedProxies checks a list of addresses and CIDR prefixes ("10.0.0.0/8",
// "192.0.2.7") for Config.TrustedProxies.
func ParseTrustedProxies(list []string) (proxies, error) {
	var out proxies
	for _, s := range list {
		s = strings.TrimSpace(s)
		if s == "" {
			continue
		}
		if !strings.Contains(s, "/") {
			a, err := netip.ParseAddr(s)
			if err != nil {
				return nil, fmt.Errorf("trusted proxy %q: %w", s, err)
			}
			out = append(out, netip.PrefixFrom(a.Unmap(), a.Unmap().BitLen()))
			continue
		}
		p, err := netip.ParsePrefix(s)
		if err != nil {
			return nil, fmt.Errorf("trusted proxy %q: %w", s, err)
		}
		out = append(out, p.Masked())
	}
	return out, nil
}

func (ps proxies) trusts(a netip.Addr) bool {
	a = a.Unmap()
	for _, p := range ps {
		if p.Contains(a) {
			return true
		}
	}
	return false
}

// clientIP returns the address of the client: the connection's peer, or, when the
// peer is a trusted proxy, the right-most address of X-Forwarded-For that is not a
// trusted proxy (the left part of that header is whatever the client wrote).
func (s *Server) clientIP(c *fiber.Ctx) string {
	peer, ok := netip.AddrFromSlice(c.Context().RemoteIP())
	if !ok {
		return c.IP()
	}
	peer = peer.Unmap()
	if !s.proxies.trusts(peer) {
		return peer.String()
	}
	hops := strings.Split(c.Get(fiber.HeaderXForwardedFor), ",")
	for i := len(hops) - 1; i >= 0; i-- {
		a, err := netip.ParseAddr(strings.TrimSpace(hops[i]))
		if err != nil {
			break
		}
		if !s.proxies.trusts(a) {
			return a.Unmap().String()
		}
		peer = a.Unmap()
	}
	return peer.String()
}

// scheme returns the scheme the client used: X-Forwarded-Proto from a trusted proxy,
// else the connection's own.
func (s *Server) scheme(c *fiber.Ctx) string {
	peer, ok := netip.AddrFromSlice(c.Context().RemoteIP())
	if ok && s.proxies.trusts(peer) {
		switch p := strings.ToLower(c.Get(fiber.HeaderXForwardedProto)); p {
		case "http", "https":
			return p
		}
	}
	if c.Context().IsTLS() {
		return "https"
	}
	return "http"
}
