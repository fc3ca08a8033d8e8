package e2e

import (
	"bytes"
	"fmt"
	"io"
	"io/fs"
	"net/http"
	"os"
	"path/filepath"
	"testing"
	"time"
)

// TestUploads pushes blobs the ways real clients do: Docker streams a layer in
// one PATCH with chunked transfer encoding, others PUT it whole or in chunks.
func TestUploads(t *testing.T) {
	t.Parallel()
	s := startServer(t)
	t.Run("streamed PATCH, chunked encoding", func(t *testing.T) { testStreamedPatch(t, s) })
	t.Run("monolithic PUT", func(t *testing.T) { testMonolithicPut(t, s) })
	t.Run("PUT with the last chunk", func(t *testing.T) { testPutLastChunk(t, s) })
}

func testStreamedPatch(t *testing.T, s *server) {
	repo := "uploads/streamed"
	data := randomBytes(t, 5<<20)
	loc := s.startUpload(t, repo)
	// io.MultiReader hides the length, so the request goes out chunked.
	req, err := http.NewRequest("PATCH", loc, io.MultiReader(bytes.NewReader(data)))
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("Content-Type", "application/octet-stream")
	r, err := roundTrip(req)
	if err != nil {
		t.Fatalf("PATCH %d bytes with chunked encoding: %v", len(data), err)
	}
	if r.status != http.StatusAccepted {
		t.Fatalf("PATCH with chunked encoding: got %v, want 202", r)
	}
	if got, want := r.header.Get("Range"), fmt.Sprintf("0-%d", len(data)-1); got != want {
		t.Errorf("PATCH with chunked encoding: Range %q, want %q", got, want)
	}
	s.finishUpload(t, repo, s.location(t, r), nil, data)
}

func testMonolithicPut(t *testing.T, s *server) {
	repo := "uploads/monolithic"
	data := randomBytes(t, 3<<20)
	s.finishUpload(t, repo, s.startUpload(t, repo), data, data)
}

func testPutLastChunk(t *testing.T, s *server) {
	repo := "uploads/lastchunk"
	data := randomBytes(t, 2<<20)
	loc := s.patchChunk(t, s.startUpload(t, repo), data[:1<<20], 0)
	s.finishUpload(t, repo, loc, data[1<<20:], data)
}

// finishUpload closes the session at loc with a PUT carrying body and checks
// that the blob then reads back as want.
func (s *server) finishUpload(t *testing.T, repo, loc string, body, want []byte) {
	t.Helper()
	dig := sha256Digest(want)
	r := s.do(t, "PUT", withQuery(t, loc, "digest", dig), body,
		"Content-Type", "application/octet-stream")
	if r.status != http.StatusCreated {
		t.Fatalf("PUT to finish the upload: got %v, want 201", r)
	}
	if got := r.header.Get("Docker-Content-Digest"); got != dig {
		t.Errorf("PUT to finish the upload: Docker-Content-Digest %q, want %q", got, dig)
	}
	got := s.do(t, "GET", "/v2/"+repo+"/blobs/"+dig, nil)
	if got.status != http.StatusOK || !bytes.Equal(got.body, want) {
		t.Errorf("GET uploaded blob: status %d, %d bytes, equal=%v; want 200 and the %d bytes sent",
			got.status, len(got.body), bytes.Equal(got.body, want), len(want))
	}
}

// TestUploadSurvivesKill9 kills berth with SIGKILL between the chunks of an
// upload. Upload sessions live in metadata (DESIGN.md, contract 1), so after a
// restart on the same data directory the session goes on where it stopped, no
// partial blob is visible, and no stale copy of the partial bytes stays behind.
// An image pushed before the crash must still be there.
func TestUploadSurvivesKill9(t *testing.T) {
	t.Parallel()
	s := startServer(t)
	repo := "crash/upload"
	chunks := [][]byte{randomBytes(t, 1<<20), randomBytes(t, 1<<20), randomBytes(t, 1<<20)}
	full := bytes.Join(chunks, nil)
	partial := bytes.Join(chunks[:2], nil)

	img := newImage(t, platform{OS: "linux", Architecture: "amd64"})
	s.pushImage(t, repo, "before-crash", img)

	loc := s.startUpload(t, repo)
	loc = s.patchChunk(t, loc, chunks[0], 0)
	loc = s.patchChunk(t, loc, chunks[1], len(chunks[0]))
	s.kill9()
	s.restart()

	// what was acknowledged before the crash is still there
	r := s.do(t, "GET", "/v2/"+repo+"/manifests/before-crash", nil, "Accept", mtManifest)
	if r.status != http.StatusOK || !bytes.Equal(r.body, img.manifest) {
		t.Errorf("GET manifest pushed before kill -9: %v, want 200 and the manifest pushed", r)
	}
	if got := s.blobStatus(t, repo, img.layerDesc.Digest); got != http.StatusOK {
		t.Errorf("HEAD layer pushed before kill -9: %d, want 200", got)
	}

	for _, b := range [][]byte{full, partial, chunks[0]} {
		if got := s.blobStatus(t, repo, sha256Digest(b)); got != http.StatusNotFound {
			t.Errorf("HEAD blob of %d uploaded bytes after kill -9: %d, want 404", len(b), got)
		}
	}
	r = s.do(t, "GET", loc, nil)
	if r.status != http.StatusNoContent {
		t.Fatalf("GET upload status after kill -9 and restart: got %v, want 204 "+
			"(the session must survive: it lives in metadata)", r)
	}
	if got, want := r.header.Get("Range"), fmt.Sprintf("0-%d", len(partial)-1); got != want {
		t.Fatalf("upload Range after restart: %q, want %q", got, want)
	}
	loc = s.patchChunk(t, s.location(t, r), chunks[2], len(partial))
	s.finishUpload(t, repo, loc, nil, full)
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
