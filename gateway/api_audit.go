package gateway

import (
	"time"

	"github.com/gofiber/fiber/v2"

	"berth.dev/berth/auth"
	"berth.dev/berth/registry"
)

// recordAdmin appends an admin change to the audit log. A failure is logged, not
// answered: the change itself is done.
func (s *Server) recordAdmin(c *fiber.Ctx, action, target string) {
	if err := s.reg.RecordAdmin(c.UserContext(), action, target, ""); err != nil {
		s.log.Error("audit: admin change not recorded", "action", action, "target", target,
			"err", err)
	}
}

// usage returns the storage a project uses.
func (s *Server) usage(c *fiber.Ctx, project string) (int64, error) {
	return s.reg.Usage(c.UserContext(), project)
}

// auditEntry is one audit record as the API shows it.
type auditEntry struct {
	ID string `json:"id"`
	registry.Event
}

// getAudit answers GET /api/v1/audit: the audit log, oldest first, filtered by the
// query parameters project, repository, actor, action, since and until (RFC 3339),
// paged by after and limit. Admins read everything; others only the log of a project
// (the project parameter) whose audit log their role lets them read.
func (s *Server) getAudit(c *fiber.Ctx) error {
	q := registry.AuditQuery{Project: c.Query("project"), Repository: c.Query("repository"),
		Actor: c.Query("actor"), Action: c.Query("action"), After: c.Query("after")}
	if q.Repository != "" && q.Project == "" {
		q.Project = registry.ProjectOf(q.Repository)
	}
	if err := s.mayReadAudit(c, q.Project); err != nil {
		return err
	}
	var err error
	if q.Since, err = timeParam(c, "since"); err != nil {
		return err
	}
	if q.Until, err = timeParam(c, "until"); err != nil {
		return err
	}
	if _, q.Limit, err = page(c); err != nil {
		return err
	}
	es, next, err := s.reg.Audit(c.UserContext(), q)
	if err != nil {
		return err
	}
	out := listAnswer[auditEntry]{Items: []auditEntry{}, Next: next}
	for _, e := range es {
		out.Items = append(out.Items, auditEntry{ID: e.ID, Event: e.Event})
	}
	return c.JSON(out)
}

func (s *Server) mayReadAudit(c *fiber.Ctx, project string) error {
	if project == "" {
		return s.requireAdmin(c)
	}
	return s.requireProject(c, project, auth.ActionReadAuditLog)
}

// timeParam reads an RFC 3339 time parameter; absent is the zero time.
func timeParam(c *fiber.Ctx, name string) (time.Time, error) {
	v := c.Query(name)
	if v == "" {
		return time.Time{}, nil
	}
	t, err := time.Parse(time.RFC3339, v)
	if err != nil {
		return time.Time{}, errBadParam
	}
	return t, nil
}
