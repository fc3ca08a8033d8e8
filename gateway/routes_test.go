package gateway

import (
	"strings"
	"testing"
)

func TestParseV2Path(t *testing.T) {
	tests := []struct {
		name string
		path string
		want route
	}{
		{"base", "/v2/", route{kind: routeBase}},
		{"catalog", "/v2/_catalog", route{kind: routeCatalog}},
		{"tags", "/v2/a/b/tags/list", route{routeTags, "a/b", ""}},
		{"manifest", "/v2/lib/x/manifests/v1", route{routeManifest, "lib/x", "v1"}},
		{"blob", "/v2/x/blobs/sha256:ab", route{routeBlob, "x", "sha256:ab"}},
		{"upload start", "/v2/x/y/blobs/uploads/", route{routeUploadStart, "x/y", ""}},
		{"upload", "/v2/x/blobs/uploads/abc", route{routeUpload, "x", "abc"}},
		{"name with blobs", "/v2/blobs/blobs/sha256:ab", route{routeBlob, "blobs", "sha256:ab"}},
		{"name ending manifests", "/v2/manifests/manifests/t", route{routeManifest, "manifests", "t"}},
		{"referrers", "/v2/r/referrers/sha256:cd", route{routeReferrers, "r", "sha256:cd"}},
		{"no name", "/v2/manifests/t", route{kind: routeUnknown}},
		{"other", "/v3/x", route{kind: routeUnknown}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := parseV2Path(tt.path); got != tt.want {
				t.Fatalf("parseV2Path(%q) = %+v, want %+v", tt.path, got, tt.want)
			}
		})
	}
}

func FuzzParseV2Path(f *testing.F) {
	for _, s := range []string{"/v2/", "/v2/a/manifests/b", "/v2/a/blobs/uploads/x", "/v2//x/"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, path string) {
		r := parseV2Path(path)
		if r.kind == routeUnknown || r.kind == routeBase || r.kind == routeCatalog {
			return
		}
		if r.name == "" || !strings.Contains(path, r.name) || !strings.Contains(path, r.ref) {
			t.Fatalf("parseV2Path(%q) = %+v: parts not taken from the path", path, r)
		}
	})
}
