package e2e

import (
	"archive/tar"
	"bytes"
	"compress/gzip"
	"crypto/rand"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"os"
	"path/filepath"
	"testing"
)

// Media types written by hand on purpose: the tests check Berth's parsing of
// what clients send, so they do not share Berth's own definitions.
const (
	mtIndex    = "application/vnd.oci.image.index.v1+json"
	mtManifest = "application/vnd.oci.image.manifest.v1+json"
	mtConfig   = "application/vnd.oci.image.config.v1+json"
	mtLayerGz  = "application/vnd.oci.image.layer.v1.tar+gzip"
	mtLayer    = "application/vnd.oci.image.layer.v1.tar"
)

// descriptor is an OCI content descriptor.
type descriptor struct {
	MediaType    string            `json:"mediaType"`
	Digest       string            `json:"digest"`
	Size         int64             `json:"size"`
	ArtifactType string            `json:"artifactType,omitempty"`
	Platform     *platform         `json:"platform,omitempty"`
	Annotations  map[string]string `json:"annotations,omitempty"`
}

type platform struct {
	OS           string `json:"os"`
	Architecture string `json:"architecture"`
}

// manifest is an OCI image manifest or image index.
type manifest struct {
	SchemaVersion int               `json:"schemaVersion"`
	MediaType     string            `json:"mediaType"`
	ArtifactType  string            `json:"artifactType,omitempty"`
	Config        *descriptor       `json:"config,omitempty"`
	Layers        []descriptor      `json:"layers,omitempty"`
	Manifests     []descriptor      `json:"manifests,omitempty"`
	Subject       *descriptor       `json:"subject,omitempty"`
	Annotations   map[string]string `json:"annotations,omitempty"`
}

// sha256Digest returns the OCI digest string of b.
func sha256Digest(b []byte) string {
	sum := sha256.Sum256(b)
	return "sha256:" + hex.EncodeToString(sum[:])
}

// randomBytes returns n bytes that no other test or run produces.
func randomBytes(t *testing.T, n int) []byte {
	t.Helper()
	b := make([]byte, n)
	if _, err := rand.Read(b); err != nil {
		t.Fatal(err)
	}
	return b
}

// tarFile returns an uncompressed tar archive holding one regular file.
func tarFile(t *testing.T, name string, content []byte) []byte {
	t.Helper()
	var buf bytes.Buffer
	tw := tar.NewWriter(&buf)
	hdr := &tar.Header{Name: name, Mode: 0o644, Size: int64(len(content)), Typeflag: tar.TypeReg}
	if err := tw.WriteHeader(hdr); err != nil {
		t.Fatal(err)
	}
	if _, err := tw.Write(content); err != nil {
		t.Fatal(err)
	}
	if err := tw.Close(); err != nil {
		t.Fatal(err)
	}
	return buf.Bytes()
}

func gzipBytes(t *testing.T, b []byte) []byte {
	t.Helper()
	var buf bytes.Buffer
	zw := gzip.NewWriter(&buf)
	if _, err := zw.Write(b); err != nil {
		t.Fatal(err)
	}
	if err := zw.Close(); err != nil {
		t.Fatal(err)
	}
	return buf.Bytes()
}

func mustJSON(t *testing.T, v any) []byte {
	t.Helper()
	b, err := json.Marshal(v)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// image is the content of a small single-platform image.
type image struct {
	config, layer, manifest []byte
	configDesc, layerDesc   descriptor
	desc                    descriptor // of the manifest
}

// newImage returns an image for os/arch with one gzip layer holding one random file.
func newImage(t *testing.T, p platform) image {
	t.Helper()
	layerTar := tarFile(t, "berth-e2e/"+p.OS+"-"+p.Architecture, randomBytes(t, 512))
	var img image
	img.layer = gzipBytes(t, layerTar)
	img.layerDesc = descriptor{MediaType: mtLayerGz, Digest: sha256Digest(img.layer),
		Size: int64(len(img.layer))}
	img.config = mustJSON(t, map[string]any{
		"architecture": p.Architecture,
		"os":           p.OS,
		"config":       map[string]any{},
		"rootfs": map[string]any{
			"type": "layers", "diff_ids": []string{sha256Digest(layerTar)},
		},
	})
	img.configDesc = descriptor{MediaType: mtConfig, Digest: sha256Digest(img.config),
		Size: int64(len(img.config))}
	img.manifest = mustJSON(t, manifest{SchemaVersion: 2, MediaType: mtManifest,
		Config: &img.configDesc, Layers: []descriptor{img.layerDesc}})
	img.desc = descriptor{MediaType: mtManifest, Digest: sha256Digest(img.manifest),
		Size: int64(len(img.manifest)), Platform: &p}
	return img
}

// layout is an OCI image layout directory written by hand.
type layout struct {
	t   *testing.T
	dir string
}

// newLayout creates an empty OCI image layout in dir.
func newLayout(t *testing.T, dir string) *layout {
	t.Helper()
	l := &layout{t: t, dir: dir}
	if err := os.MkdirAll(filepath.Join(dir, "blobs", "sha256"), 0o755); err != nil {
		t.Fatal(err)
	}
	l.write("oci-layout", []byte(`{"imageLayoutVersion":"1.0.0"}`))
	return l
}

func (l *layout) write(name string, b []byte) {
	l.t.Helper()
	if err := os.WriteFile(filepath.Join(l.dir, name), b, 0o644); err != nil {
		l.t.Fatal(err)
	}
}

// blob stores b under its digest.
func (l *layout) blob(b []byte) {
	l.t.Helper()
	hexDigest := sha256Digest(b)[len("sha256:"):]
	l.write(filepath.Join("blobs", "sha256", hexDigest), b)
}

// addImage stores every blob of img.
func (l *layout) addImage(img image) {
	l.blob(img.config)
	l.blob(img.layer)
	l.blob(img.manifest)
}

// addIndex stores an image index of imgs and returns it and its descriptor.
func (l *layout) addIndex(imgs ...image) ([]byte, descriptor) {
	l.t.Helper()
	idx := manifest{SchemaVersion: 2, MediaType: mtIndex}
	for _, img := range imgs {
		l.addImage(img)
		idx.Manifests = append(idx.Manifests, img.desc)
	}
	b := mustJSON(l.t, idx)
	l.blob(b)
	return b, descriptor{MediaType: mtIndex, Digest: sha256Digest(b), Size: int64(len(b))}
}

// tag writes index.json naming desc as tag.
func (l *layout) tag(desc descriptor, tag string) {
	desc.Annotations = map[string]string{"org.opencontainers.image.ref.name": tag}
	desc.Platform = nil
	top := manifest{SchemaVersion: 2, MediaType: mtIndex, Manifests: []descriptor{desc}}
	l.write("index.json", mustJSON(l.t, top))
}

// readLayoutIndex returns the descriptors listed in dir/index.json.
func readLayoutIndex(t *testing.T, dir string) []descriptor {
	t.Helper()
	b, err := os.ReadFile(filepath.Join(dir, "index.json"))
	if err != nil {
		t.Fatal(err)
	}
	var idx manifest
	if err := json.Unmarshal(b, &idx); err != nil {
		t.Fatalf("%s/index.json: %v", dir, err)
	}
	return idx.Manifests
}
