package main

import (
	"testing"

	"berth.dev/berth/sdk"
)

func TestValidate(t *testing.T) {
	tests := []struct {
		name    string
		exempt  []string
		wantErr bool
	}{
		{"zero", nil, false},
		{"glob", []string{"infra/*"}, false},
		{"empty", []string{""}, true},
		{"malformed", []string{"infra/[a"}, true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if err := validate(&config{Exempt: tt.exempt}); (err != nil) != tt.wantErr {
				t.Errorf("validate(%q) = %v, want error %v", tt.exempt, err, tt.wantErr)
			}
		})
	}
}

func TestDecide(t *testing.T) {
	tests := []struct {
		name, blob string
		want       bool
		wantErr    bool
	}{
		{"named user", `{"config":{"User":"app"}}`, true, false},
		{"uid and gid", `{"config":{"User":"1000:1000"}}`, true, false},
		{"default", `{"config":{}}`, false, false},
		{"no config section", `{"architecture":"amd64"}`, false, false},
		{"root", `{"config":{"User":"root"}}`, false, false},
		{"uid 0", `{"config":{"User":"0"}}`, false, false},
		{"root with group", `{"config":{"User":"root:app"}}`, false, false},
		{"uid 0 with gid", `{"config":{"User":"0:1000"}}`, false, false},
		{"group only", `{"config":{"User":":1000"}}`, false, false},
		{"garbage", `{"config":`, false, true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			d, err := decide(&sdk.PushRequest{Digest: "sha256:i"}, []byte(tt.blob))
			if (err != nil) != tt.wantErr || d.Allow != tt.want {
				t.Errorf("decide = %+v, %v, want allow %v, error %v",
					d, err, tt.want, tt.wantErr)
			}
		})
	}
}

// TestPushWithoutConfig checks what push allows before reading the config blob:
// exempt repositories, indexes and artifacts.
func TestPushWithoutConfig(t *testing.T) {
	cfg := &config{Exempt: []string{"infra/*"}}
	image := &sdk.Descriptor{MediaType: "application/vnd.oci.image.config.v1+json"}
	artifact := &sdk.Descriptor{MediaType: "application/vnd.oci.empty.v1+json"}
	tests := []struct {
		name, repo string
		config     *sdk.Descriptor
	}{
		{"exempt", "infra/proxy", image},
		{"index", "team/app", nil},
		{"artifact", "team/app", artifact},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := &sdk.PushRequest{Repository: tt.repo,
				Manifest: sdk.ManifestSummary{Config: tt.config}}
			if d, err := push(cfg, r); err != nil || !d.Allow {
				t.Errorf("push = %+v, %v, want allow", d, err)
			}
		})
	}
}
