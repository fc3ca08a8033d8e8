package gateway

import (
	"strings"

	"github.com/gofiber/fiber/v2"
	"github.com/libp2p/go-libp2p/core/peer"

	"berth.dev/berth/p2p"
	"berth.dev/berth/registry"
)

// routePieces is GET /v2/<name>/blobs/<digest>/pieces: the piece map, a ticket and
// the sources of a blob for a peer agent (docs/p2p.md). Authorization treats it
// as a pull of <name>, like the blob itself.
const routePieces routeKind = "pieces"

// parsePiecesPath recognizes /v2/<name>/blobs/<digest>/pieces.
func parsePiecesPath(rest string) (route, bool) {
	head, ok := strings.CutSuffix(rest, "/pieces")
	if !ok {
		return route{}, false
	}
	rt := parseV2Path("/v2/" + head)
	if rt.kind != routeBlob {
		return route{}, false
	}
	rt.kind = routePieces
	return rt, true
}

// addP2P registers the P2P endpoints when the server seeds.
func (s *Server) addP2P(seed *p2p.Seed) {
	if seed == nil {
		return
	}
	s.seed = seed
	s.metrics.reg.MustRegister(seed.Metrics().Collectors()...)
	s.handlers[handlerKey{routePieces, fiber.MethodGet}] = s.pieces
}

// p2pRoutes serves the ticket public key, which agents need to check the tickets
// of the peers they serve. It is no secret.
func (s *Server) p2pRoutes() {
	if s.seed == nil {
		return
	}
	s.app.Get(p2p.TicketKeyPath, func(c *fiber.Ctx) error {
		return c.JSON(p2p.TicketKeyBody{PublicKey: s.seed.TicketKey()})
	})
	s.agentRoutes()
}

// pieces answers an agent's request for the piece map of a blob.
func (s *Server) pieces(c *fiber.Ctx, rt route) error {
	d, err := registry.ParseDigest(rt.ref)
	if err != nil {
		return err
	}
	size, err := s.reg.StatBlob(c.UserContext(), rt.name, d)
	if err != nil {
		return err
	}
	id, err := peer.Decode(c.Get(p2p.HeaderPeerID))
	if err != nil {
		return fiber.NewError(fiber.StatusBadRequest, "missing or invalid "+p2p.HeaderPeerID)
	}
	var addrs []string
	for _, a := range strings.Split(c.Get(p2p.HeaderPeerAddrs), ",") {
		if a = strings.TrimSpace(a); a != "" {
			addrs = append(addrs, strings.Clone(a))
		}
	}
	ans, err := s.seed.Answer(c.UserContext(), d, size, id, addrs)
	if err != nil {
		return err
	}
	return c.JSON(ans)
}
