package auth

import (
	"context"
	"strings"

	"berth.dev/berth/kvnode"
)

// Member is a user's role in a project.
type Member struct {
	Project string `json:"project"`
	User    string `json:"user"`
	Role    Role   `json:"role"`
}

// memberRecord is a Member as stored, bound to the IDs of its project and user.
type memberRecord struct {
	Member
	ProjectID string `json:"project_id"`
	UserID    string `json:"user_id"`
}

// AddMember gives user the role in project, replacing any role it had there.
func (s *Service) AddMember(ctx context.Context, project, user string, role Role) error {
	if err := role.Validate(); err != nil {
		return err
	}
	err := s.store.Update(ctx, func(tx kvnode.Txn) error {
		var p Project
		if err := txGetJSON(tx, prefixProject+project, &p); err != nil {
			return notFound(err, ErrProjectNotFound)
		}
		var u userRecord
		if err := txGetJSON(tx, prefixUser+user, &u); err != nil {
			return notFound(err, ErrUserNotFound)
		}
		txPutJSON(tx, memberKey(project, user), memberRecord{
			Member:    Member{Project: project, User: user, Role: role},
			ProjectID: p.ID, UserID: u.ID,
		})
		return nil
	})
	if err == nil {
		s.log.Info("auth: member set", "project", project, "user", user, "role", role)
	}
	return err
}

// RemoveMember removes user from project, or returns ErrMemberNotFound.
func (s *Service) RemoveMember(ctx context.Context, project, user string) error {
	err := s.store.Update(ctx, func(tx kvnode.Txn) error {
		if _, err := tx.Get(memberKey(project, user)); err != nil {
			return notFound(err, ErrMemberNotFound)
		}
		tx.Delete(memberKey(project, user))
		return nil
	})
	if err == nil {
		s.log.Info("auth: member removed", "project", project, "user", user)
	}
	return err
}

// Members lists the members of project in user-name order.
func (s *Service) Members(ctx context.Context, project string) ([]Member, error) {
	if err := validProject(project); err != nil {
		return nil, err
	}
	recs, err := list[memberRecord](ctx, s.store, prefixMember+project+"/", "", 0)
	out := make([]Member, len(recs))
	for i, r := range recs {
		out[i] = r.Member
	}
	return out, err
}

// memberUserOf returns the user name of a member key.
func memberUserOf(key string) string {
	rest := strings.TrimPrefix(key, prefixMember)
	_, user, _ := strings.Cut(rest, "/")
	return user
}
