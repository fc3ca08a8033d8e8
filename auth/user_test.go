package auth

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

func TestUsers(t *testing.T) {
	e := newEnv(t)
	ctx := context.Background()
	_, err := e.svc.CreateUser(ctx, "alice", "correct-horse", false)
	check(t, err)
	_, err = e.svc.CreateUser(ctx, "alice", "correct-horse", false)
	if !errors.Is(err, ErrExists) {
		t.Fatalf("duplicate user: %v", err)
	}
	_, err = e.svc.CreateUser(ctx, "bob", "short", false)
	if !errors.Is(err, ErrWeakPassword) {
		t.Fatalf("short password: %v", err)
	}
	_, err = e.svc.CreateUser(ctx, "Bad:Name", "correct-horse", false)
	if !errors.Is(err, ErrInvalidName) {
		t.Fatalf("bad name: %v", err)
	}
	raw, err := e.store.Get(ctx, prefixUser+"alice")
	check(t, err)
	if strings.Contains(string(raw), "correct-horse") ||
		!strings.Contains(string(raw), "$argon2id$") {
		t.Fatalf("stored user: %s", raw)
	}

	e.login(t, "alice", "correct-horse")
	check(t, e.svc.SetPassword(ctx, "alice", "battery-staple"))
	_, err = e.svc.Authenticate(ctx, "alice", "correct-horse", "x")
	if !errors.Is(err, ErrBadCredentials) {
		t.Fatalf("old password after change: %v", err)
	}
	p := e.login(t, "alice", "battery-staple")

	check(t, e.svc.SetAdmin(ctx, "alice", true))
	if ok, _ := e.svc.IsAdmin(ctx, p); !ok {
		t.Fatal("SetAdmin(true) not seen")
	}
	_, err = e.svc.CreateProject(ctx, Project{Name: "p"})
	check(t, err)
	check(t, e.svc.SetAdmin(ctx, "alice", false))
	if ok, _ := e.svc.Allowed(ctx, p, "p/a", ActionPull); ok {
		t.Fatal("a demoted admin kept its rights")
	}

	// A user deleted and created again does not inherit memberships.
	check(t, e.svc.AddMember(ctx, "p", "alice", RoleDeveloper))
	check(t, e.svc.DeleteUser(ctx, "alice"))
	_, err = e.svc.CreateUser(ctx, "alice", "correct-horse", false)
	check(t, err)
	p2 := e.login(t, "alice", "correct-horse")
	if ok, _ := e.svc.Allowed(ctx, p2, "p/a", ActionPull); ok {
		t.Fatal("recreated user inherited a membership")
	}
	if m, _ := e.svc.Members(ctx, "p"); len(m) != 0 {
		t.Fatalf("members after user deletion: %v", m)
	}
	users, err := e.svc.Users(ctx, "", 0)
	check(t, err)
	if len(users) != 1 || users[0].Name != "alice" {
		t.Fatalf("Users = %v", users)
	}
}

func TestDefaultArgon2(t *testing.T) {
	h := hashPassword("a-real-password", DefaultArgon2())
	if !strings.HasPrefix(h, "$argon2id$v=19$m=19456,t=2,p=1$") {
		t.Fatalf("hash %s", h)
	}
	for pw, want := range map[Secret]bool{"a-real-password": true, "a-real-passwore": false} {
		if ok, err := verifyPassword(pw, h); err != nil || ok != want {
			t.Fatalf("verify(%v) = %v, %v", want, ok, err)
		}
	}
	if _, err := verifyPassword("x", "$argon2id$v=19$m=99999999,t=1,p=1$AA$AA"); err == nil {
		t.Fatal("a hash asking for 95 GiB was accepted")
	}
}

func TestProjects(t *testing.T) {
	e := newEnv(t)
	ctx := context.Background()
	check(t, e.svc.EnsureDefaults(ctx))
	check(t, e.svc.DeleteProject(ctx, DefaultProject))
	check(t, e.svc.EnsureDefaults(ctx)) // does not bring back a deleted "library"
	_, err := e.svc.Project(ctx, DefaultProject)
	if !errors.Is(err, ErrProjectNotFound) {
		t.Fatalf("library after deletion and restart: %v", err)
	}
	_, err = e.svc.CreateProject(ctx, Project{Name: "web", Public: true})
	check(t, err)
	quota, private := int64(1<<30), false
	p, err := e.svc.UpdateProject(ctx, "web", ProjectUpdate{Public: &private, QuotaBytes: &quota})
	check(t, err)
	if p.Public || p.QuotaBytes != quota {
		t.Fatalf("UpdateProject = %+v", p)
	}
	list, err := e.svc.Projects(ctx, "", 0)
	check(t, err)
	if len(list) != 1 || list[0].Name != "web" {
		t.Fatalf("Projects = %v", list)
	}
	for _, name := range []string{"nginx", "/x", "UPPER/x", "a/"} {
		if _, err := ProjectOf(name); err == nil {
			t.Errorf("ProjectOf(%q) accepted", name)
		}
	}
	if got, err := ProjectOf("library/nginx/sub"); err != nil || got != "library" {
		t.Fatalf("ProjectOf = %q, %v", got, err)
	}
}

// TestBootstrap: a generated password goes to a 0600 file, is usable, and never
// reaches the log; a given password writes no file; a second start changes nothing.
func TestBootstrap(t *testing.T) {
	for _, given := range []Secret{"", "env-password-123"} {
		t.Run(fmt.Sprintf("given=%v", given != ""), func(t *testing.T) {
			e := newEnv(t)
			ctx := context.Background()
			dir := t.TempDir()
			path, err := e.svc.Bootstrap(ctx, given, dir)
			check(t, err)
			pw := given
			if given == "" {
				info, err := os.Stat(path)
				check(t, err)
				if info.Mode().Perm() != 0o600 || path != filepath.Join(dir, AdminPasswordFile) {
					t.Fatalf("password file %s mode %v", path, info.Mode().Perm())
				}
				b, err := os.ReadFile(path)
				check(t, err)
				pw = Secret(strings.TrimSpace(string(b)))
			} else if path != "" {
				t.Fatalf("a given password wrote %s", path)
			}
			p := e.login(t, AdminUser, pw)
			if !p.Admin {
				t.Fatal("admin is not a system admin")
			}
			again, err := e.svc.Bootstrap(ctx, "", dir)
			if err != nil || again != "" {
				t.Fatalf("second Bootstrap = %q, %v", again, err)
			}
			e.log.Info("login", "password", pw, "principal", p)
			if logs := e.logs.String(); strings.Contains(logs, string(pw)) {
				t.Fatalf("password in the log:\n%s", logs)
			}
			if given == "" && !strings.Contains(e.logs.String(), path) {
				t.Fatal("the log does not name the password file")
			}
			if err := e.svc.DeleteUser(ctx, AdminUser); !errors.Is(err, ErrProtected) {
				t.Fatalf("DeleteUser(admin) = %v", err)
			}
		})
	}
}

func TestSecretRedaction(t *testing.T) {
	s := Secret("hunter2-hunter2")
	tok := Token{Token: s, AccessToken: s, IssuedAt: time.Now()}
	var b syncBuffer
	slog.New(slog.NewTextHandler(&b, nil)).Info("x", "s", s, "tok", tok)
	out := fmt.Sprintf("%v %s %q %#v %+v %x", s, s, s, s, tok, s) + b.String()
	if strings.Contains(out, "hunter2") {
		t.Fatalf("secret printed: %s", out)
	}
	err := fmt.Errorf("login %v: %w", s, ErrBadCredentials)
	if strings.Contains(err.Error(), "hunter2") {
		t.Fatal("secret in an error")
	}
}
