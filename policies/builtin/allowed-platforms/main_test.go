package main

import (
	"testing"

	"berth.dev/berth/sdk"
)

func TestValidate(t *testing.T) {
	tests := []struct {
		name      string
		platforms []string
		wantErr   bool
	}{
		{"two", []string{"linux/amd64", "linux/arm/v7"}, false},
		{"none", nil, true},
		{"os only", []string{"linux"}, true},
		{"empty part", []string{"linux/"}, true},
		{"too many parts", []string{"linux/arm/v7/x"}, true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			err := validate(&config{Platforms: tt.platforms})
			if (err != nil) != tt.wantErr {
				t.Errorf("validate(%q) = %v, want error %v", tt.platforms, err, tt.wantErr)
			}
		})
	}
}

func index(ps ...sdk.Platform) sdk.ManifestSummary {
	var m sdk.ManifestSummary
	for _, p := range ps {
		m.Manifests = append(m.Manifests, sdk.Descriptor{Digest: "sha256:e", Platform: &p})
	}
	return m
}

func TestPush(t *testing.T) {
	cfg := &config{Platforms: []string{"linux/amd64", "linux/arm64", "linux/arm/v7"}}
	amd64 := sdk.Platform{OS: "linux", Architecture: "amd64"}
	arm64v8 := sdk.Platform{OS: "linux", Architecture: "arm64", Variant: "v8"}
	armv6 := sdk.Platform{OS: "linux", Architecture: "arm", Variant: "v6"}
	windows := sdk.Platform{OS: "windows", Architecture: "amd64"}
	attestation := sdk.Platform{OS: "unknown", Architecture: "unknown"}
	tests := []struct {
		name       string
		manifest   sdk.ManifestSummary
		want       bool
		wantReason string
	}{
		{"allowed index", index(amd64, arm64v8, attestation), true, ""},
		{"variant outside", index(amd64, armv6), false, "manifest sha256:m is for " +
			"platform(s) linux/arm/v6; team/app allows only linux/amd64, linux/arm64, " +
			"linux/arm/v7"},
		{"two outside, once each", index(windows, armv6, windows), false, "manifest " +
			"sha256:m is for platform(s) windows/amd64, linux/arm/v6; team/app allows " +
			"only linux/amd64, linux/arm64, linux/arm/v7"},
		{"image platform", sdk.ManifestSummary{Platforms: []sdk.Platform{windows}}, false,
			"manifest sha256:m is for platform(s) windows/amd64; team/app allows only " +
				"linux/amd64, linux/arm64, linux/arm/v7"},
		{"image platform unknown", sdk.ManifestSummary{}, true, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := &sdk.PushRequest{Repository: "team/app", Digest: "sha256:m",
				Manifest: tt.manifest}
			d, err := push(cfg, r)
			if err != nil || d.Allow != tt.want || d.Reason != tt.wantReason {
				t.Errorf("push = %+v, %v, want allow %v reason %q",
					d, err, tt.want, tt.wantReason)
			}
		})
	}
}
