package wasmbuild

import (
	"slices"
	"testing"
)

func TestEnv(t *testing.T) {
	env := Env([]string{"HOME=/h", "GOOS=linux", "GOFLAGS=-race", "GOWASM=satconv"})
	tests := []struct{ name, want string }{
		{"kept", "HOME=/h"},
		{"target", "GOOS=wasip1"},
		{"arch", "GOARCH=wasm"},
		{"flags cleared", "GOFLAGS="},
		{"features cleared", "GOWASM="},
		{"workspace off", "GOWORK=off"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if !slices.Contains(env, tt.want) {
				t.Errorf("Env lacks %s: %q", tt.want, env)
			}
		})
	}
	for _, bad := range []string{"GOOS=linux", "GOFLAGS=-race", "GOWASM=satconv"} {
		if slices.Contains(env, bad) {
			t.Errorf("Env keeps %s", bad)
		}
	}
}
