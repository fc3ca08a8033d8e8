package gateway

import (
	"errors"

	"github.com/gofiber/fiber/v2"

	"berth.dev/berth/registry"
)

// v2 dispatches every request under /v2 by its parsed path and method.
func (s *Server) v2(c *fiber.Ctx) error {
	c.Set("Docker-Distribution-API-Version", "registry/2.0")
	rt := parseV2Path(c.Path())
	if c.Path() == "/v2" {
		rt = route{kind: routeBase}
	}
	c.Locals(routeLocal, rt.kind)
	if rt.name != "" {
		if err := registry.ValidateName(rt.name); err != nil {
			return writeError(c, s.log, err)
		}
	}
	if s.auth != nil {
		if err := s.authorizeV2(c, rt); err != nil {
			var ce *challengeError
			if errors.As(err, &ce) {
				s.challenge(c, ce)
			}
			return writeError(c, s.log, err)
		}
	}
	h := s.handlers[handlerKey{rt.kind, c.Method()}]
	if h == nil {
		if rt.kind == routeUnknown {
			return writeError(c, s.log, errNotFound)
		}
		return writeError(c, s.log, errMethod)
	}
	if err := h(c, rt); err != nil {
		return writeError(c, s.log, err)
	}
	return nil
}

type handlerFunc func(c *fiber.Ctx, rt route) error

type handlerKey struct {
	kind   routeKind
	method string
}

// handlerTable returns the handler of every route and method under /v2/.
func (s *Server) handlerTable() map[handlerKey]handlerFunc {
	return map[handlerKey]handlerFunc{
		{routeBase, fiber.MethodGet}:         s.base,
		{routeBase, fiber.MethodHead}:        s.base,
		{routeCatalog, fiber.MethodGet}:      s.catalog,
		{routeTags, fiber.MethodGet}:         s.tags,
		{routeManifest, fiber.MethodGet}:     s.getManifest,
		{routeManifest, fiber.MethodHead}:    s.getManifest,
		{routeManifest, fiber.MethodPut}:     s.putManifest,
		{routeManifest, fiber.MethodDelete}:  s.deleteManifest,
		{routeBlob, fiber.MethodGet}:         s.getBlob,
		{routeBlob, fiber.MethodHead}:        s.getBlob,
		{routeBlob, fiber.MethodDelete}:      s.deleteBlob,
		{routeUploadStart, fiber.MethodPost}: s.startUpload,
		{routeUpload, fiber.MethodGet}:       s.uploadStatus,
		{routeUpload, fiber.MethodPatch}:     s.patchUpload,
		{routeUpload, fiber.MethodPut}:       s.putUpload,
		{routeUpload, fiber.MethodDelete}:    s.cancelUpload,
		{routeReferrers, fiber.MethodGet}:    s.referrers,
	}
}

func (s *Server) base(c *fiber.Ctx, _ route) error {
	c.Set(fiber.HeaderContentType, fiber.MIMEApplicationJSON)
	return c.SendString("{}")
}
