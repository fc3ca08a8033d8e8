package gateway

import (
	"errors"
	"io"

	"github.com/gofiber/fiber/v2"

	"berth.dev/berth/auth"
	"berth.dev/berth/policies"
)

// PolicyCatalog is the plugin and binding catalog the admin API serves.
type PolicyCatalog = policies.Admin

var (
	errNoCatalog    = errors.New("plugins and policies are not served by this gateway")
	errModuleTooBig = errors.New("plugin module too large")
)

func (s *Server) pluginRoutes(api fiber.Router) {
	api.Get("/plugins", s.listPlugins)
	api.Post("/plugins", s.installPlugin)
	api.Delete("/plugins/:name", s.removePlugin)
	api.Get("/policies", s.listPolicies)
	api.Post("/policies", s.attachPolicy)
	api.Delete("/policies/:id", s.detachPolicy)
}

func (s *Server) policyCatalog() (PolicyCatalog, error) {
	if s.policies == nil {
		return nil, errNoCatalog
	}
	return s.policies, nil
}

// listPlugins lists built-in and installed plugins to any authenticated caller.
func (s *Server) listPlugins(c *fiber.Ctx) error {
	cat, err := s.policyCatalog()
	if err != nil {
		return err
	}
	recs, err := cat.Plugins(c.UserContext())
	if err != nil {
		return err
	}
	return c.JSON(listAnswer[policies.PluginRecord]{Items: recs})
}

// installPlugin stores the module in the body under ?name=; system admins only.
func (s *Server) installPlugin(c *fiber.Ctx) error {
	cat, err := s.policyCatalog()
	if err != nil {
		return err
	}
	if err := s.requireAdmin(c); err != nil {
		return err
	}
	wasm, err := readLimited(c, policies.MaxModuleSize)
	if err != nil {
		return err
	}
	rec, err := cat.Install(c.UserContext(), c.Query("name"), wasm)
	if err != nil {
		return err
	}
	s.recordAdmin(c, "plugin.install", rec.Name)
	return c.Status(fiber.StatusCreated).JSON(rec)
}

func (s *Server) removePlugin(c *fiber.Ctx) error {
	cat, err := s.policyCatalog()
	if err != nil {
		return err
	}
	if err := s.requireAdmin(c); err != nil {
		return err
	}
	name, err := param(c, "name")
	if err != nil {
		return err
	}
	if err := cat.Uninstall(c.UserContext(), name); err != nil {
		return err
	}
	s.recordAdmin(c, "plugin.remove", name)
	return c.SendStatus(fiber.StatusNoContent)
}

// listPolicies lists the bindings the caller may manage: all for system admins,
// those of projects where the caller may manage policies otherwise.
func (s *Server) listPolicies(c *fiber.Ctx) error {
	cat, err := s.policyCatalog()
	if err != nil {
		return err
	}
	bs, err := cat.Bindings(c.UserContext())
	if err != nil {
		return err
	}
	out := listAnswer[policies.Binding]{Items: []policies.Binding{}}
	for _, b := range bs {
		if s.mayManage(c, b.Scope) == nil {
			out.Items = append(out.Items, b)
		}
	}
	return c.JSON(out)
}

func (s *Server) attachPolicy(c *fiber.Ctx) error {
	cat, err := s.policyCatalog()
	if err != nil {
		return err
	}
	var b policies.Binding
	if err := decodeJSON(c, &b); err != nil {
		return err
	}
	if b.Scope == "" {
		b.Scope = policies.ScopeSystem
	}
	if err := s.mayManage(c, b.Scope); err != nil {
		return err
	}
	b, err = cat.Attach(c.UserContext(), policies.Binding{Plugin: b.Plugin, Hook: b.Hook,
		Scope: b.Scope, Config: b.Config, FailOpen: b.FailOpen, Grant: b.Grant})
	if err != nil {
		return err
	}
	s.recordAdmin(c, "policy.attach", b.ID)
	return c.Status(fiber.StatusCreated).JSON(b)
}

func (s *Server) detachPolicy(c *fiber.Ctx) error {
	cat, err := s.policyCatalog()
	if err != nil {
		return err
	}
	id, err := param(c, "id")
	if err != nil {
		return err
	}
	b, err := cat.Binding(c.UserContext(), id)
	if err != nil {
		return err
	}
	if err := s.mayManage(c, b.Scope); err != nil {
		return err
	}
	if err := cat.Detach(c.UserContext(), id); err != nil {
		return err
	}
	s.recordAdmin(c, "policy.detach", id)
	return c.SendStatus(fiber.StatusNoContent)
}

// mayManage lets through callers who may manage the bindings of scope: system
// admins for the system scope, project admins and maintainers for a project.
func (s *Server) mayManage(c *fiber.Ctx, scope string) error {
	if scope == policies.ScopeSystem {
		return s.requireAdmin(c)
	}
	return s.requireProject(c, scope, auth.ActionManagePolicies)
}

// readLimited reads the request body, refusing one longer than limit.
func readLimited(c *fiber.Ctx, limit int64) ([]byte, error) {
	var r io.Reader = c.Context().RequestBodyStream()
	if r == nil {
		b := c.Body()
		if int64(len(b)) > limit {
			return nil, errModuleTooBig
		}
		return b, nil
	}
	b, err := io.ReadAll(io.LimitReader(r, limit+1))
	if err != nil {
		return nil, err
	}
	if int64(len(b)) > limit {
		return nil, errModuleTooBig
	}
	return b, nil
}
