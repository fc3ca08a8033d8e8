package auth

import (
	"context"
	"errors"
	"strings"
	"testing"
	"time"
)

func TestRobots(t *testing.T) {
	e := newEnv(t)
	ctx := context.Background()
	for _, p := range []string{"ci", "other"} {
		_, err := e.svc.CreateProject(ctx, Project{Name: p})
		check(t, err)
	}
	r, secret, err := e.svc.CreateRobot(ctx, RobotSpec{
		Name: "builder", Project: "ci", Expires: e.clock.Now().Add(time.Hour),
		Permissions: []Permission{{Project: "ci", Actions: []Action{ActionPull, ActionPush}}},
	})
	check(t, err)
	if r.Name != "robot$ci+builder" {
		t.Fatalf("robot name %q", r.Name)
	}

	t.Run("hashed at rest", func(t *testing.T) {
		raw, err := e.store.Get(ctx, prefixRobot+r.Name)
		check(t, err)
		if strings.Contains(string(raw), string(secret)) ||
			!strings.Contains(string(raw), "sha256:") {
			t.Fatalf("stored robot holds its secret or no hash: %s", raw)
		}
	})
	p := e.login(t, r.Name, secret)
	allowed := func(repo string, a Action) bool {
		ok, err := e.svc.Allowed(ctx, p, repo, a)
		check(t, err)
		return ok
	}
	t.Run("scoped permissions", func(t *testing.T) {
		if !allowed("ci/app", ActionPush) || allowed("ci/app", ActionDeleteArtifact) ||
			allowed("other/app", ActionPull) {
			t.Fatal("robot permissions not applied as granted")
		}
	})
	t.Run("push implies preheat", func(t *testing.T) {
		if !allowed("ci/app", ActionPreheat) || allowed("other/app", ActionPreheat) {
			t.Fatal("a robot that may push in ci should preheat there, and only there")
		}
	})
	t.Run("wrong secret", func(t *testing.T) {
		_, err := e.svc.Authenticate(ctx, r.Name, secret+"x", "192.0.2.9")
		if !errors.Is(err, ErrBadCredentials) {
			t.Fatalf("wrong secret: %v", err)
		}
	})
	t.Run("expired", func(t *testing.T) {
		e.clock.Advance(2 * time.Hour)
		defer e.clock.Advance(-2 * time.Hour)
		_, err := e.svc.Authenticate(ctx, r.Name, secret, "192.0.2.2")
		if !errors.Is(err, ErrBadCredentials) {
			t.Fatalf("expired robot logged in: %v", err)
		}
		if allowed("ci/app", ActionPull) {
			t.Fatal("expired robot authorized")
		}
	})
	t.Run("disabled at once", func(t *testing.T) {
		check(t, e.svc.SetRobotDisabled(ctx, r.Name, true))
		if allowed("ci/app", ActionPull) {
			t.Fatal("disabled robot authorized")
		}
		_, err := e.svc.Authenticate(ctx, r.Name, secret, "192.0.2.3")
		if !errors.Is(err, ErrBadCredentials) {
			t.Fatalf("disabled robot logged in: %v", err)
		}
		check(t, e.svc.SetRobotDisabled(ctx, r.Name, false))
		if !allowed("ci/app", ActionPull) {
			t.Fatal("re-enabled robot refused")
		}
	})
	t.Run("deleted at once", func(t *testing.T) {
		check(t, e.svc.DeleteRobot(ctx, r.Name))
		if allowed("ci/app", ActionPull) {
			t.Fatal("deleted robot authorized")
		}
		_, err := e.svc.Authenticate(ctx, r.Name, secret, "192.0.2.4")
		if !errors.Is(err, ErrBadCredentials) {
			t.Fatalf("deleted robot logged in: %v", err)
		}
	})
}

func TestRobotSpecChecks(t *testing.T) {
	e := newEnv(t)
	ctx := context.Background()
	for _, p := range []string{"ci", "other"} {
		_, err := e.svc.CreateProject(ctx, Project{Name: p})
		check(t, err)
	}
	pull := []Action{ActionPull}
	tests := []struct {
		name string
		spec RobotSpec
		want error
	}{
		{"project robot on another project", RobotSpec{Name: "x", Project: "ci",
			Permissions: []Permission{{Project: "other", Actions: pull}}},
			ErrInvalidPermission},
		{"project robot with wildcard", RobotSpec{Name: "x", Project: "ci",
			Permissions: []Permission{{Project: AllProjects, Actions: pull}}},
			ErrInvalidPermission},
		{"unknown action", RobotSpec{Name: "x",
			Permissions: []Permission{{Project: "ci", Actions: []Action{"fly"}}}},
			ErrInvalidAction},
		{"missing project", RobotSpec{Name: "x",
			Permissions: []Permission{{Project: "ghost", Actions: pull}}}, ErrProjectNotFound},
		{"bad name", RobotSpec{Name: "Bad$"}, ErrInvalidName},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if _, _, err := e.svc.CreateRobot(ctx, tt.spec); !errors.Is(err, tt.want) {
				t.Fatalf("CreateRobot = %v, want %v", err, tt.want)
			}
		})
	}
}

func TestSystemRobotAndProjectRecreation(t *testing.T) {
	e := newEnv(t)
	ctx := context.Background()
	_, err := e.svc.CreateProject(ctx, Project{Name: "ci"})
	check(t, err)
	all, allSecret, err := e.svc.CreateRobot(ctx, RobotSpec{Name: "mirror",
		Permissions: []Permission{{Project: AllProjects, Actions: []Action{ActionPull}}}})
	check(t, err)
	one, oneSecret, err := e.svc.CreateRobot(ctx, RobotSpec{Name: "ci-only",
		Permissions: []Permission{{Project: "ci", Actions: []Action{ActionPush}}}})
	check(t, err)
	pAll, pOne := e.login(t, all.Name, allSecret), e.login(t, one.Name, oneSecret)

	// A project deleted and created again does not inherit the old grants.
	check(t, e.svc.DeleteProject(ctx, "ci"))
	_, err = e.svc.CreateProject(ctx, Project{Name: "ci"})
	check(t, err)
	if ok, _ := e.svc.Allowed(ctx, pOne, "ci/app", ActionPush); ok {
		t.Fatal("robot kept its grant on a recreated project")
	}
	if ok, _ := e.svc.Allowed(ctx, pAll, "ci/app", ActionPull); !ok {
		t.Fatal("system robot with * cannot pull")
	}
	list, err := e.svc.Robots(ctx, "")
	check(t, err)
	if len(list) != 2 {
		t.Fatalf("Robots = %d, want 2", len(list))
	}
}
