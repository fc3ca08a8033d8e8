package e2e

import (
	"fmt"
	"net/http"
	"os"
	"path/filepath"
	"testing"

	"berth.dev/berth/storage/miniotest"
)

// Tests of Berth with its blobs on a real MinIO server (storage/miniotest).

// s3Settings are the storage settings of a Berth on bucket of srv, as YAML keys
// under storage.s3 and their BERTH_* variables.
type s3Settings struct {
	endpoint, bucket string
}

func (s s3Settings) env() []string {
	return []string{
		"BERTH_STORAGE_DRIVER=s3",
		"BERTH_STORAGE_S3_ENDPOINT=" + s.endpoint,
		"BERTH_STORAGE_S3_REGION=us-east-1",
		"BERTH_STORAGE_S3_BUCKET=" + s.bucket,
		"BERTH_STORAGE_S3_ACCESS_KEY=" + miniotest.AccessKey,
		"BERTH_STORAGE_S3_SECRET_KEY=" + miniotest.SecretKey,
		"BERTH_STORAGE_S3_PATH_STYLE=true",
		"BERTH_STORAGE_S3_TLS=false",
		"BERTH_STORAGE_S3_CREATE_BUCKET=true",
	}
}

// configFile writes the settings as a configuration file and returns its path.
func (s s3Settings) configFile(t *testing.T) string {
	t.Helper()
	text := fmt.Sprintf(`storage:
  driver: s3
  s3:
    endpoint: %s
    region: us-east-1
    bucket: %s
    access_key: %s
    secret_key: %s
    path_style: true
    tls: false
    create_bucket: true
`, s.endpoint, s.bucket, miniotest.AccessKey, miniotest.SecretKey)
	path := filepath.Join(t.TempDir(), "berth.yml")
	if err := os.WriteFile(path, []byte(text), 0o600); err != nil {
		t.Fatal(err)
	}
	return path
}

// startS3Server starts MinIO and a `berth serve` whose blobs live on it.
func startS3Server(t *testing.T) (*server, *miniotest.Server) {
	t.Helper()
	if target.kind != "berth" {
		t.Skipf("S3 storage is Berth's configuration, not %s's", target.kind)
	}
	minio := miniotest.Start(t)
	cfg := s3Settings{endpoint: minio.Endpoint, bucket: "berth"}.configFile(t)
	return startServerWith(t, "--config", cfg), minio
}

// TestOCIConformanceMinIO runs the OCI conformance program against Berth on MinIO.
func TestOCIConformanceMinIO(t *testing.T) {
	prog := tool(t, "conformance")
	t.Parallel()
	s, _ := startS3Server(t)
	runConformance(t, prog, s)
}

// TestMinIOOutage stops MinIO between two chunks of an upload: the chunk and a
// manifest naming the unfinished blob are refused with clean errors (503 with a
// body naming the storage, or MANIFEST_BLOB_UNKNOWN), and once MinIO is back the
// same chunk and the push succeed, and every blob the manifest names is there.
func TestMinIOOutage(t *testing.T) {
	t.Parallel()
	s, minio := startS3Server(t)
	createProject(t, s.addr, "outage", false)
	repo := "outage/app"
	cfg, layer := randomBytes(t, 300), randomBytes(t, 7<<20)
	s.pushBlob(t, repo, cfg)
	loc := s.patchChunk(t, s.startUpload(t, repo), layer[:6<<20], 0)
	manifest := rawManifest(t, cfg, layer)

	minio.Stop()
	r := s.do(t, "PATCH", loc, layer[6<<20:], "Content-Type", "application/octet-stream",
		"Content-Range", fmt.Sprintf("%d-%d", 6<<20, len(layer)-1))
	wantError(t, "PATCH with MinIO stopped", r, http.StatusServiceUnavailable, "UNAVAILABLE")
	r = s.pushManifest(t, repo, "v1", mtManifest, manifest)
	if r.status != http.StatusBadRequest {
		wantError(t, "manifest with MinIO stopped", r, http.StatusServiceUnavailable,
			"UNAVAILABLE")
	} else {
		wantError(t, "manifest naming the unfinished layer", r, http.StatusBadRequest,
			"MANIFEST_BLOB_UNKNOWN")
	}
	if got := s.blobStatus(t, repo, sha256Digest(cfg)); got != http.StatusServiceUnavailable &&
		got != http.StatusOK {
		t.Errorf("HEAD of a stored blob with MinIO stopped: %d, want 200 or 503", got)
	}

	minio.Restart()
	loc = s.patchChunk(t, loc, layer[6<<20:], 6<<20)
	s.finishUpload(t, repo, loc, nil, layer)
	if r := s.pushManifest(t, repo, "v1", mtManifest, manifest); r.status != http.StatusCreated {
		t.Fatalf("manifest once MinIO is back: %v, want 201", r)
	}
	for _, b := range [][]byte{cfg, layer} {
		if got := s.blobStatus(t, repo, sha256Digest(b)); got != http.StatusOK {
			t.Errorf("blob %s named by the manifest: HEAD %d, want 200", sha256Digest(b), got)
		}
	}
}
