package main

import (
	"math"
	"testing"

	"berth.dev/berth/sdk"
)

func TestValidate(t *testing.T) {
	for _, tt := range []struct {
		name    string
		max     int64
		wantErr bool
	}{
		{"positive", 1 << 30, false},
		{"missing", 0, true},
		{"negative", -1, true},
	} {
		t.Run(tt.name, func(t *testing.T) {
			if err := validate(&config{MaxBytes: tt.max}); (err != nil) != tt.wantErr {
				t.Errorf("validate(%d) = %v, want error %v", tt.max, err, tt.wantErr)
			}
		})
	}
}

func image(config int64, layers ...int64) sdk.ManifestSummary {
	m := sdk.ManifestSummary{Config: &sdk.Descriptor{Digest: "sha256:c", Size: config}}
	for _, n := range layers {
		m.Layers = append(m.Layers, sdk.Descriptor{Digest: "sha256:l", Size: n})
	}
	return m
}

func TestPush(t *testing.T) {
	cfg := &config{MaxBytes: 1000}
	tests := []struct {
		name     string
		manifest sdk.ManifestSummary
		want     bool
		wantErr  bool
	}{
		{"small", image(100, 200, 300), true, false},
		{"exactly the limit", image(100, 900), true, false},
		{"one byte over", image(101, 900), false, false},
		{"config counts", image(1001), false, false},
		{"total larger", sdk.ManifestSummary{TotalSize: 5000}, false, false},
		{"index", sdk.ManifestSummary{Manifests: []sdk.Descriptor{{Size: 1 << 40}}},
			true, false},
		{"overflow", image(1, math.MaxInt64, math.MaxInt64), false, false},
		{"negative size", image(1, -5), false, true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := &sdk.PushRequest{Repository: "team/app", Manifest: tt.manifest}
			d, err := push(cfg, r)
			if (err != nil) != tt.wantErr || d.Allow != tt.want {
				t.Errorf("push = %+v, %v, want allow %v, error %v",
					d, err, tt.want, tt.wantErr)
			}
		})
	}
}
