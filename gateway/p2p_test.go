package gateway

import "testing"

func TestParsePiecesPath(t *testing.T) {
	tests := []struct {
		name string
		path string
		want route
	}{
		{"pieces", "/v2/p/x/blobs/sha256:ab/pieces", route{routePieces, "p/x", "sha256:ab"}},
		{"name ending pieces", "/v2/p/pieces/blobs/sha256:ab", route{routeBlob, "p/pieces", "sha256:ab"}},
		{"manifest tagged pieces", "/v2/p/manifests/pieces", route{routeManifest, "p", "pieces"}},
		{"pieces of a manifest", "/v2/p/manifests/v1/pieces", route{kind: routeUnknown}},
		{"pieces without a blob", "/v2/p/blobs/pieces", route{routeBlob, "p", "pieces"}},
		{"pieces with no name", "/v2/blobs/sha256:ab/pieces", route{kind: routeUnknown}},
	}
	for _, tt := range tests {
		if got := parseV2Path(tt.path); got != tt.want {
			t.Errorf("%s: parseV2Path(%q) = %+v, want %+v", tt.name, tt.path, got, tt.want)
		}
	}
}
