package auth

import (
	"errors"
	"reflect"
	"strings"
	"testing"
)

func TestParseScope(t *testing.T) {
	tests := []struct {
		in   string
		want Scope
		err  bool
	}{
		{in: "repository:library/nginx:pull,push",
			want: Scope{Type: "repository", Name: "library/nginx",
				Actions: []string{"pull", "push"}}},
		{in: "repository:host:5000/a/b:pull",
			want: Scope{Type: "repository", Name: "host:5000/a/b", Actions: []string{"pull"}}},
		{in: "repository(plugin):p/x:pull",
			want: Scope{Type: "repository", Class: "plugin", Name: "p/x",
				Actions: []string{"pull"}}},
		{in: "registry:catalog:*",
			want: Scope{Type: "registry", Name: "catalog", Actions: []string{"*"}}},
		{in: "repository:a/b:pull,,pull,",
			want: Scope{Type: "repository", Name: "a/b", Actions: []string{"pull"}}},
		{in: "repository:a/b:", want: Scope{Type: "repository", Name: "a/b"}},
		{in: "repository:a/b", err: true},
		{in: "repository", err: true},
		{in: "Repo:a/b:pull", err: true},
		{in: "repository::pull", err: true},
		{in: "repository:a b:pull", err: true},
		{in: "repository:a/b:PULL", err: true},
		{in: "repository(:a/b:pull", err: true},
		{in: "repository:" + strings.Repeat("a", 600) + ":pull", err: true},
	}
	for _, tt := range tests {
		t.Run(tt.in[:min(len(tt.in), 40)], func(t *testing.T) {
			got, err := ParseScope(tt.in)
			if tt.err {
				if !errors.Is(err, ErrInvalidScope) {
					t.Fatalf("ParseScope = %+v, %v; want ErrInvalidScope", got, err)
				}
				return
			}
			if err != nil || !reflect.DeepEqual(got, tt.want) {
				t.Fatalf("ParseScope = %+v, %v; want %+v", got, err, tt.want)
			}
		})
	}
}

func TestParseScopes(t *testing.T) {
	got, err := ParseScopes([]string{
		"repository:a/b:pull repository:a/c:push", "registry:catalog:*"})
	if err != nil || len(got) != 3 || got[1].Name != "a/c" {
		t.Fatalf("ParseScopes = %+v, %v", got, err)
	}
	many := strings.Repeat("repository:a/b:pull ", MaxScopes+1)
	if _, err := ParseScopes([]string{many}); !errors.Is(err, ErrInvalidScope) {
		t.Fatalf("too many scopes: %v", err)
	}
}

// FuzzParseScope: parsing never panics, and what parses prints back to a string that
// parses to the same scope.
func FuzzParseScope(f *testing.F) {
	for _, s := range []string{
		"repository:library/nginx:pull,push", "repository(plugin):a:pull", "registry:catalog:*",
		"repository:host:5000/a:pull", "a:b:", "::", "repository:a:b:c,d,,*",
	} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		sc, err := ParseScope(s)
		if err != nil {
			return
		}
		again, err := ParseScope(sc.String())
		if err != nil || !reflect.DeepEqual(sc, again) {
			t.Fatalf("%q -> %+v -> %q -> %+v, %v", s, sc, sc.String(), again, err)
		}
	})
}
