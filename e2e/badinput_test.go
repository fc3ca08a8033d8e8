package e2e

import (
	"bytes"
	"encoding/json"
	"fmt"
	"net/http"
	"slices"
	"strings"
	"testing"
)

// maxManifestSize is the manifest size limit every registry must accept up to
// (distribution-spec: registries SHOULD accept manifests of at least 4 MiB).
const maxManifestSize = 4 << 20

// TestBadInput sends requests that a correct client never sends and checks that
// Berth refuses them with the right OCI error and stores nothing.
func TestBadInput(t *testing.T) {
	t.Parallel()
	s := startServer(t)
	t.Run("blob digest mismatch", func(t *testing.T) { testDigestMismatch(t, s) })
	t.Run("monolithic digest mismatch", func(t *testing.T) { testMonolithicMismatch(t, s) })
	t.Run("manifest blob unknown", func(t *testing.T) { testManifestBlobUnknown(t, s) })
	t.Run("invalid repository name", func(t *testing.T) { testNameInvalid(t, s) })
	t.Run("manifest too large", func(t *testing.T) { testManifestTooLarge(t, s) })
	t.Run("cancelled upload", func(t *testing.T) { testCancelledUpload(t, s) })
}

func testDigestMismatch(t *testing.T, s *server) {
	repo := "bad/digest"
	data := randomBytes(t, 64<<10)
	claimed := sha256Digest(randomBytes(t, 16))
	loc := s.startUpload(t, repo)
	r := s.do(t, "PUT", withQuery(t, loc, "digest", claimed), data,
		"Content-Type", "application/octet-stream")
	wantError(t, "PUT upload with a wrong digest", r, http.StatusBadRequest, "DIGEST_INVALID")

	for _, dig := range []string{claimed, sha256Digest(data)} {
		if got := s.blobStatus(t, repo, dig); got != http.StatusNotFound {
			t.Errorf("HEAD blob %s after a refused upload: %d, want 404", dig, got)
		}
	}
}

func testMonolithicMismatch(t *testing.T, s *server) {
	repo := "bad/monolithic"
	data := randomBytes(t, 1024)
	claimed := sha256Digest(randomBytes(t, 16))
	r := s.do(t, "POST", "/v2/"+repo+"/blobs/uploads/?digest="+claimed, data,
		"Content-Type", "application/octet-stream")
	// A registry may ignore ?digest on POST and open a session (202) instead.
	if r.status != http.StatusAccepted {
		wantError(t, "POST blob with a wrong digest", r, http.StatusBadRequest, "DIGEST_INVALID")
	}
	for _, dig := range []string{claimed, sha256Digest(data)} {
		if got := s.blobStatus(t, repo, dig); got != http.StatusNotFound {
			t.Errorf("HEAD blob %s after a refused upload: %d, want 404", dig, got)
		}
	}
}

func testManifestBlobUnknown(t *testing.T, s *server) {
	repo := "bad/missing"
	tests := []struct {
		name  string
		blobs func(img image) [][]byte // blobs pushed before the manifest
	}{
		{"missing layer", func(img image) [][]byte { return [][]byte{img.config} }},
		{"missing config", func(img image) [][]byte { return [][]byte{img.layer} }},
	}
	for i, tt := range tests {
		img := newImage(t, platform{OS: "linux", Architecture: "amd64"})
		for _, b := range tt.blobs(img) {
			s.pushBlob(t, repo, b)
		}
		tag := fmt.Sprintf("missing%d", i)
		r := s.pushManifest(t, repo, tag, mtManifest, img.manifest)
		wantError(t, "PUT manifest with a "+tt.name, r, http.StatusBadRequest,
			"MANIFEST_BLOB_UNKNOWN")
		for _, ref := range []string{tag, img.desc.Digest} {
			if got := s.manifestStatus(t, repo, ref); got != http.StatusNotFound {
				t.Errorf("%s: GET manifest %s after refusal: %d, want 404", tt.name, ref, got)
			}
		}
	}
}

func testNameInvalid(t *testing.T, s *server) {
	names := []string{
		"Upper/case", "a..b", "-leading", "trailing-", "a___b", "a.-b", "_under", "with%20space",
	}
	img := newImage(t, platform{OS: "linux", Architecture: "amd64"})
	for _, name := range names {
		r := s.do(t, "POST", "/v2/"+name+"/blobs/uploads/", nil)
		wantError(t, "POST upload to "+name, r, http.StatusBadRequest, "NAME_INVALID")
		r = s.pushManifest(t, name, "v1", mtManifest, img.manifest)
		wantError(t, "PUT manifest to "+name, r, http.StatusBadRequest, "NAME_INVALID")
	}
}

func testManifestTooLarge(t *testing.T, s *server) {
	repo := "bad/large"
	img := newImage(t, platform{OS: "linux", Architecture: "amd64"})
	s.pushImage(t, repo, "small", img) // the same blobs are fine in a small manifest

	big := manifest{SchemaVersion: 2, MediaType: mtManifest, Config: &img.configDesc,
		Layers:      []descriptor{img.layerDesc},
		Annotations: map[string]string{"pad": strings.Repeat("x", maxManifestSize)}}
	body := mustJSON(t, big)
	req, err := http.NewRequest("PUT", s.url("/v2/"+repo+"/manifests/big"), bytes.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("Content-Type", mtManifest)
	r, err := roundTrip(req)
	switch {
	case err != nil:
		// A server that closes the connection while the client still sends
		// makes the kernel reset it, and the client never sees the status.
		t.Errorf("PUT %d-byte manifest: %v; want a 413 or 400 reply that a Go client can read "+
			"(read or drain the body before closing the connection)", len(body), err)
	case r.status == http.StatusRequestEntityTooLarge:
	case r.status == http.StatusBadRequest:
		codes := r.errorCodes()
		if !slices.Contains(codes, "MANIFEST_INVALID") && !slices.Contains(codes, "SIZE_INVALID") {
			t.Errorf("PUT %d-byte manifest: codes %v, want MANIFEST_INVALID or SIZE_INVALID",
				len(body), codes)
		}
	default:
		t.Errorf("PUT %d-byte manifest: got %v, want 413 or 400", len(body), r)
	}
	for _, ref := range []string{"big", sha256Digest(body)} {
		if got := s.manifestStatus(t, repo, ref); got != http.StatusNotFound {
			t.Errorf("GET manifest %s after refusal: %d, want 404", ref, got)
		}
	}
	if tags := s.tags(t, repo); slices.Contains(tags, "big") {
		t.Errorf("tags after refused manifest: %v, want no \"big\"", tags)
	}
}

func testCancelledUpload(t *testing.T, s *server) {
	repo := "bad/cancel"
	chunk := randomBytes(t, 256<<10)
	loc := s.startUpload(t, repo)
	loc = s.patchChunk(t, loc, chunk, 0)
	if r := s.do(t, "DELETE", loc, nil); r.status != http.StatusNoContent {
		t.Fatalf("DELETE upload: got %v, want 204", r)
	}
	wantError(t, "GET cancelled upload", s.do(t, "GET", loc, nil),
		http.StatusNotFound, "BLOB_UPLOAD_UNKNOWN")
	if got := s.blobStatus(t, repo, sha256Digest(chunk)); got != http.StatusNotFound {
		t.Errorf("HEAD blob of a cancelled upload: %d, want 404", got)
	}
	waitNoFilesHolding(t, s.dataDir, [][]byte{chunk})
}

// tags returns the tag list of repo, or nil when the registry does not know it.
func (s *server) tags(t *testing.T, repo string) []string {
	t.Helper()
	r := s.do(t, "GET", "/v2/"+repo+"/tags/list", nil)
	if r.status == http.StatusNotFound {
		return nil
	}
	var list struct {
		Tags []string `json:"tags"`
	}
	if r.status != http.StatusOK || json.Unmarshal(r.body, &list) != nil {
		t.Fatalf("GET /v2/%s/tags/list: %v", repo, r)
	}
	return list.Tags
}
