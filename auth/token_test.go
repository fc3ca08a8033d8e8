package auth

import (
	"context"
	"encoding/base64"
	"errors"
	"strings"
	"testing"
	"time"
)

// tokenEnv has a private project "team" with a developer "dev" and a guest "guest".
func tokenEnv(t *testing.T) (*env, Principal, Principal) {
	t.Helper()
	e := newEnv(t)
	ctx := context.Background()
	check(t, e.svc.EnsureDefaults(ctx))
	_, err := e.svc.CreateProject(ctx, Project{Name: "team"})
	check(t, err)
	for _, u := range []struct {
		name string
		role Role
	}{{"dev", RoleDeveloper}, {"guest", RoleGuest}} {
		_, err := e.svc.CreateUser(ctx, u.name, "password-"+Secret(u.name), false)
		check(t, err)
		check(t, e.svc.AddMember(ctx, "team", u.name, u.role))
	}
	return e, e.login(t, "dev", "password-dev"), e.login(t, "guest", "password-guest")
}

func scopes(t *testing.T, s ...string) []Scope {
	t.Helper()
	sc, err := ParseScopes(s)
	check(t, err)
	return sc
}

func issueVerify(t *testing.T, i *Issuer, p Principal, sc ...string) *Claims {
	t.Helper()
	tok, err := i.Issue(context.Background(), p, scopes(t, sc...))
	check(t, err)
	c, err := i.Verify(context.Background(), tok.Token)
	check(t, err)
	return c
}

func TestTokenGrants(t *testing.T) {
	e, dev, guest := tokenEnv(t)
	iss := e.issuer(t)
	tests := []struct {
		name   string
		p      Principal
		scopes []string
		repo   string
		want   map[string]bool
	}{
		{"pull scope has no push", dev, []string{"repository:team/a:pull"}, "team/a",
			map[string]bool{"pull": true, "push": false}},
		{"developer gets pull and push, not delete", dev,
			[]string{"repository:team/a:pull,push,delete"}, "team/a",
			map[string]bool{"pull": true, "push": true, "delete": false}},
		{"guest asks push, gets pull", guest, []string{"repository:team/a:pull,push"}, "team/a",
			map[string]bool{"pull": true, "push": false}},
		{"token for A has nothing for B", dev, []string{"repository:team/a:pull,push"},
			"team/b", map[string]bool{"pull": false, "push": false}},
		{"anonymous pulls public", Anonymous, []string{"repository:library/x:pull,push"},
			"library/x", map[string]bool{"pull": true, "push": false}},
		{"anonymous private nothing", Anonymous, []string{"repository:team/a:pull"}, "team/a",
			map[string]bool{"pull": false}},
		{"wildcard expands", dev, []string{"repository:team/a:*"}, "team/a",
			map[string]bool{"pull": true, "push": true, "delete": false}},
		{"scopes merge", dev, []string{"repository:team/a:pull", "repository:team/a:push"},
			"team/a", map[string]bool{"pull": true, "push": true}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c := issueVerify(t, iss, tt.p, tt.scopes...)
			for act, want := range tt.want {
				if got := c.Allows("repository", tt.repo, act); got != want {
					t.Errorf("Allows(%s, %s) = %v, want %v; access %+v",
						tt.repo, act, got, want, c.Access)
				}
			}
		})
	}
}

func TestTokenCatalogAdminOnly(t *testing.T) {
	e, dev, _ := tokenEnv(t)
	ctx := context.Background()
	_, err := e.svc.CreateUser(ctx, "boss", "password-boss", true)
	check(t, err)
	iss := e.issuer(t)
	if c := issueVerify(t, iss, dev, "registry:catalog:*"); c.Allows("registry", "catalog", "*") {
		t.Fatal("a developer got the catalog")
	}
	boss := e.login(t, "boss", "password-boss")
	if c := issueVerify(t, iss, boss, "registry:catalog:*"); !c.Allows("registry", "catalog", "*") {
		t.Fatal("an admin did not get the catalog")
	}
}

func TestTokenRefusals(t *testing.T) {
	e, dev, _ := tokenEnv(t)
	ctx := context.Background()
	iss := e.issuer(t)
	tok, err := iss.Issue(ctx, dev, scopes(t, "repository:team/a:pull,push"))
	check(t, err)
	raw := string(tok.Token)
	parts := strings.Split(raw, ".")

	// A payload rewritten to grant delete, with the original signature.
	payload, err := base64.RawURLEncoding.DecodeString(parts[1])
	check(t, err)
	forged := strings.Replace(string(payload), `"pull","push"`, `"pull","push","delete"`, 1)
	tampered := parts[0] + "." + base64.RawURLEncoding.EncodeToString([]byte(forged)) +
		"." + parts[2]
	// An unsigned token with the same claims.
	none := base64.RawURLEncoding.EncodeToString([]byte(`{"alg":"none","typ":"JWT"}`)) +
		"." + parts[1] + "."

	otherAud, err := NewIssuer(e.store, e.svc, IssuerConfig{Service: "other", Now: e.clock.Now},
		e.log)
	check(t, err)
	otherIss, err := NewIssuer(e.store, e.svc, IssuerConfig{Issuer: "evil", Now: e.clock.Now},
		e.log)
	check(t, err)
	tests := []struct {
		name string
		iss  *Issuer
		raw  string
	}{
		{"tampered payload", iss, tampered},
		{"alg none", iss, none},
		{"garbage", iss, "not.a.token"},
		{"wrong audience", otherAud, raw},
		{"wrong issuer", otherIss, raw},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if _, err := tt.iss.Verify(ctx, Secret(tt.raw)); !errors.Is(err, ErrInvalidToken) {
				t.Fatalf("Verify = %v, want ErrInvalidToken", err)
			}
		})
	}
	t.Run("expired", func(t *testing.T) {
		e.clock.Advance(5*time.Minute + time.Second)
		if _, err := iss.Verify(ctx, tok.Token); !errors.Is(err, ErrInvalidToken) {
			t.Fatalf("Verify of an expired token = %v, want ErrInvalidToken", err)
		}
	})
}

// TestTokenAcrossProcesses: a token from one Issuer verifies with another over the same
// store, as between two gateway replicas, including across a key rotation.
func TestTokenAcrossProcesses(t *testing.T) {
	e, dev, _ := tokenEnv(t)
	ctx := context.Background()
	a, b := e.issuer(t), e.issuer(t)

	c := issueVerify(t, a, dev, "repository:team/a:pull")
	if _, err := b.Verify(ctx, mustIssue(t, a, dev).Token); err != nil {
		t.Fatalf("replica b refused replica a's token: %v", err)
	}
	if !c.Allows("repository", "team/a", "pull") {
		t.Fatal("pull not granted")
	}

	// Rotate on b; the old token still verifies on both until it expires.
	old := mustIssue(t, a, dev)
	e.clock.Advance(time.Minute)
	newKid, err := b.Rotate(ctx)
	check(t, err)
	fresh := mustIssue(t, a, dev)
	if kid := headerKid(t, fresh.Token); kid != newKid {
		t.Fatalf("after rotation replica a signs with %s, want %s", kid, newKid)
	}
	for _, v := range []*Issuer{a, b, e.issuer(t)} {
		for _, tok := range []Token{old, fresh} {
			if _, err := v.Verify(ctx, tok.Token); err != nil {
				t.Fatalf("after rotation: %v", err)
			}
		}
	}
	e.clock.Advance(4*time.Minute + time.Second)
	if _, err := b.Verify(ctx, old.Token); !errors.Is(err, ErrInvalidToken) {
		t.Fatalf("old token after its expiry: %v", err)
	}
	if _, err := b.Verify(ctx, fresh.Token); err != nil {
		t.Fatalf("fresh token: %v", err)
	}

	// Retired keys are deleted once no token they signed can be valid.
	e.clock.Advance(MaxTokenTTL + 2*time.Minute)
	_, err = a.Rotate(ctx)
	check(t, err)
	keys, err := e.store.Range(ctx, prefixSignKey, "", 0)
	check(t, err)
	if len(keys) != 2 {
		t.Fatalf("%d signing keys after pruning, want 2 (current and just retired)", len(keys))
	}
}

func mustIssue(t *testing.T, i *Issuer, p Principal) Token {
	t.Helper()
	tok, err := i.Issue(context.Background(), p, scopes(t, "repository:team/a:pull"))
	check(t, err)
	return tok
}

func headerKid(t *testing.T, tok Secret) string {
	t.Helper()
	h, err := base64.RawURLEncoding.DecodeString(strings.Split(string(tok), ".")[0])
	check(t, err)
	_, rest, _ := strings.Cut(string(h), `"kid":"`)
	kid, _, _ := strings.Cut(rest, `"`)
	return kid
}

func TestIssuerConfigValidate(t *testing.T) {
	if err := (IssuerConfig{TTL: 2 * MaxTokenTTL}).Validate(); err == nil {
		t.Fatal("a TTL above MaxTokenTTL was accepted")
	}
}
