package gateway

import (
	"errors"

	"github.com/gofiber/fiber/v2"

	"berth.dev/berth/auth"
)

// Token actions on repositories, as the Docker token protocol names them.
const (
	scopePull   = "pull"
	scopePush   = "push"
	scopeDelete = "delete"
)

// authActions maps token actions to the auth room's actions.
var authActions = map[string]auth.Action{
	scopePull:   auth.ActionPull,
	scopePush:   auth.ActionPush,
	scopeDelete: auth.ActionDeleteArtifact,
}

// requiredAction returns the token action a /v2/ request needs on its repository:
// reads need pull, writes push, and deletes delete, except that every request on an
// upload session is part of a push (cancelling one included).
func requiredAction(kind routeKind, method string) string {
	switch {
	case kind == routeUpload || kind == routeUploadStart:
		return scopePush
	case method == fiber.MethodGet || method == fiber.MethodHead:
		return scopePull
	case method == fiber.MethodDelete:
		return scopeDelete
	}
	return scopePush
}

// authorizeV2 lets a /v2/ request through or returns why not. Anonymous callers may
// pull from public projects and nothing else; /v2/ itself needs any valid credential,
// which is how clients learn where to get tokens.
func (s *Server) authorizeV2(c *fiber.Ctx, rt route) error {
	who, err := s.authenticate(c)
	if err != nil {
		return s.credentialError(err, "")
	}
	s.withActor(c, who.principal)
	switch rt.kind {
	case routeBase, routeUnknown:
		if who.principal.Kind == auth.KindAnonymous {
			return &challengeError{err: errUnauthorized}
		}
		return nil
	case routeCatalog:
		return s.authorizeCatalog(c, who)
	}
	act := requiredAction(rt.kind, c.Method())
	if err := s.allow(c, who, rt.name, act); err != nil {
		return err
	}
	if rt.kind == routeUploadStart && c.Query("mount") != "" {
		from := c.Query("from")
		c.Locals(mountLocal, from != "" && s.allow(c, who, from, scopePull) == nil)
	}
	return nil
}

const mountLocal = "berth.mount-allowed"

// mountAllowed reports whether the caller may read the source of a cross-repository
// mount; when not, the registry starts an ordinary upload instead, as the spec allows.
func mountAllowed(c *fiber.Ctx) bool {
	ok, set := c.Locals(mountLocal).(bool)
	return ok || !set
}

// allow checks that who may do act on repository name.
func (s *Server) allow(c *fiber.Ctx, who caller, name, act string) error {
	scope := "repository:" + name + ":" + act
	if act == scopePush {
		scope = "repository:" + name + ":pull,push"
	}
	if who.claims != nil {
		if who.claims.Allows("repository", name, act) {
			return nil
		}
		if who.principal.Kind != auth.KindAnonymous {
			if err := s.missingProject(c, name); err != nil {
				return err
			}
		}
		return &challengeError{err: errInsufficientScope, scope: scope}
	}
	ok, err := s.auth.Service.Allowed(c.UserContext(), who.principal, name, authActions[act])
	if err != nil {
		return err
	}
	if ok {
		return nil
	}
	if who.principal.Kind == auth.KindAnonymous {
		return &challengeError{err: errUnauthorized, scope: scope}
	}
	return s.denied(c, name)
}

// denied explains a refusal to an authenticated caller: a missing project is named,
// since pushing to one is the most common mistake.
func (s *Server) denied(c *fiber.Ctx, name string) error {
	if err := s.missingProject(c, name); err != nil {
		return err
	}
	return errAccessDenied
}

// missingProject returns why repository name can have no access at all: it has no
// project component, or its project does not exist. It returns nil otherwise.
func (s *Server) missingProject(c *fiber.Ctx, name string) error {
	proj, err := auth.ProjectOf(name)
	if err != nil {
		return errNoProject
	}
	_, err = s.auth.Service.Project(c.UserContext(), proj)
	if errors.Is(err, auth.ErrProjectNotFound) {
		return &projectError{project: proj}
	}
	return nil
}

var (
	errAccessDenied = errors.New("requested access to the resource is denied")
	errNoProject    = errors.New("repository names start with a project, such as library/NAME")
)

// errProjectUnknown is wrapped by projectError.
var errProjectUnknown = errors.New("project does not exist")

// projectError reports a repository whose project does not exist.
type projectError struct{ project string }

func (e *projectError) Unwrap() error { return errProjectUnknown }

func (e *projectError) Error() string {
	return "project " + e.project + " does not exist: an admin creates it with " +
		"`berth project create " + e.project + "`"
}

// authorizeCatalog allows the catalog to system admins only: it lists every
// repository of every project.
func (s *Server) authorizeCatalog(c *fiber.Ctx, who caller) error {
	const scope = "registry:catalog:*"
	if who.claims != nil {
		if who.claims.Allows("registry", "catalog", "*") {
			return nil
		}
		return &challengeError{err: errInsufficientScope, scope: scope}
	}
	if who.principal.Kind == auth.KindAnonymous {
		return &challengeError{err: errUnauthorized, scope: scope}
	}
	admin, err := s.auth.Service.IsAdmin(c.UserContext(), who.principal)
	if err != nil {
		return err
	}
	if !admin {
		return errAccessDenied
	}
	return nil
}

// credentialError turns a failed authentication into the error answered.
func (s *Server) credentialError(err error, scope string) error {
	switch {
	case errors.Is(err, auth.ErrInvalidToken), errors.Is(err, auth.ErrBadCredentials),
		errors.Is(err, errMalformedAuth):
		return &challengeError{err: err, scope: scope}
	}
	return err
}
