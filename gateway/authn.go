package gateway

import (
	"encoding/base64"
	"errors"
	"strings"

	"github.com/gofiber/fiber/v2"

	"berth.dev/berth/auth"
	"berth.dev/berth/registry"
)

// Auth is the access control a Server enforces on /v2/ and /api/v1, and the token
// service it runs at /service/token. Both fields are required.
type Auth struct {
	Service *auth.Service
	Issuer  *auth.Issuer
	// Realm is the token endpoint URL that challenges name; "" derives it from each
	// request as <scheme>://<host>/service/token.
	Realm string
}

// TokenPath is where the token service answers.
const TokenPath = "/service/token"

const principalLocal = "berth.principal"

// Errors of authentication at the HTTP edge. Their messages never hold credentials.
var (
	// errUnauthorized asks the client to authenticate (401 with a challenge).
	errUnauthorized = errors.New("authentication required")
	// errInsufficientScope refuses a token that does not grant what the request needs.
	errInsufficientScope = errors.New("token does not grant the access this request needs")
	// errMalformedAuth refuses an Authorization header that cannot be parsed.
	errMalformedAuth = errors.New("malformed Authorization header")
)

// challengeError is a 401 that carries what the WWW-Authenticate header names.
type challengeError struct {
	err   error
	scope string // "" for none
}

func (e *challengeError) Error() string { return e.err.Error() }
func (e *challengeError) Unwrap() error { return e.err }

// caller is who sent a request, as its credentials say.
type caller struct {
	principal auth.Principal
	claims    *auth.Claims // set for bearer tokens
	basic     bool         // authenticated by Basic credentials
}

// authenticate reads the request's Authorization header. No header is the anonymous
// caller; bad credentials are errors (the token error, ErrBadCredentials,
// ErrThrottled, errMalformedAuth).
func (s *Server) authenticate(c *fiber.Ctx) (caller, error) {
	h := c.Get(fiber.HeaderAuthorization)
	if h == "" {
		return caller{principal: auth.Anonymous}, nil
	}
	kind, cred, _ := strings.Cut(h, " ")
	switch strings.ToLower(kind) {
	case "bearer":
		claims, err := s.auth.Issuer.Verify(c.UserContext(), auth.Secret(strings.TrimSpace(cred)))
		if err != nil {
			return caller{}, err
		}
		return caller{principal: principalOf(claims), claims: claims}, nil
	case "basic":
		p, err := s.basicLogin(c, cred)
		return caller{principal: p, basic: true}, err
	}
	return caller{}, errMalformedAuth
}

// basicLogin checks Basic credentials (base64 of name:password).
func (s *Server) basicLogin(c *fiber.Ctx, cred string) (auth.Principal, error) {
	raw, err := base64.StdEncoding.DecodeString(strings.TrimSpace(cred))
	if err != nil {
		return auth.Principal{}, errMalformedAuth
	}
	name, pw, ok := strings.Cut(string(raw), ":")
	if !ok || name == "" {
		return auth.Principal{}, errMalformedAuth
	}
	return s.auth.Service.Authenticate(c.UserContext(), name, auth.Secret(pw), s.clientIP(c))
}

// principalOf names the subject of a verified token. Its rights come from the
// token's claims, not from the principal.
func principalOf(c *auth.Claims) auth.Principal {
	switch {
	case c.Subject == "":
		return auth.Anonymous
	case strings.HasPrefix(c.Subject, auth.RobotPrefix):
		return auth.Principal{Kind: auth.KindRobot, Name: c.Subject}
	default:
		return auth.Principal{Kind: auth.KindUser, Name: c.Subject}
	}
}

// challenge sets the WWW-Authenticate header of a 401 answer.
func (s *Server) challenge(c *fiber.Ctx, ce *challengeError) {
	v := `Bearer realm="` + s.realm(c) + `",service="` + s.auth.Issuer.Service() + `"`
	if ce.scope != "" {
		v += `,scope="` + ce.scope + `"`
	}
	if errors.Is(ce.err, errInsufficientScope) {
		v += `,error="insufficient_scope"`
	} else if errors.Is(ce.err, auth.ErrInvalidToken) {
		v += `,error="invalid_token"`
	}
	c.Set(fiber.HeaderWWWAuthenticate, v)
}

// realm returns the token endpoint URL for challenges.
func (s *Server) realm(c *fiber.Ctx) string {
	if s.auth.Realm != "" {
		return s.auth.Realm
	}
	return s.scheme(c) + "://" + c.Hostname() + TokenPath
}

// principal returns the authenticated caller of c, anonymous when none.
func principal(c *fiber.Ctx) auth.Principal {
	if p, ok := c.Locals(principalLocal).(auth.Principal); ok {
		return p
	}
	return auth.Anonymous
}

// withActor puts the caller into the request's context for the registry's events.
func (s *Server) withActor(c *fiber.Ctx, p auth.Principal) {
	c.Locals(principalLocal, p)
	c.SetUserContext(registry.WithActor(c.UserContext(), registry.Actor{
		Name: p.Name, Kind: p.Kind.String(), Addr: s.clientIP(c),
	}))
}
