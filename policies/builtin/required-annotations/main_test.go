package main

import (
	"testing"

	"berth.dev/berth/sdk"
)

func TestValidate(t *testing.T) {
	tests := []struct {
		name    string
		keys    []string
		wantErr bool
	}{
		{"one", []string{"org.opencontainers.image.source"}, false},
		{"none", nil, true},
		{"blank", []string{"a", " "}, true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if err := validate(&config{Keys: tt.keys}); (err != nil) != tt.wantErr {
				t.Errorf("validate(%q) = %v, want error %v", tt.keys, err, tt.wantErr)
			}
		})
	}
}

func TestPush(t *testing.T) {
	const src, rev = "org.opencontainers.image.source", "org.opencontainers.image.revision"
	cfg := &config{Keys: []string{src, rev}}
	tests := []struct {
		name        string
		annotations map[string]string
		want        bool
		wantReason  string
	}{
		{"both", map[string]string{src: "https://git.example/app", rev: "abc"}, true, ""},
		{"one missing", map[string]string{src: "https://git.example/app"}, false,
			"manifest sha256:m lacks the required annotation(s) " + rev},
		{"empty value", map[string]string{src: "", rev: "abc"}, false,
			"manifest sha256:m lacks the required annotation(s) " + src},
		{"none", nil, false,
			"manifest sha256:m lacks the required annotation(s) " + src + ", " + rev},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := &sdk.PushRequest{Digest: "sha256:m",
				Manifest: sdk.ManifestSummary{Annotations: tt.annotations}}
			d, err := push(cfg, r)
			if err != nil || d.Allow != tt.want || d.Reason != tt.wantReason {
				t.Errorf("push = %+v, %v, want allow %v reason %q",
					d, err, tt.want, tt.wantReason)
			}
		})
	}
}
