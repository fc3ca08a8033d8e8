package gateway

import (
	"errors"
	"strings"

	"github.com/gofiber/fiber/v2"

	"berth.dev/berth/auth"
)

// errUnknownService refuses a token request for another service than this registry.
var errUnknownService = errors.New("token requested for an unknown service")

// tokenGet answers GET /service/token, the Docker registry token protocol: Basic
// credentials (or none, for anonymous pulls) and scope parameters in, a short-lived
// JWT granting what the caller is allowed out.
func (s *Server) tokenGet(c *fiber.Ctx) error {
	if err := s.checkService(c.Query("service")); err != nil {
		return s.tokenError(c, err)
	}
	var params []string
	for _, v := range c.Context().QueryArgs().PeekMulti("scope") {
		params = append(params, string(v))
	}
	who, err := s.authenticate(c)
	if err == nil && who.claims != nil {
		// A token cannot buy another token: it would outlive its own expiry.
		err = errMalformedAuth
	}
	if err != nil {
		return s.tokenError(c, err)
	}
	return s.issue(c, who.principal, params, false)
}

// tokenPost answers POST /service/token, the OAuth2 password grant that containerd
// and docker use when they hold credentials. Refresh tokens are not issued: the
// client logs in again, which the password cache makes cheap.
func (s *Server) tokenPost(c *fiber.Ctx) error {
	if err := s.checkService(c.FormValue("service")); err != nil {
		return s.tokenError(c, err)
	}
	if c.FormValue("grant_type") != "password" {
		return c.Status(fiber.StatusBadRequest).JSON(fiber.Map{
			"error":             "unsupported_grant_type",
			"error_description": "only the password grant is supported",
		})
	}
	name, pw := c.FormValue("username"), auth.Secret(c.FormValue("password"))
	p, err := s.auth.Service.Authenticate(c.UserContext(), name, pw, s.clientIP(c))
	if err != nil {
		return s.tokenError(c, err)
	}
	return s.issue(c, p, strings.Fields(c.FormValue("scope")), true)
}

func (s *Server) checkService(service string) error {
	if service != "" && service != s.auth.Issuer.Service() {
		return errUnknownService
	}
	return nil
}

// issue answers with a token for p granting what it may of the scope parameters.
func (s *Server) issue(c *fiber.Ctx, p auth.Principal, params []string, oauth bool) error {
	scopes, err := auth.ParseScopes(params)
	if err != nil {
		return s.tokenError(c, err)
	}
	tok, err := s.auth.Issuer.Issue(c.UserContext(), p, scopes)
	if err != nil {
		return s.tokenError(c, err)
	}
	s.log.Debug("token issued", "principal", p, "token", tok, "remote", s.clientIP(c))
	c.Set(fiber.HeaderCacheControl, "no-store")
	if oauth {
		return c.JSON(fiber.Map{
			"access_token": string(tok.AccessToken), "expires_in": tok.ExpiresIn,
			"issued_at": tok.IssuedAt, "scope": strings.Join(params, " "),
		})
	}
	return c.JSON(fiber.Map{
		"token": string(tok.Token), "access_token": string(tok.AccessToken),
		"expires_in": tok.ExpiresIn, "issued_at": tok.IssuedAt,
	})
}

// tokenError answers a failed token request with the OCI error body: 401 for bad
// credentials, 429 when throttled, 400 for bad scopes.
func (s *Server) tokenError(c *fiber.Ctx, err error) error {
	if errors.Is(err, auth.ErrInvalidScope) || errors.Is(err, errUnknownService) {
		c.Status(fiber.StatusBadRequest)
		return c.JSON(errorBody{Errors: []errorEntry{{Code: "UNSUPPORTED", Message: err.Error()}}})
	}
	var ce *challengeError
	if errors.As(s.credentialError(err, ""), &ce) {
		c.Set(fiber.HeaderWWWAuthenticate, `Basic realm="berth"`)
	}
	return writeError(c, s.log, err)
}
