package auth

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"slices"
	"time"

	"berth.dev/berth/kvnode"
)

// AllProjects in a Permission of a system robot means every project.
const AllProjects = "*"

// Permission grants actions in one project (or AllProjects).
type Permission struct {
	Project string   `json:"project"`
	Actions []Action `json:"actions"`
}

// RobotSpec describes a robot account to create.
type RobotSpec struct {
	// Name is the short name; the account is called RobotName(Project, Name).
	Name string
	// Project owns a project robot; "" makes a system robot.
	Project     string
	Description string
	// Permissions are the robot's grants. A project robot may name only its own
	// project; a system robot may name any projects or AllProjects.
	Permissions []Permission
	// Expires ends the robot's validity; zero means never.
	Expires time.Time
}

// Robot is a robot account, for machines such as CI jobs.
type Robot struct {
	// Name is the full name, "robot$<project>+<name>" or "robot$<name>".
	Name        string       `json:"name"`
	ID          string       `json:"id"`
	Project     string       `json:"project,omitempty"`
	Description string       `json:"description,omitempty"`
	Permissions []Permission `json:"permissions"`
	Expires     time.Time    `json:"expires,omitzero"`
	// Disabled reports whether the robot was disabled; it then cannot log in.
	Disabled bool      `json:"disabled"`
	Created  time.Time `json:"created"`
}

// LogValue logs a robot by name, so a whole Robot is safe to log.
func (r Robot) LogValue() slog.Value { return slog.StringValue(r.Name) }

// robotRecord is a Robot as stored: the hash of its secret and the IDs of the
// projects its permissions name (by index; "" for AllProjects).
type robotRecord struct {
	Robot
	SecretHash string   `json:"secret_hash"`
	ProjectIDs []string `json:"project_ids"`
}

// CreateRobot creates a robot account and returns it with its secret. The secret is
// shown this once: only its hash is stored.
func (s *Service) CreateRobot(ctx context.Context, spec RobotSpec) (Robot, Secret, error) {
	if err := s.checkRobotSpec(spec); err != nil {
		return Robot{}, "", err
	}
	secret := randomSecret(32)
	rec := robotRecord{Robot: Robot{
		Name: RobotName(spec.Project, spec.Name), ID: randomID(), Project: spec.Project,
		Description: spec.Description, Permissions: spec.Permissions,
		Expires: spec.Expires.UTC(), Created: s.now().UTC(),
	}, SecretHash: hashRobotSecret(secret)}
	err := s.store.Update(ctx, func(tx kvnode.Txn) error {
		if _, err := tx.Get(prefixRobot + rec.Name); err == nil {
			return ErrExists
		} else if !errors.Is(err, kvnode.ErrNotFound) {
			return err
		}
		ids, err := permissionProjectIDs(tx, spec)
		if err != nil {
			return err
		}
		rec.ProjectIDs = ids
		txPutJSON(tx, prefixRobot+rec.Name, rec)
		return nil
	})
	if err != nil {
		return Robot{}, "", err
	}
	s.log.Info("auth: robot created", "robot", rec.Name, "expires", rec.Expires)
	return rec.Robot, secret, nil
}

func (s *Service) checkRobotSpec(spec RobotSpec) error {
	if err := validRobot(spec.Name); err != nil {
		return err
	}
	if spec.Project != "" {
		if err := validProject(spec.Project); err != nil {
			return err
		}
	}
	for _, p := range spec.Permissions {
		own := spec.Project == "" || p.Project == spec.Project
		if !own || (p.Project != AllProjects && validProject(p.Project) != nil) {
			return fmt.Errorf("%w: project %q", ErrInvalidPermission, clip(p.Project))
		}
		for _, a := range p.Actions {
			if err := a.Validate(); err != nil {
				return err
			}
		}
	}
	return nil
}

// permissionProjectIDs reads the IDs of the projects named by spec, which must exist.
func permissionProjectIDs(tx kvnode.Txn, spec RobotSpec) ([]string, error) {
	if spec.Project != "" {
		if _, err := tx.Get(prefixProject + spec.Project); err != nil {
			return nil, notFound(err, ErrProjectNotFound)
		}
	}
	ids := make([]string, len(spec.Permissions))
	for i, p := range spec.Permissions {
		if p.Project == AllProjects {
			continue
		}
		var proj Project
		if err := txGetJSON(tx, prefixProject+p.Project, &proj); err != nil {
			return nil, notFound(err, ErrProjectNotFound)
		}
		ids[i] = proj.ID
	}
	return ids, nil
}

// Robot returns the robot with the full name name, or ErrRobotNotFound.
func (s *Service) Robot(ctx context.Context, name string) (Robot, error) {
	rec, err := s.robotRecord(ctx, name)
	return rec.Robot, err
}

func (s *Service) robotRecord(ctx context.Context, name string) (robotRecord, error) {
	var rec robotRecord
	err := getJSON(ctx, s.store, prefixRobot+name, &rec)
	return rec, notFound(err, ErrRobotNotFound)
}

// Robots lists the robots of project ("" for every robot, system and project ones)
// in name order.
func (s *Service) Robots(ctx context.Context, project string) ([]Robot, error) {
	prefix := prefixRobot
	if project != "" {
		prefix += RobotName(project, "")
	}
	recs, err := list[robotRecord](ctx, s.store, prefix, "", 0)
	out := make([]Robot, len(recs))
	for i, r := range recs {
		out[i] = r.Robot
	}
	return out, err
}

// SetRobotDisabled disables or enables a robot. A disabled robot can neither log in
// nor be authorized from the moment this returns.
func (s *Service) SetRobotDisabled(ctx context.Context, name string, disabled bool) error {
	err := s.store.Update(ctx, func(tx kvnode.Txn) error {
		var rec robotRecord
		if err := txGetJSON(tx, prefixRobot+name, &rec); err != nil {
			return notFound(err, ErrRobotNotFound)
		}
		rec.Disabled = disabled
		txPutJSON(tx, prefixRobot+name, rec)
		return nil
	})
	if err == nil {
		s.log.Info("auth: robot disabled flag changed", "robot", name, "disabled", disabled)
	}
	return err
}

// DeleteRobot deletes a robot; it is refused from the moment this returns.
func (s *Service) DeleteRobot(ctx context.Context, name string) error {
	err := s.store.Update(ctx, func(tx kvnode.Txn) error {
		if _, err := tx.Get(prefixRobot + name); err != nil {
			return notFound(err, ErrRobotNotFound)
		}
		tx.Delete(prefixRobot + name)
		return nil
	})
	if err == nil {
		s.log.Info("auth: robot deleted", "robot", name)
	}
	return err
}

// active reports whether the robot may act at time now.
func (r Robot) active(now time.Time) bool {
	return !r.Disabled && (r.Expires.IsZero() || now.Before(r.Expires))
}

// allows reports whether the robot's permissions grant a in project p.
func (r robotRecord) allows(p Project, a Action) bool {
	for i, perm := range r.Permissions {
		match := perm.Project == AllProjects ||
			(perm.Project == p.Name && i < len(r.ProjectIDs) && r.ProjectIDs[i] == p.ID)
		if match && (slices.Contains(perm.Actions, a) ||
			a == ActionPreheat && slices.Contains(perm.Actions, ActionPush)) {
			return true
		}
	}
	return false
}
