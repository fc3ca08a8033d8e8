package auth

import (
	"context"
	"errors"
	"time"

	"berth.dev/berth/kvnode"
)

// Project is a namespace of repositories: the first component of their names.
type Project struct {
	Name string `json:"name"`
	// ID is random and set at creation, so that members and robots of a deleted
	// project never apply to a new project of the same name.
	ID string `json:"id"`
	// Public reports whether anyone, anonymous callers included, may pull.
	Public bool `json:"public"`
	// QuotaBytes bounds the project's storage; zero means no quota.
	QuotaBytes int64     `json:"quota_bytes"`
	Created    time.Time `json:"created"`
}

// ProjectUpdate changes the fields that are set (non-nil).
type ProjectUpdate struct {
	Public     *bool  `json:"public,omitempty"`
	QuotaBytes *int64 `json:"quota_bytes,omitempty"`
}

// DefaultProject is the public project that exists from the first start.
const DefaultProject = "library"

// EnsureDefaults creates the public project "library" on the first start. It is
// idempotent, and once done it does not recreate "library" if an admin deleted it.
func (s *Service) EnsureDefaults(ctx context.Context) error {
	created := false
	err := s.store.Update(ctx, func(tx kvnode.Txn) error {
		created = false
		if _, err := tx.Get(keyInitLib); err == nil {
			return nil
		} else if !errors.Is(err, kvnode.ErrNotFound) {
			return err
		}
		tx.Put(keyInitLib, []byte(`{}`))
		if _, err := tx.Get(prefixProject + DefaultProject); err == nil {
			return nil
		}
		p := Project{Name: DefaultProject, ID: randomID(), Public: true, Created: s.now().UTC()}
		txPutJSON(tx, prefixProject+p.Name, p)
		created = true
		return nil
	})
	if err == nil && created {
		s.log.Info("auth: created default project", "project", DefaultProject)
	}
	return err
}

// CreateProject creates a project from p's Name, Public and QuotaBytes.
func (s *Service) CreateProject(ctx context.Context, p Project) (Project, error) {
	if err := validProject(p.Name); err != nil {
		return Project{}, err
	}
	p.ID, p.Created = randomID(), s.now().UTC()
	err := s.store.Update(ctx, func(tx kvnode.Txn) error {
		if _, err := tx.Get(prefixProject + p.Name); err == nil {
			return ErrExists
		} else if !errors.Is(err, kvnode.ErrNotFound) {
			return err
		}
		txPutJSON(tx, prefixProject+p.Name, p)
		return nil
	})
	if err != nil {
		return Project{}, err
	}
	s.log.Info("auth: project created", "project", p.Name, "public", p.Public)
	return p, nil
}

// Project returns the project called name, or ErrProjectNotFound.
func (s *Service) Project(ctx context.Context, name string) (Project, error) {
	var p Project
	if err := validProject(name); err != nil {
		return p, err
	}
	err := getJSON(ctx, s.store, prefixProject+name, &p)
	return p, notFound(err, ErrProjectNotFound)
}

// Projects lists projects in name order, those after the name after (all when ""),
// at most limit of them (all when limit <= 0).
func (s *Service) Projects(ctx context.Context, after string, limit int) ([]Project, error) {
	return list[Project](ctx, s.store, prefixProject, after, limit)
}

// UpdateProject applies u to the project called name and returns the result.
func (s *Service) UpdateProject(
	ctx context.Context,
	name string,
	u ProjectUpdate,
) (Project, error) {
	var p Project
	err := s.store.Update(ctx, func(tx kvnode.Txn) error {
		if err := txGetJSON(tx, prefixProject+name, &p); err != nil {
			return notFound(err, ErrProjectNotFound)
		}
		if u.Public != nil {
			p.Public = *u.Public
		}
		if u.QuotaBytes != nil {
			p.QuotaBytes = *u.QuotaBytes
		}
		txPutJSON(tx, prefixProject+name, p)
		return nil
	})
	if err != nil {
		return Project{}, err
	}
	s.log.Info("auth: project updated", "project", name, "public", p.Public,
		"quota_bytes", p.QuotaBytes)
	return p, nil
}

// DeleteProject deletes a project with its members and project robots. Checking that
// it holds no repositories is the caller's duty.
func (s *Service) DeleteProject(ctx context.Context, name string) error {
	if err := validProject(name); err != nil {
		return err
	}
	// Members and robots added after this scan keep the old project's ID, so they
	// never apply to a project created later under the same name.
	var keys []string
	for _, prefix := range []string{prefixMember + name + "/", prefixRobot + RobotName(name, "")} {
		kvs, err := s.store.Range(ctx, prefix, "", 0)
		if err != nil {
			return err
		}
		for _, kv := range kvs {
			keys = append(keys, kv.Key)
		}
	}
	err := s.store.Update(ctx, func(tx kvnode.Txn) error {
		if _, err := tx.Get(prefixProject + name); err != nil {
			return notFound(err, ErrProjectNotFound)
		}
		tx.Delete(prefixProject + name)
		for _, k := range keys {
			tx.Delete(k)
		}
		return nil
	})
	if err == nil {
		s.log.Info("auth: project deleted", "project", name,
			"members_and_robots", len(keys))
	}
	return err
}
