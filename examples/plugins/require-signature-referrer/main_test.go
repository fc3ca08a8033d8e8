package main

import (
	"testing"

	"berth.dev/berth/sdk"
)

const bundle = "application/vnd.dev.sigstore.bundle.v0.3+json"

func TestValidate(t *testing.T) {
	if err := validate(&config{}); err == nil {
		t.Error("empty artifact_type accepted")
	}
	if err := validate(&config{ArtifactType: bundle}); err != nil {
		t.Errorf("valid config refused: %v", err)
	}
}

func TestDecide(t *testing.T) {
	cfg := &config{ArtifactType: bundle}
	tests := []struct {
		name    string
		doc     string
		want    bool
		wantErr bool
	}{
		{"signed", `{"manifests":[{"artifactType":"application/spdx+json"},` +
			`{"artifactType":"` + bundle + `"}]}`, true, false},
		{"other referrers", `{"manifests":[{"artifactType":"application/spdx+json"}]}`,
			false, false},
		{"empty index", `{"schemaVersion":2,"manifests":[]}`, false, false},
		{"no referrers", "", false, false},
		{"garbage", `{"manifests":`, false, true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var doc []byte
			if tt.doc != "" {
				doc = []byte(tt.doc)
			}
			r := &sdk.PullRequest{Repository: "team/app", Reference: "v1", Digest: "sha256:a"}
			d, err := decide(cfg, r, doc)
			if (err != nil) != tt.wantErr || d.Allow != tt.want {
				t.Errorf("decide = %+v, %v, want allow %v, error %v",
					d, err, tt.want, tt.wantErr)
			}
		})
	}
}

// TestPullByDigest checks that pulls by digest are allowed without reading
// referrers (off wasm nothing is granted, so reading them would fail).
func TestPullByDigest(t *testing.T) {
	cfg := &config{ArtifactType: bundle}
	d, err := pull(cfg, &sdk.PullRequest{Repository: "team/app", Reference: "sha256:a"})
	if err != nil || !d.Allow {
		t.Errorf("pull by digest = %+v, %v, want allow", d, err)
	}
}
