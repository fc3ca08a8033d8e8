package gateway

import (
	"fmt"
	"io"
	"strings"

	"github.com/gofiber/fiber/v2"

	"berth.dev/berth/registry"
)

// getManifest answers GET and HEAD of a manifest by tag or digest. The stored media
// type is returned whatever the Accept header says: Berth never converts manifests.
func (s *Server) getManifest(c *fiber.Ctx, rt route) error {
	ref, err := registry.ParseReference(rt.ref)
	if err != nil {
		return err
	}
	ctx := c.UserContext()
	if c.Method() == fiber.MethodHead {
		m, err := s.reg.StatManifest(ctx, rt.name, ref)
		if err != nil {
			return err
		}
		setManifestHeaders(c, m)
		return sendHeadLength(c, m.Size)
	}
	m, b, err := s.reg.GetManifest(ctx, rt.name, ref)
	if err != nil {
		return err
	}
	setManifestHeaders(c, m)
	return c.Send(b)
}

func setManifestHeaders(c *fiber.Ctx, m registry.Manifest) {
	c.Set(fiber.HeaderContentType, m.MediaType)
	c.Set("Docker-Content-Digest", m.Digest.String())
	c.Set(fiber.HeaderETag, `"`+m.Digest.String()+`"`)
}

// putManifest stores a manifest read whole, up to MaxManifestSize bytes.
func (s *Server) putManifest(c *fiber.Ctx, rt route) error {
	ref, err := registry.ParseReference(rt.ref)
	if err != nil {
		return err
	}
	if n := contentLength(c); n > registry.MaxManifestSize {
		return fmt.Errorf("%w: %d bytes, limit %d", registry.ErrManifestTooLarge, n,
			registry.MaxManifestSize)
	}
	b, err := io.ReadAll(io.LimitReader(body(c), registry.MaxManifestSize+1))
	if err != nil {
		return fmt.Errorf("%w: reading body: %v", registry.ErrManifestInvalid, err)
	}
	var also []string
	for _, t := range c.Context().QueryArgs().PeekMulti("tag") {
		also = append(also, string(t))
	}
	m, err := s.reg.PutManifest(c.UserContext(), rt.name, ref, also,
		c.Get(fiber.HeaderContentType), b)
	if err != nil {
		return err
	}
	if len(also) > 0 {
		c.Set("OCI-Tag", strings.Join(m.Tags, ","))
	}
	c.Set(fiber.HeaderLocation, "/v2/"+rt.name+"/manifests/"+m.Digest.String())
	c.Set("Docker-Content-Digest", m.Digest.String())
	if m.Subject != "" {
		c.Set("OCI-Subject", m.Subject.String())
	}
	return c.SendStatus(fiber.StatusCreated)
}

func (s *Server) deleteManifest(c *fiber.Ctx, rt route) error {
	ref, err := registry.ParseReference(rt.ref)
	if err != nil {
		return err
	}
	if err := s.reg.DeleteManifest(c.UserContext(), rt.name, ref); err != nil {
		return err
	}
	return c.SendStatus(fiber.StatusAccepted)
}
