package gateway

import (
	"errors"
	"net/url"
	"strconv"

	"github.com/gofiber/fiber/v2"

	"berth.dev/berth/auth"
)

// APIPrefix is where the admin API answers (docs/api.md).
const APIPrefix = "/api/v1"

// Errors of the admin API's edge.
var (
	errAPIBadJSON      = errors.New("request body is not valid JSON for this endpoint")
	errForbidden       = errors.New("the caller may not do this")
	errBadParam        = errors.New("invalid query parameter")
	errBadQuota        = errors.New("quota_bytes must be zero (no quota) or positive")
	errBadExpiry       = errors.New("expires_in must be a positive duration such as 720h")
	errProjectNotEmpty = errors.New("project still holds repositories: delete them first")
)

// apiRoutes mounts the admin API. Every endpoint needs Basic credentials of a user
// or robot; what each may do is checked per endpoint against docs/roles.md.
func (s *Server) apiRoutes() {
	api := s.app.Group(APIPrefix, s.apiAuthenticate)
	api.Get("/me", s.apiMe)
	s.projectRoutes(api)
	s.userRoutes(api)
	s.robotRoutes(api)
	s.pluginRoutes(api)
	s.preheatRoutes(api)
	api.Get("/audit", s.getAudit)
	api.Post("/system/token-key/rotate", s.apiRotateKey)
	api.Use(func(c *fiber.Ctx) error { return errNotFound })
}

// apiAuthenticate admits callers with valid Basic credentials and records who they
// are; anything else gets 401 with a Basic challenge.
func (s *Server) apiAuthenticate(c *fiber.Ctx) error {
	who, err := s.authenticate(c)
	if err == nil && (who.claims != nil || who.principal.Kind == auth.KindAnonymous) {
		err = errUnauthorized
	}
	if err != nil {
		var ce *challengeError
		if errors.As(s.credentialError(err, ""), &ce) || errors.Is(err, errUnauthorized) {
			c.Set(fiber.HeaderWWWAuthenticate, `Basic realm="berth"`)
		}
		return err
	}
	s.withActor(c, who.principal)
	return c.Next()
}

func (s *Server) apiMe(c *fiber.Ctx) error {
	p := principal(c)
	admin, err := s.auth.Service.IsAdmin(c.UserContext(), p)
	if err != nil {
		return err
	}
	return c.JSON(fiber.Map{"name": p.Name, "kind": p.Kind.String(), "admin": admin})
}

func (s *Server) apiRotateKey(c *fiber.Ctx) error {
	if err := s.requireAdmin(c); err != nil {
		return err
	}
	kid, err := s.auth.Issuer.Rotate(c.UserContext())
	if err != nil {
		return err
	}
	s.recordAdmin(c, "token-key.rotate", kid)
	return c.JSON(fiber.Map{"kid": kid})
}

// requireAdmin lets system admins through.
func (s *Server) requireAdmin(c *fiber.Ctx) error {
	ok, err := s.auth.Service.IsAdmin(c.UserContext(), principal(c))
	if err != nil {
		return err
	}
	if !ok {
		return errForbidden
	}
	return nil
}

// requireProject lets through callers allowed action a in project.
func (s *Server) requireProject(c *fiber.Ctx, project string, a auth.Action) error {
	ok, err := s.auth.Service.AllowedInProject(c.UserContext(), principal(c), project, a)
	if err != nil {
		return err
	}
	if ok {
		return nil
	}
	if _, err := s.auth.Service.Project(c.UserContext(), project); err != nil {
		return err // not found: say so rather than forbidden
	}
	return errForbidden
}

// param returns the path parameter name, unescaped (robot names hold '$' and '+').
func param(c *fiber.Ctx, name string) (string, error) {
	v, err := url.PathUnescape(c.Params(name))
	if err != nil {
		return "", errBadParam
	}
	return v, nil
}

// decodeJSON reads the request body into v, refusing unknown fields.
func decodeJSON(c *fiber.Ctx, v any) error {
	if err := strictJSON(c.Body(), v); err != nil {
		return errAPIBadJSON
	}
	return nil
}

// page reads the after and limit query parameters of a list endpoint.
func page(c *fiber.Ctx) (after string, limit int, err error) {
	limit = 100
	if v := c.Query("limit"); v != "" {
		limit, err = strconv.Atoi(v)
		if err != nil || limit < 1 || limit > 1000 {
			return "", 0, errBadParam
		}
	}
	return c.Query("after"), limit, nil
}

// listAnswer is the shape of every list answer: items and the cursor of the next page
// ("" at the end).
type listAnswer[T any] struct {
	Items []T    `json:"items"`
	Next  string `json:"next,omitempty"`
}
