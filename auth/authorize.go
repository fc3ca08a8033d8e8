package auth

import (
	"context"
	"errors"
)

// Authorizer decides whether a principal may do an action on a repository.
type Authorizer interface {
	// Allowed reports whether p may do a on repository. It returns an error only
	// when it could not decide (the store failed); every "no" is (false, nil).
	Allowed(ctx context.Context, p Principal, repository string, a Action) (bool, error)
}

var _ Authorizer = (*Service)(nil)

// Allowed implements Authorizer. The repository's project must exist, for system
// admins too. Anyone may pull from a public project; anonymous callers nothing more.
// A user acts through its role in the project (see RoleAllows) unless it is a system
// admin; a robot through its permissions, while it is enabled and not expired.
func (s *Service) Allowed(
	ctx context.Context,
	p Principal,
	repository string,
	a Action,
) (bool, error) {
	name, err := ProjectOf(repository)
	if err != nil {
		return false, nil
	}
	return s.AllowedInProject(ctx, p, name, a)
}

// AllowedInProject reports whether p may do a in project, as Allowed does for the
// project's repositories; it answers the admin API's project-level questions
// (managing members, reading the audit log).
func (s *Service) AllowedInProject(
	ctx context.Context,
	p Principal,
	project string,
	a Action,
) (bool, error) {
	proj, err := s.Project(ctx, project)
	if errors.Is(err, ErrProjectNotFound) || errors.Is(err, ErrInvalidName) {
		return false, nil
	} else if err != nil {
		return false, err
	}
	if a == ActionPull && proj.Public {
		return true, nil
	}
	switch p.Kind {
	case KindUser:
		return s.userAllowed(ctx, p, proj, a)
	case KindRobot:
		return s.robotAllowed(ctx, p, proj, a)
	default:
		return false, nil
	}
}

func (s *Service) userAllowed(
	ctx context.Context, p Principal, proj Project, a Action,
) (bool, error) {
	u, err := s.User(ctx, p.Name)
	if errors.Is(err, ErrUserNotFound) || (err == nil && u.ID != p.ID) {
		return false, nil
	} else if err != nil {
		return false, err
	}
	if u.Admin {
		return true, nil
	}
	var m memberRecord
	err = getJSON(ctx, s.store, memberKey(proj.Name, u.Name), &m)
	if err != nil {
		return false, ignoreNotFound(err)
	}
	ok := m.ProjectID == proj.ID && m.UserID == u.ID && RoleAllows(m.Role, a)
	return ok, nil
}

func (s *Service) robotAllowed(
	ctx context.Context, p Principal, proj Project, a Action,
) (bool, error) {
	r, err := s.robotRecord(ctx, p.Name)
	if errors.Is(err, ErrRobotNotFound) {
		return false, nil
	} else if err != nil {
		return false, err
	}
	ok := r.ID == p.ID && r.active(s.now()) && r.allows(proj, a)
	return ok, nil
}

// IsAdmin reports whether p is, now, a system admin.
func (s *Service) IsAdmin(ctx context.Context, p Principal) (bool, error) {
	if p.Kind != KindUser {
		return false, nil
	}
	u, err := s.User(ctx, p.Name)
	if errors.Is(err, ErrUserNotFound) {
		return false, nil
	}
	return err == nil && u.ID == p.ID && u.Admin, err
}
