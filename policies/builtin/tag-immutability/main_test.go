package main

import (
	"strings"
	"testing"

	"berth.dev/berth/sdk"
)

func TestValidate(t *testing.T) {
	tests := []struct {
		name    string
		cfg     config
		wantErr bool
	}{
		{"versions", config{Patterns: []string{"v*", "release-*"}}, false},
		{"missing", config{}, true},
		{"empty pattern", config{Patterns: []string{""}}, true},
		{"malformed", config{Patterns: []string{"v[0-9"}}, true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if err := validate(&tt.cfg); (err != nil) != tt.wantErr {
				t.Errorf("validate = %v, want error %v", err, tt.wantErr)
			}
		})
	}
}

func TestDecide(t *testing.T) {
	cfg := &config{Patterns: []string{"v*", "release-*"}}
	existing := tagState{known: true, exists: true, digest: "sha256:old"}
	tests := []struct {
		name, tag, digest string
		state             tagState
		want              bool
		wantErr           bool
	}{
		{"new tag", "v1", "sha256:new", tagState{known: true}, true, false},
		{"same digest", "v1", "sha256:old", existing, true, false},
		{"moved", "v1", "sha256:new", existing, false, false},
		{"moved release", "release-2", "sha256:new", existing, false, false},
		{"unprotected tag", "latest", "sha256:new", existing, true, false},
		{"by digest", "", "sha256:new", tagState{}, true, false},
		{"unknown state", "v1", "sha256:new", tagState{}, false, true},
		{"unknown, unprotected", "dev", "sha256:new", tagState{}, true, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := &sdk.PushRequest{Repository: "team/app", Tag: tt.tag, Digest: tt.digest}
			d, err := decide(cfg, r, tt.state)
			if (err != nil) != tt.wantErr || d.Allow != tt.want {
				t.Fatalf("decide = %+v, %v, want allow %v, error %v",
					d, err, tt.want, tt.wantErr)
			}
			if !d.Allow && err == nil && !strings.Contains(d.Reason, "immutable") {
				t.Errorf("reason %q does not say the tag is immutable", d.Reason)
			}
		})
	}
}

// TestPushWithoutState pins today's behaviour: ABI 1.0 requests carry no tag
// state, so a matching tag cannot be judged.
func TestPushWithoutState(t *testing.T) {
	cfg := &config{Patterns: []string{"v*"}}
	if _, err := push(cfg, &sdk.PushRequest{Tag: "v1", Digest: "sha256:a"}); err == nil {
		t.Error("push of v1 without tag state: no error")
	}
	if d, err := push(cfg, &sdk.PushRequest{Tag: "dev"}); err != nil || !d.Allow {
		t.Errorf("push of dev = %+v, %v, want allow", d, err)
	}
}
