package main

import (
	"testing"

	"berth.dev/berth/sdk"
)

func TestValidate(t *testing.T) {
	var c config
	if err := validate(&c); err != nil || c.Annotation != defaultAnnotation {
		t.Errorf("zero config: %v, annotation %q", err, c.Annotation)
	}
	if err := validate(&config{Exempt: []string{""}}); err == nil {
		t.Error("empty exempt component accepted")
	}
}

func TestPush(t *testing.T) {
	cfg := &config{Annotation: "dev.berth.team", Exempt: []string{"library"}}
	tests := []struct {
		name, repo, team string
		want             bool
		wantReason       string
	}{
		{"owner", "payments/api", "payments", true, ""},
		{"nested", "payments/tools/cli", "payments", true, ""},
		{"exempt", "library/nginx", "", true, ""},
		{"missing", "payments/api", "", false, "manifest for payments/api needs " +
			"annotation dev.berth.team=payments naming its owning team"},
		{"other team", "payments/api", "search", false, "manifest says " +
			"dev.berth.team=search, but payments/api belongs to team payments"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := &sdk.PushRequest{Repository: tt.repo}
			if tt.team != "" {
				r.Manifest.Annotations = map[string]string{"dev.berth.team": tt.team}
			}
			d, err := push(cfg, r)
			if err != nil || d.Allow != tt.want || d.Reason != tt.wantReason {
				t.Errorf("push = %+v, %v, want allow %v reason %q",
					d, err, tt.want, tt.wantReason)
			}
		})
	}
}
