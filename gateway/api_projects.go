package gateway

import (
	"strings"

	"github.com/gofiber/fiber/v2"

	"berth.dev/berth/auth"
)

func (s *Server) projectRoutes(api fiber.Router) {
	api.Get("/projects", s.listProjects)
	api.Post("/projects", s.createProject)
	api.Get("/projects/:project", s.getProject)
	api.Patch("/projects/:project", s.updateProject)
	api.Delete("/projects/:project", s.deleteProject)
	api.Get("/projects/:project/members", s.listMembers)
	api.Put("/projects/:project/members/:user", s.putMember)
	api.Delete("/projects/:project/members/:user", s.deleteMember)
	api.Get("/projects/:project/repositories", s.listRepositories)
	api.Delete("/projects/:project/repositories/*", s.deleteRepository)
}

// listRepositories lists the repositories of a project in name order.
func (s *Server) listRepositories(c *fiber.Ctx) error {
	name := c.Params("project")
	if err := s.requireProject(c, name, auth.ActionPull); err != nil {
		return err
	}
	after, limit, err := page(c)
	if err != nil {
		return err
	}
	if after == "" || !strings.HasPrefix(after, name+"/") {
		after = name + "/"
	}
	repos, more, err := s.reg.Catalog(c.UserContext(), after, limit)
	if err != nil {
		return err
	}
	out := listAnswer[string]{Items: []string{}}
	for _, r := range repos {
		if !strings.HasPrefix(r, name+"/") {
			more = false
			break
		}
		out.Items = append(out.Items, r)
	}
	if more && len(out.Items) > 0 {
		out.Next = out.Items[len(out.Items)-1]
	}
	return c.JSON(out)
}

// deleteRepository deletes a repository with its tags and manifests.
func (s *Server) deleteRepository(c *fiber.Ctx) error {
	project := c.Params("project")
	rest, err := param(c, "*")
	if err != nil {
		return err
	}
	if err := s.requireProject(c, project, auth.ActionDeleteRepository); err != nil {
		return err
	}
	repo := project + "/" + rest
	if err := s.reg.DeleteRepository(c.UserContext(), repo); err != nil {
		return err
	}
	s.recordAdmin(c, "repository.delete", repo)
	return c.SendStatus(fiber.StatusNoContent)
}

// projectView is a project as the API shows it: with its storage usage.
type projectView struct {
	auth.Project
	UsageBytes int64 `json:"usage_bytes"`
}

// listProjects lists the projects the caller may pull from (all, for admins).
func (s *Server) listProjects(c *fiber.Ctx) error {
	after, limit, err := page(c)
	if err != nil {
		return err
	}
	ctx, p := c.UserContext(), principal(c)
	ps, err := s.auth.Service.Projects(ctx, after, limit)
	if err != nil {
		return err
	}
	out := listAnswer[auth.Project]{Items: []auth.Project{}}
	for _, pr := range ps {
		ok, err := s.auth.Service.AllowedInProject(ctx, p, pr.Name, auth.ActionPull)
		if err != nil {
			return err
		}
		if ok {
			out.Items = append(out.Items, pr)
		}
	}
	if len(ps) == limit {
		out.Next = ps[len(ps)-1].Name
	}
	return c.JSON(out)
}

func (s *Server) createProject(c *fiber.Ctx) error {
	if err := s.requireAdmin(c); err != nil {
		return err
	}
	var req struct {
		Name       string `json:"name"`
		Public     bool   `json:"public"`
		QuotaBytes int64  `json:"quota_bytes"`
	}
	if err := decodeJSON(c, &req); err != nil {
		return err
	}
	if req.QuotaBytes < 0 {
		return errBadQuota
	}
	p, err := s.auth.Service.CreateProject(c.UserContext(), auth.Project{
		Name: req.Name, Public: req.Public, QuotaBytes: req.QuotaBytes,
	})
	if err != nil {
		return err
	}
	s.recordAdmin(c, "project.create", p.Name)
	return c.Status(fiber.StatusCreated).JSON(projectView{Project: p})
}

func (s *Server) getProject(c *fiber.Ctx) error {
	name := c.Params("project")
	if err := s.requireProject(c, name, auth.ActionPull); err != nil {
		return err
	}
	p, err := s.auth.Service.Project(c.UserContext(), name)
	if err != nil {
		return err
	}
	usage, err := s.usage(c, name)
	if err != nil {
		return err
	}
	return c.JSON(projectView{Project: p, UsageBytes: usage})
}

func (s *Server) updateProject(c *fiber.Ctx) error {
	if err := s.requireAdmin(c); err != nil {
		return err
	}
	var upd auth.ProjectUpdate
	if err := decodeJSON(c, &upd); err != nil {
		return err
	}
	if upd.QuotaBytes != nil && *upd.QuotaBytes < 0 {
		return errBadQuota
	}
	name := c.Params("project")
	p, err := s.auth.Service.UpdateProject(c.UserContext(), name, upd)
	if err != nil {
		return err
	}
	s.recordAdmin(c, "project.update", name)
	return c.JSON(projectView{Project: p})
}

// deleteProject deletes an empty project; one that still holds repositories is
// refused, so that no image loses its access rules.
func (s *Server) deleteProject(c *fiber.Ctx) error {
	if err := s.requireAdmin(c); err != nil {
		return err
	}
	name := c.Params("project")
	repos, _, err := s.reg.Catalog(c.UserContext(), name+"/", 1)
	if err != nil {
		return err
	}
	if len(repos) > 0 && strings.HasPrefix(repos[0], name+"/") {
		return errProjectNotEmpty
	}
	if err := s.auth.Service.DeleteProject(c.UserContext(), name); err != nil {
		return err
	}
	s.recordAdmin(c, "project.delete", name)
	return c.SendStatus(fiber.StatusNoContent)
}

func (s *Server) listMembers(c *fiber.Ctx) error {
	name := c.Params("project")
	if err := s.requireProject(c, name, auth.ActionPull); err != nil {
		return err
	}
	ms, err := s.auth.Service.Members(c.UserContext(), name)
	if err != nil {
		return err
	}
	return c.JSON(listAnswer[auth.Member]{Items: append([]auth.Member{}, ms...)})
}

// putMember adds a member or changes its role.
func (s *Server) putMember(c *fiber.Ctx) error {
	name, user := c.Params("project"), c.Params("user")
	if err := s.requireProject(c, name, auth.ActionManageMembers); err != nil {
		return err
	}
	var req struct {
		Role auth.Role `json:"role"`
	}
	if err := decodeJSON(c, &req); err != nil {
		return err
	}
	if err := s.auth.Service.AddMember(c.UserContext(), name, user, req.Role); err != nil {
		return err
	}
	s.recordAdmin(c, "member.set", name+"/"+user+"="+string(req.Role))
	return c.JSON(auth.Member{Project: name, User: user, Role: req.Role})
}

func (s *Server) deleteMember(c *fiber.Ctx) error {
	name, user := c.Params("project"), c.Params("user")
	if err := s.requireProject(c, name, auth.ActionManageMembers); err != nil {
		return err
	}
	if err := s.auth.Service.RemoveMember(c.UserContext(), name, user); err != nil {
		return err
	}
	s.recordAdmin(c, "member.remove", name+"/"+user)
	return c.SendStatus(fiber.StatusNoContent)
}
