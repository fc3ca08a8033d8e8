package e2e

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"testing"
	"time"
)

// Helpers that speak the distribution API with plain HTTP, so tests can set up
// content without any client program and check what the registry answers.

// pushBlob uploads b to repo with POST then PUT, checks the reply and returns b's digest.
func (s *server) pushBlob(t *testing.T, repo string, b []byte) string {
	t.Helper()
	loc := s.startUpload(t, repo)
	dig := sha256Digest(b)
	r := s.do(t, "PUT", withQuery(t, loc, "digest", dig), b,
		"Content-Type", "application/octet-stream")
	if r.status != http.StatusCreated {
		t.Fatalf("PUT blob %s to %s: got %v, want 201", dig, repo, r)
	}
	return dig
}

// startUpload opens an upload session in repo and returns its absolute URL.
func (s *server) startUpload(t *testing.T, repo string) string {
	t.Helper()
	r := s.do(t, "POST", "/v2/"+repo+"/blobs/uploads/", nil)
	if r.status != http.StatusAccepted {
		t.Fatalf("POST /v2/%s/blobs/uploads/: got %v, want 202", repo, r)
	}
	return s.location(t, r)
}

// patchChunk sends chunk at offset to the upload session at loc and returns
// the session URL the registry gives for the next request.
func (s *server) patchChunk(t *testing.T, loc string, chunk []byte, offset int) string {
	t.Helper()
	end := offset + len(chunk) - 1
	r := s.do(t, "PATCH", loc, chunk,
		"Content-Type", "application/octet-stream",
		"Content-Range", fmt.Sprintf("%d-%d", offset, end))
	if r.status != http.StatusAccepted {
		t.Fatalf("PATCH bytes %d-%d: got %v, want 202", offset, end, r)
	}
	if got, want := r.header.Get("Range"), fmt.Sprintf("0-%d", end); got != want {
		t.Errorf("PATCH bytes %d-%d: Range header %q, want %q", offset, end, got, want)
	}
	return s.location(t, r)
}

// pushManifest sends a manifest with PUT and returns the reply unchecked.
func (s *server) pushManifest(t *testing.T, repo, ref, mediaType string, body []byte) reply {
	t.Helper()
	return s.do(t, "PUT", "/v2/"+repo+"/manifests/"+ref, body, "Content-Type", mediaType)
}

// pushImage uploads the blobs and manifest of img and tags it.
func (s *server) pushImage(t *testing.T, repo, tag string, img image) {
	t.Helper()
	s.pushBlob(t, repo, img.config)
	s.pushBlob(t, repo, img.layer)
	r := s.pushManifest(t, repo, tag, mtManifest, img.manifest)
	if r.status != http.StatusCreated {
		t.Fatalf("PUT manifest %s:%s: got %v, want 201", repo, tag, r)
	}
	if got := r.header.Get("Docker-Content-Digest"); got != img.desc.Digest {
		t.Errorf("PUT manifest %s:%s: Docker-Content-Digest %q, want %q",
			repo, tag, got, img.desc.Digest)
	}
}

// blobStatus returns the status of HEAD on a blob.
func (s *server) blobStatus(t *testing.T, repo, digest string) int {
	t.Helper()
	return s.do(t, "HEAD", "/v2/"+repo+"/blobs/"+digest, nil).status
}

// manifestStatus returns the status of GET on a manifest by tag or digest.
func (s *server) manifestStatus(t *testing.T, repo, ref string) int {
	t.Helper()
	return s.do(t, "GET", "/v2/"+repo+"/manifests/"+ref, nil,
		"Accept", mtManifest+", "+mtIndex).status
}

// withQuery returns rawURL with key=value added to its query.
func withQuery(t *testing.T, rawURL, key, value string) string {
	t.Helper()
	u, err := url.Parse(rawURL)
	if err != nil {
		t.Fatalf("bad URL %q: %v", rawURL, err)
	}
	q := u.Query()
	q.Set(key, value)
	u.RawQuery = q.Encode()
	return u.String()
}

// wantError fails the test unless r has status want and carries the OCI error code.
func wantError(t *testing.T, what string, r reply, status int, code string) {
	t.Helper()
	if r.status != status {
		t.Errorf("%s: got %v, want %d %s", what, r, status, code)
		return
	}
	if !slices.Contains(r.errorCodes(), code) {
		t.Errorf("%s: error codes %v, want %s (body %q)", what, r.errorCodes(), code, r.body)
	}
}

// reply is a registry response read in full.
type reply struct {
	status int
	header http.Header
	body   []byte
}

// do sends one request to the server. hdr holds header names and values in turn.
func (s *server) do(t *testing.T, method, pathOrURL string, body []byte, hdr ...string) reply {
	t.Helper()
	u := pathOrURL
	if strings.HasPrefix(u, "/") {
		u = s.url(u)
	}
	req, err := http.NewRequest(method, u, bytes.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	for i := 0; i+1 < len(hdr); i += 2 {
		req.Header.Set(hdr[i], hdr[i+1])
	}
	r, err := roundTrip(req)
	if err != nil {
		t.Fatalf("%s %s: %v", method, u, err)
	}
	return r
}

// roundTrip sends req like a Go client (no Expect: 100-continue) and reads the reply.
func roundTrip(req *http.Request) (reply, error) {
	withAdmin(req)
	client := &http.Client{Timeout: time.Minute}
	resp, err := client.Do(req)
	if err != nil {
		return reply{}, err
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		return reply{}, fmt.Errorf("reading body: %w", err)
	}
	return reply{status: resp.StatusCode, header: resp.Header, body: b}, nil
}

// errorCodes returns the codes of an OCI error body, or nil if it is not one.
func (r reply) errorCodes() []string {
	var body struct {
		Errors []struct {
			Code string `json:"code"`
		} `json:"errors"`
	}
	if json.Unmarshal(r.body, &body) != nil {
		return nil
	}
	codes := make([]string, 0, len(body.Errors))
	for _, e := range body.Errors {
		codes = append(codes, e.Code)
	}
	return codes
}

// String shows the reply in test failure messages.
func (r reply) String() string {
	b := r.body
	if len(b) > 2048 {
		b = b[:2048]
	}
	return fmt.Sprintf("%d %s %q", r.status, http.StatusText(r.status), b)
}

// location resolves the Location header of r against the server's base URL.
func (s *server) location(t *testing.T, r reply) string {
	t.Helper()
	loc := r.header.Get("Location")
	if loc == "" {
		t.Fatalf("reply has no Location header: %v", r)
	}
	u, err := url.Parse(s.url("/"))
	if err != nil {
		t.Fatal(err)
	}
	ref, err := url.Parse(loc)
	if err != nil {
		t.Fatalf("bad Location %q: %v", loc, err)
	}
	return u.ResolveReference(ref).String()
}
