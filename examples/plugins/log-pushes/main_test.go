package main

import (
	"testing"

	"berth.dev/berth/sdk"
)

func TestRecord(t *testing.T) {
	ev := &sdk.PushEvent{PushRequest: sdk.PushRequest{Repository: "team/app", Tag: "v1",
		Digest: "sha256:d", Manifest: sdk.ManifestSummary{TotalSize: 10,
			Layers: []sdk.Descriptor{{}}}}}
	tests := []struct {
		name string
		min  int64
		tag  string
		want string
	}{
		{"tagged", 0, "v1", "pushed team/app:v1@sha256:d (10 bytes, 1 layers)"},
		{"by digest", 0, "", "pushed team/app@sha256:d (10 bytes, 1 layers)"},
		{"too small", 11, "v1", ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			e := *ev
			e.Tag = tt.tag
			if got := record(&config{MinBytes: tt.min}, &e); got != tt.want {
				t.Errorf("record = %q, want %q", got, tt.want)
			}
		})
	}
	if validate(&config{MinBytes: -1}) == nil {
		t.Error("negative min_bytes accepted")
	}
}
