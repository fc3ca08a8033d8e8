package e2e

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io/fs"
	"net/http"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"
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
	r := s.pushManifest(t, repo, "big", mtManifest, body)
	switch {
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

// TestUploadSurvivesKill9 kills berth with SIGKILL between the chunks of an
// upload. Upload sessions live in metadata (DESIGN.md, contract 1), so after a
// restart on the same data directory the session goes on where it stopped, no
// partial blob is visible, and no stale copy of the partial bytes stays behind.
func TestUploadSurvivesKill9(t *testing.T) {
	t.Parallel()
	s := startServer(t)
	repo := "crash/upload"
	chunks := [][]byte{randomBytes(t, 1<<20), randomBytes(t, 1<<20), randomBytes(t, 1<<20)}
	full := bytes.Join(chunks, nil)
	partial := bytes.Join(chunks[:2], nil)

	loc := s.startUpload(t, repo)
	loc = s.patchChunk(t, loc, chunks[0], 0)
	loc = s.patchChunk(t, loc, chunks[1], len(chunks[0]))
	s.kill9()
	s.restart()

	for _, b := range [][]byte{full, partial, chunks[0]} {
		if got := s.blobStatus(t, repo, sha256Digest(b)); got != http.StatusNotFound {
			t.Errorf("HEAD blob of %d uploaded bytes after kill -9: %d, want 404", len(b), got)
		}
	}
	r := s.do(t, "GET", loc, nil)
	if r.status != http.StatusNoContent {
		t.Fatalf("GET upload status after kill -9 and restart: got %v, want 204 "+
			"(the session must survive: it lives in metadata)", r)
	}
	if got, want := r.header.Get("Range"), fmt.Sprintf("0-%d", len(partial)-1); got != want {
		t.Fatalf("upload Range after restart: %q, want %q", got, want)
	}
	loc = s.patchChunk(t, s.location(t, r), chunks[2], len(partial))
	r = s.do(t, "PUT", withQuery(t, loc, "digest", sha256Digest(full)), nil)
	if r.status != http.StatusCreated {
		t.Fatalf("PUT to finish the resumed upload: got %v, want 201", r)
	}
	got := s.do(t, "GET", "/v2/"+repo+"/blobs/"+sha256Digest(full), nil)
	if got.status != http.StatusOK || !bytes.Equal(got.body, full) {
		t.Errorf("GET resumed blob: status %d, %d bytes, equal=%v; want 200 and the %d bytes sent",
			got.status, len(got.body), bytes.Equal(got.body, full), len(full))
	}
	waitNoFilesHolding(t, s.dataDir, [][]byte{chunks[0], chunks[1], partial})
	if n := countFilesHolding(t, s.dataDir, full); n > 1 {
		t.Errorf("%d files under the data directory hold the finished blob, want at most 1", n)
	}
}

// waitNoFilesHolding fails the test if, after a grace period for background
// cleanup, a file under dir holds exactly one of contents.
func waitNoFilesHolding(t *testing.T, dir string, contents [][]byte) {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for {
		var stale []string
		for _, c := range contents {
			stale = append(stale, filesHolding(t, dir, c)...)
		}
		if len(stale) == 0 {
			return
		}
		if time.Now().After(deadline) {
			t.Errorf("stale upload files under the data directory: %v", stale)
			return
		}
		time.Sleep(200 * time.Millisecond)
	}
}

func countFilesHolding(t *testing.T, dir string, content []byte) int {
	t.Helper()
	return len(filesHolding(t, dir, content))
}

// filesHolding returns the files under dir whose whole content is content.
func filesHolding(t *testing.T, dir string, content []byte) []string {
	t.Helper()
	var found []string
	err := filepath.WalkDir(dir, func(path string, d fs.DirEntry, err error) error {
		if err != nil {
			if os.IsNotExist(err) {
				return nil // removed while walking
			}
			return err
		}
		if !d.Type().IsRegular() {
			return nil
		}
		info, err := d.Info()
		if err != nil || info.Size() != int64(len(content)) {
			return nil
		}
		b, err := os.ReadFile(path)
		if err == nil && bytes.Equal(b, content) {
			found = append(found, path)
		}
		return nil
	})
	if err != nil {
		t.Fatalf("walking %s: %v", dir, err)
	}
	return found
}
