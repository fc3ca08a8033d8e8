package gateway

import (
	"github.com/gofiber/fiber/v2"
)

// recordAdmin appends an admin change to the audit log. A failure is logged, not
// answered: the change itself is done.
func (s *Server) recordAdmin(c *fiber.Ctx, action, target string) {
	// TODO(audit): write through the registry's audit log once it records actors.
	_ = c
	_, _ = action, target
}

// usage returns the storage a project uses.
func (s *Server) usage(c *fiber.Ctx, project string) (int64, error) {
	// TODO(quota): read the registry's per-project usage.
	_, _ = c, project
	return 0, nil
}
