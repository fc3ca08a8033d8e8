package gateway

import (
	"time"

	"github.com/gofiber/fiber/v2"

	"berth.dev/berth/auth"
)

func (s *Server) robotRoutes(api fiber.Router) {
	api.Get("/robots", s.listRobots)
	api.Post("/robots", s.createRobot)
	api.Patch("/robots/:robot", s.updateRobot)
	api.Delete("/robots/:robot", s.deleteRobot)
}

// mayManageRobots lets through admins, and for a project's robots its project
// admins (those who may manage members).
func (s *Server) mayManageRobots(c *fiber.Ctx, project string) error {
	if project == "" {
		return s.requireAdmin(c)
	}
	return s.requireProject(c, project, auth.ActionManageMembers)
}

func (s *Server) listRobots(c *fiber.Ctx) error {
	project := c.Query("project")
	if err := s.mayManageRobots(c, project); err != nil {
		return err
	}
	rs, err := s.auth.Service.Robots(c.UserContext(), project)
	if err != nil {
		return err
	}
	return c.JSON(listAnswer[auth.Robot]{Items: append([]auth.Robot{}, rs...)})
}

// robotCreated is the answer to a robot's creation: the only time its secret is shown.
type robotCreated struct {
	auth.Robot
	Secret string `json:"secret"`
}

func (s *Server) createRobot(c *fiber.Ctx) error {
	var req struct {
		Name        string            `json:"name"`
		Project     string            `json:"project"`
		Description string            `json:"description"`
		Permissions []auth.Permission `json:"permissions"`
		// ExpiresIn is a Go duration such as "720h"; "" never expires.
		ExpiresIn string `json:"expires_in"`
	}
	if err := decodeJSON(c, &req); err != nil {
		return err
	}
	if err := s.mayManageRobots(c, req.Project); err != nil {
		return err
	}
	spec := auth.RobotSpec{Name: req.Name, Project: req.Project,
		Description: req.Description, Permissions: req.Permissions}
	if req.ExpiresIn != "" {
		d, err := time.ParseDuration(req.ExpiresIn)
		if err != nil || d <= 0 {
			return errBadExpiry
		}
		spec.Expires = time.Now().Add(d)
	}
	r, secret, err := s.auth.Service.CreateRobot(c.UserContext(), spec)
	if err != nil {
		return err
	}
	s.recordAdmin(c, "robot.create", robotTarget(r))
	c.Set(fiber.HeaderCacheControl, "no-store")
	return c.Status(fiber.StatusCreated).JSON(robotCreated{Robot: r, Secret: string(secret)})
}

// robotOf returns the robot named by the path, after checking the caller may manage it.
func (s *Server) robotOf(c *fiber.Ctx) (auth.Robot, error) {
	name, err := param(c, "robot")
	if err != nil {
		return auth.Robot{}, err
	}
	r, err := s.auth.Service.Robot(c.UserContext(), name)
	if err != nil {
		return auth.Robot{}, err
	}
	return r, s.mayManageRobots(c, r.Project)
}

// updateRobot disables or enables a robot.
func (s *Server) updateRobot(c *fiber.Ctx) error {
	var req struct {
		Disabled bool `json:"disabled"`
	}
	if err := decodeJSON(c, &req); err != nil {
		return err
	}
	r, err := s.robotOf(c)
	if err != nil {
		return err
	}
	if err := s.auth.Service.SetRobotDisabled(c.UserContext(), r.Name, req.Disabled); err != nil {
		return err
	}
	s.recordAdmin(c, "robot.update", robotTarget(r))
	r.Disabled = req.Disabled
	return c.JSON(r)
}

func (s *Server) deleteRobot(c *fiber.Ctx) error {
	r, err := s.robotOf(c)
	if err != nil {
		return err
	}
	if err := s.auth.Service.DeleteRobot(c.UserContext(), r.Name); err != nil {
		return err
	}
	s.recordAdmin(c, "robot.delete", robotTarget(r))
	return c.SendStatus(fiber.StatusNoContent)
}

// robotTarget names a robot in the audit log under its project, so that the project's
// audit log shows changes of its robots.
func robotTarget(r auth.Robot) string {
	if r.Project == "" {
		return r.Name
	}
	return r.Project + "/" + r.Name
}
