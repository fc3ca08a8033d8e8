package e2e

import (
	"bytes"
	"compress/gzip"
	"encoding/json"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
)

// TestCrane pushes, pulls, copies, lists, tags and deletes an image with crane
// and checks that every step sees the same digests and bytes.
func TestCrane(t *testing.T) {
	crane := tool(t, "crane")
	t.Parallel()
	s := startServer(t)
	work := t.TempDir()
	layerTar := tarFile(t, "berth/hello.bin", randomBytes(t, 64<<10))
	writeFile(t, filepath.Join(work, "layer.tar"), layerTar)
	src, dst := s.ref("crane/src"), s.ref("crane/dst")

	out := run(t, work, crane, "--insecure", "append", "--oci-empty-base",
		"-f", "layer.tar", "-t", src+":v1")
	pushed := digestOf(t, out)
	if got := craneDigest(t, work, crane, src+":v1"); got != pushed {
		t.Errorf("crane digest after append: %s, want %s", got, pushed)
	}
	checkCraneLayer(t, work, crane, src, layerTar)

	// pull into an OCI layout and push the layout back under another name
	run(t, work, crane, "--insecure", "pull", "--format", "oci", src+":v1", "pulled")
	if descs := readLayoutIndex(t, filepath.Join(work, "pulled")); len(descs) != 1 ||
		descs[0].Digest != pushed {
		t.Errorf("pulled layout lists %+v, want one manifest %s", descs, pushed)
	}
	run(t, work, crane, "--insecure", "push", "pulled", s.ref("crane/repushed:v1"))
	if got := craneDigest(t, work, crane, s.ref("crane/repushed:v1")); got != pushed {
		t.Errorf("digest after pull and push: %s, want %s", got, pushed)
	}

	run(t, work, crane, "--insecure", "copy", src+":v1", dst+":v1")
	if got := craneDigest(t, work, crane, dst+":v1"); got != pushed {
		t.Errorf("digest after copy: %s, want %s", got, pushed)
	}
	run(t, work, crane, "--insecure", "tag", src+":v1", "v2")
	tags := strings.Fields(run(t, work, crane, "--insecure", "ls", src))
	if !slices.Equal(tags, []string{"v1", "v2"}) {
		t.Errorf("crane ls %s: %v, want [v1 v2]", src, tags)
	}

	run(t, work, crane, "--insecure", "delete", dst+"@"+pushed)
	if _, _, err := runErr(t, work, crane, "--insecure", "digest", dst+":v1"); err == nil {
		t.Errorf("crane digest %s:v1 succeeded after the manifest was deleted", dst)
	}
	if got := craneDigest(t, work, crane, src+":v1"); got != pushed {
		t.Errorf("source digest after deleting the copy: %s, want %s", got, pushed)
	}
}

// craneDigest returns the digest `crane digest` reports for ref.
func craneDigest(t *testing.T, dir, crane, ref string) string {
	t.Helper()
	return strings.TrimSpace(run(t, dir, crane, "--insecure", "digest", ref))
}

// checkCraneLayer checks that the only layer of repo:v1 unpacks to layerTar
// and that the config blob matches the digest in the manifest.
func checkCraneLayer(t *testing.T, dir, crane, repo string, layerTar []byte) {
	t.Helper()
	var m manifest
	if err := json.Unmarshal([]byte(run(t, dir, crane, "--insecure", "manifest", repo+":v1")),
		&m); err != nil || len(m.Layers) != 1 || m.Config == nil {
		t.Fatalf("crane manifest: %v, %+v; want one layer and a config", err, m)
	}
	blob := run(t, dir, crane, "--insecure", "blob", repo+"@"+m.Layers[0].Digest)
	if sha256Digest([]byte(blob)) != m.Layers[0].Digest {
		t.Errorf("layer blob does not match its digest %s", m.Layers[0].Digest)
	}
	zr, err := gzip.NewReader(strings.NewReader(blob))
	if err != nil {
		t.Fatalf("layer blob is not gzip: %v", err)
	}
	if got, err := io.ReadAll(zr); err != nil || !bytes.Equal(got, layerTar) {
		t.Errorf("layer unpacks to %d bytes (err %v), want the %d-byte tar appended",
			len(got), err, len(layerTar))
	}
	config := run(t, dir, crane, "--insecure", "config", repo+":v1")
	if sha256Digest([]byte(config)) != m.Config.Digest {
		t.Errorf("config blob does not match its digest %s", m.Config.Digest)
	}
}

// digestOf returns the digest in the last "name@sha256:..." line of out.
func digestOf(t *testing.T, out string) string {
	t.Helper()
	lines := strings.Fields(out)
	for i := len(lines) - 1; i >= 0; i-- {
		if _, dig, ok := strings.Cut(lines[i], "@"); ok && strings.HasPrefix(dig, "sha256:") {
			return dig
		}
	}
	t.Fatalf("no digest reference in output %q", out)
	return ""
}

func writeFile(t *testing.T, path string, b []byte) {
	t.Helper()
	if err := os.WriteFile(path, b, 0o644); err != nil {
		t.Fatal(err)
	}
}

func readFile(t *testing.T, path string) []byte {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// Artifact types used by the oras test.
const (
	atArtifact = "application/vnd.berth.e2e.artifact"
	atSBOM     = "application/vnd.berth.e2e.sbom"
)

// TestOras pushes and pulls an artifact, attaches another to an image and finds
// it through the referrers API.
func TestOras(t *testing.T) {
	oras := tool(t, "oras")
	t.Parallel()
	s := startServer(t)
	work := t.TempDir()

	artifact := randomBytes(t, 1<<20)
	writeFile(t, filepath.Join(work, "artifact.bin"), artifact)
	run(t, work, oras, "push", "--plain-http", "--artifact-type", atArtifact,
		s.ref("oras/artifact:v1"), "artifact.bin:application/octet-stream")
	run(t, work, oras, "pull", "--plain-http", "-o", "out1", s.ref("oras/artifact:v1"))
	if got := readFile(t, filepath.Join(work, "out1", "artifact.bin")); !bytes.Equal(got, artifact) {
		t.Errorf("pulled artifact: %d bytes differing from the %d pushed", len(got), len(artifact))
	}

	img := newImage(t, platform{OS: "linux", Architecture: "amd64"})
	s.pushImage(t, "oras/image", "v1", img)
	sbom := mustJSON(t, map[string]string{"sbom": string(randomBytes(t, 32))})
	writeFile(t, filepath.Join(work, "sbom.json"), sbom)
	out := run(t, work, oras, "attach", "--plain-http", "--format", "json",
		"--distribution-spec", "v1.1-referrers-api", "--artifact-type", atSBOM,
		s.ref("oras/image:v1"), "sbom.json:application/json")
	attached := jsonDigest(t, out)

	checkDiscover(t, work, oras, s.ref("oras/image:v1"), attached)
	checkReferrersAPI(t, s, "oras/image", img.desc.Digest, attached)

	run(t, work, oras, "pull", "--plain-http", "-o", "out2", s.ref("oras/image@"+attached))
	if got := readFile(t, filepath.Join(work, "out2", "sbom.json")); !bytes.Equal(got, sbom) {
		t.Errorf("pulled attached artifact differs from the file attached")
	}
}

// jsonDigest returns the "digest" field of a JSON document printed by oras.
func jsonDigest(t *testing.T, out string) string {
	t.Helper()
	var v struct {
		Digest string `json:"digest"`
	}
	if err := json.Unmarshal([]byte(out), &v); err != nil || v.Digest == "" {
		t.Fatalf("no digest in oras output %q: %v", out, err)
	}
	return v.Digest
}

// checkDiscover checks that `oras discover` lists the attached artifact.
func checkDiscover(t *testing.T, dir, oras, subject, attached string) {
	t.Helper()
	out := run(t, dir, oras, "discover", "--plain-http", "--format", "json",
		"--distribution-spec", "v1.1-referrers-api", subject)
	var found struct {
		Referrers []descriptor `json:"referrers"` // oras 1.3
		Manifests []descriptor `json:"manifests"` // oras 1.2 and older
	}
	if err := json.Unmarshal([]byte(out), &found); err != nil {
		t.Fatalf("oras discover output %q: %v", out, err)
	}
	all := append(found.Referrers, found.Manifests...)
	if !hasReferrer(all, attached, atSBOM) {
		t.Errorf("oras discover %s lists %+v, want %s of type %s", subject, all, attached, atSBOM)
	}
}

// checkReferrersAPI asks the referrers API directly, with and without a filter.
func checkReferrersAPI(t *testing.T, s *server, repo, subject, attached string) {
	t.Helper()
	path := "/v2/" + repo + "/referrers/" + subject
	r := s.do(t, "GET", path, nil)
	if r.status != http.StatusOK {
		t.Fatalf("GET %s: %v, want 200", path, r)
	}
	if ct := r.header.Get("Content-Type"); ct != mtIndex {
		t.Errorf("GET %s: Content-Type %q, want %q", path, ct, mtIndex)
	}
	var idx manifest
	if err := json.Unmarshal(r.body, &idx); err != nil {
		t.Fatalf("GET %s: %v", path, err)
	}
	if !hasReferrer(idx.Manifests, attached, atSBOM) {
		t.Errorf("GET %s lists %+v, want %s of type %s", path, idx.Manifests, attached, atSBOM)
	}

	r = s.do(t, "GET", path+"?artifactType=application/vnd.berth.e2e.other", nil)
	if err := json.Unmarshal(r.body, &idx); r.status != http.StatusOK || err != nil {
		t.Fatalf("GET %s?artifactType=...: %v", path, r)
	}
	filtered := strings.Contains(r.header.Get("OCI-Filters-Applied"), "artifactType")
	if filtered && len(idx.Manifests) != 0 {
		t.Errorf("referrers filtered by another artifactType list %+v, want none", idx.Manifests)
	}
}

func hasReferrer(descs []descriptor, digest, artifactType string) bool {
	return slices.ContainsFunc(descs, func(d descriptor) bool {
		return d.Digest == digest && d.ArtifactType == artifactType
	})
}

// TestSkopeoMultiPlatform copies a two-platform image index with skopeo from an
// OCI layout to berth and back, and checks that no digest changed on the way.
func TestSkopeoMultiPlatform(t *testing.T) {
	skopeo := debianTool(t, "skopeo", "skopeo")
	t.Parallel()
	s := startServer(t)
	work := t.TempDir()
	src := newLayout(t, filepath.Join(work, "src"))
	amd64 := newImage(t, platform{OS: "linux", Architecture: "amd64"})
	arm64 := newImage(t, platform{OS: "linux", Architecture: "arm64"})
	index, indexDesc := src.addIndex(amd64, arm64)
	src.tag(indexDesc, "v1")
	remote := "docker://" + s.ref("skopeo/multi:v1")

	run(t, work, skopeo, "--insecure-policy", "copy", "--all", "--preserve-digests",
		"--dest-tls-verify=false", "oci:src:v1", remote)
	raw := run(t, work, skopeo, "inspect", "--raw", "--tls-verify=false", remote)
	if raw != string(index) {
		t.Errorf("index served by berth differs from the index pushed:\n%s\nwant\n%s", raw, index)
	}
	for _, img := range []image{amd64, arm64} {
		if got := s.manifestStatus(t, "skopeo/multi", img.desc.Digest); got != http.StatusOK {
			t.Errorf("GET child manifest %s (%s): %d, want 200",
				img.desc.Digest, img.desc.Platform.Architecture, got)
		}
	}

	run(t, work, skopeo, "--insecure-policy", "copy", "--all", "--preserve-digests",
		"--src-tls-verify=false", remote, "oci:dst:v1")
	descs := readLayoutIndex(t, filepath.Join(work, "dst"))
	if len(descs) != 1 || descs[0].Digest != indexDesc.Digest {
		t.Errorf("copied-back layout lists %+v, want the index %s", descs, indexDesc.Digest)
	}
	for _, img := range []image{amd64, arm64} {
		blob := filepath.Join(work, "dst", "blobs", "sha256", img.layerDesc.Digest[7:])
		if got := readFile(t, blob); !bytes.Equal(got, img.layer) {
			t.Errorf("copied-back %s layer differs", img.desc.Platform.Architecture)
		}
	}
}
