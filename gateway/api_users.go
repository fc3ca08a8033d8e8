package gateway

import (
	"github.com/gofiber/fiber/v2"

	"berth.dev/berth/auth"
)

func (s *Server) userRoutes(api fiber.Router) {
	api.Get("/users", s.listUsers)
	api.Post("/users", s.createUser)
	api.Get("/users/:user", s.getUser)
	api.Patch("/users/:user", s.updateUser)
	api.Delete("/users/:user", s.deleteUser)
}

func (s *Server) listUsers(c *fiber.Ctx) error {
	if err := s.requireAdmin(c); err != nil {
		return err
	}
	after, limit, err := page(c)
	if err != nil {
		return err
	}
	us, err := s.auth.Service.Users(c.UserContext(), after, limit)
	if err != nil {
		return err
	}
	out := listAnswer[auth.User]{Items: append([]auth.User{}, us...)}
	if len(us) == limit {
		out.Next = us[len(us)-1].Name
	}
	return c.JSON(out)
}

func (s *Server) createUser(c *fiber.Ctx) error {
	if err := s.requireAdmin(c); err != nil {
		return err
	}
	var req struct {
		Name     string `json:"name"`
		Password string `json:"password"`
		Admin    bool   `json:"admin"`
	}
	if err := decodeJSON(c, &req); err != nil {
		return err
	}
	u, err := s.auth.Service.CreateUser(c.UserContext(), req.Name, auth.Secret(req.Password),
		req.Admin)
	if err != nil {
		return err
	}
	s.recordAdmin(c, "user.create", u.Name)
	return c.Status(fiber.StatusCreated).JSON(u)
}

// selfOrAdmin lets through a user acting on its own account, and admins.
func (s *Server) selfOrAdmin(c *fiber.Ctx, name string) error {
	p := principal(c)
	if p.Kind == auth.KindUser && p.Name == name {
		return nil
	}
	return s.requireAdmin(c)
}

func (s *Server) getUser(c *fiber.Ctx) error {
	name := c.Params("user")
	if err := s.selfOrAdmin(c, name); err != nil {
		return err
	}
	u, err := s.auth.Service.User(c.UserContext(), name)
	if err != nil {
		return err
	}
	return c.JSON(u)
}

// updateUser changes a password (the user itself or an admin) or the admin flag
// (admins only).
func (s *Server) updateUser(c *fiber.Ctx) error {
	name := c.Params("user")
	var req struct {
		Password *string `json:"password"`
		Admin    *bool   `json:"admin"`
	}
	if err := decodeJSON(c, &req); err != nil {
		return err
	}
	check := s.selfOrAdmin
	if req.Admin != nil {
		check = func(c *fiber.Ctx, _ string) error { return s.requireAdmin(c) }
	}
	if err := check(c, name); err != nil {
		return err
	}
	ctx := c.UserContext()
	if req.Password != nil {
		if err := s.auth.Service.SetPassword(ctx, name, auth.Secret(*req.Password)); err != nil {
			return err
		}
		s.recordAdmin(c, "user.password", name)
	}
	if req.Admin != nil {
		if err := s.auth.Service.SetAdmin(ctx, name, *req.Admin); err != nil {
			return err
		}
		s.recordAdmin(c, "user.admin", name)
	}
	return s.getUser(c)
}

func (s *Server) deleteUser(c *fiber.Ctx) error {
	if err := s.requireAdmin(c); err != nil {
		return err
	}
	name := c.Params("user")
	if err := s.auth.Service.DeleteUser(c.UserContext(), name); err != nil {
		return err
	}
	s.recordAdmin(c, "user.delete", name)
	return c.SendStatus(fiber.StatusNoContent)
}
