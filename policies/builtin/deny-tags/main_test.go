package main

import (
	"testing"

	"berth.dev/berth/sdk"
)

func TestValidate(t *testing.T) {
	tests := []struct {
		name    string
		cfg     config
		wantErr bool
	}{
		{"latest", config{Patterns: []string{"latest"}}, false},
		{"missing", config{}, true},
		{"malformed", config{Patterns: []string{"[x"}}, true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if err := validate(&tt.cfg); (err != nil) != tt.wantErr {
				t.Errorf("validate = %v, want error %v", err, tt.wantErr)
			}
		})
	}
}

func TestPush(t *testing.T) {
	cfg := &config{Patterns: []string{"latest", "*-dirty"}}
	tests := []struct {
		name, tag  string
		want       bool
		wantReason string
	}{
		{"version", "v1.0.0", true, ""},
		{"by digest", "", true, ""},
		{"latest", "latest", false, `tag "latest" may not be pushed to team/app: ` +
			`it matches the denied pattern "latest"; push a versioned tag instead`},
		{"glob", "v2-dirty", false, `tag "v2-dirty" may not be pushed to team/app: ` +
			`it matches the denied pattern "*-dirty"; push a versioned tag instead`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			d, err := push(cfg, &sdk.PushRequest{Repository: "team/app", Tag: tt.tag})
			if err != nil || d.Allow != tt.want || d.Reason != tt.wantReason {
				t.Errorf("push(%q) = %+v, %v, want allow %v reason %q",
					tt.tag, d, err, tt.want, tt.wantReason)
			}
		})
	}
}
