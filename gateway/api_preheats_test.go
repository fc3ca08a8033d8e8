package gateway

import (
	"errors"
	"testing"

	"berth.dev/berth/registry"
)

func TestParseImage(t *testing.T) {
	const d = "sha256:d8dae902288a6c38d26e6ff73cf8aa1214f7efbaec2bc4df65a6236e09dcea02"
	tests := []struct {
		name, image, wantName string
		want                  registry.Reference
		ok                    bool
	}{
		{"tag", "p/app:v1", "p/app", registry.Reference{Tag: "v1"}, true},
		{"no tag means latest", "p/app", "p/app", registry.Reference{Tag: "latest"}, true},
		{"digest", "p/app@" + d, "p/app", registry.Reference{Digest: d}, true},
		{"nested name", "p/team/app:1.2", "p/team/app", registry.Reference{Tag: "1.2"}, true},
		{"bad digest", "p/app@sha256:zz", "", registry.Reference{}, false},
		{"host in the name", "host:5000/p/app", "", registry.Reference{}, false},
		{"upper case", "P/App:v1", "", registry.Reference{}, false},
		{"empty", "", "", registry.Reference{}, false},
		{"empty tag", "p/app:", "", registry.Reference{}, false},
	}
	for _, tt := range tests {
		name, ref, err := parseImage(tt.image)
		if tt.ok != (err == nil) {
			t.Errorf("%s: parseImage(%q) error %v, want ok=%v", tt.name, tt.image, err, tt.ok)
			continue
		}
		if err != nil && !errors.Is(err, errBadImage) {
			t.Errorf("%s: error %v, want errBadImage", tt.name, err)
		}
		if name != tt.wantName || ref != tt.want {
			t.Errorf("%s: parseImage(%q) = %q %+v, want %q %+v", tt.name, tt.image, name, ref,
				tt.wantName, tt.want)
		}
	}
}
