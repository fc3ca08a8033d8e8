package registry

import (
	"errors"
	"slices"
	"strings"
	"testing"

	ocispec "github.com/opencontainers/image-spec/specs-go/v1"
)

// Manifest bodies shared by the parse tests and the fuzz seeds.
const (
	digestX = "sha256:2d711642b726b04401627ca9fbac32f5c8530fb1903cc4db02258717921a4881"
	descX   = `{"mediaType":"application/octet-stream","digest":"` + digestX + `","size":1}`

	ociImage = `{"schemaVersion":2,"mediaType":"` + ocispec.MediaTypeImageManifest + `",` +
		`"config":` + descX + `,"layers":[` + descX + `]}`
	ociBare  = `{"schemaVersion":2,"config":` + descX + `,"layers":[]}`
	ociIndex = `{"schemaVersion":2,"mediaType":"` + ocispec.MediaTypeImageIndex + `",` +
		`"manifests":[` + descX + `]}`
	dockerImage = `{"schemaVersion":2,"mediaType":"` + MediaTypeDockerManifest + `",` +
		`"config":` + descX + `,"layers":[` + descX + `]}`
	dockerList = `{"schemaVersion":2,"mediaType":"` + MediaTypeDockerManifestList + `",` +
		`"manifests":[` + descX + `]}`
	artifact = `{"schemaVersion":2,"mediaType":"` + ocispec.MediaTypeImageManifest + `",` +
		`"artifactType":"application/vnd.example","config":` + descX + `,"layers":[],` +
		`"subject":` + descX + `}`
)

// v2 returns a schema 2 manifest body with the given fields.
func v2(fields string) string { return `{"schemaVersion":2,` + fields + `}` }

func TestParseManifest(t *testing.T) {
	const (
		oci    = ocispec.MediaTypeImageManifest
		index  = ocispec.MediaTypeImageIndex
		badDsc = `{"mediaType":"x","digest":"sha256:abc","size":1}`
		negDsc = `{"mediaType":"x","digest":"` + digestX + `","size":-1}`
		cfg    = `"config":` + descX
	)
	tests := []struct {
		name        string
		contentType string
		body        string
		wantType    string
		wantErr     error
	}{
		{"oci image", oci, ociImage, oci, nil},
		{"no content type", "", ociImage, oci, nil},
		{"content type with parameters", oci + "; charset=utf-8", ociImage, oci, nil},
		{"media type from content type", oci, ociBare, oci, nil},
		{"oci index", index, ociIndex, index, nil},
		{"docker schema2", MediaTypeDockerManifest, dockerImage, MediaTypeDockerManifest, nil},
		{"docker list", "", dockerList, MediaTypeDockerManifestList, nil},
		{"artifact with subject", oci, artifact, oci, nil},
		{"not json", oci, "{", "", ErrManifestInvalid},
		{"json array", oci, "[]", "", ErrManifestInvalid},
		{"schema 1", oci, `{"schemaVersion":1,` + cfg + `}`, "", ErrManifestInvalid},
		{"no schema", oci, `{` + cfg + `}`, "", ErrManifestInvalid},
		{"schema as string", oci, `{"schemaVersion":"2",` + cfg + `}`, "", ErrManifestInvalid},
		{"content type mismatch", index, ociImage, "", ErrManifestInvalid},
		{"docker type on oci body", MediaTypeDockerManifest, ociImage, "", ErrManifestInvalid},
		{"no media type at all", "", ociBare, "", ErrManifestInvalid},
		{"unknown media type", "application/json", ociBare, "", ErrManifestInvalid},
		{"unknown type in body", "", v2(`"mediaType":"a/b",` + cfg), "", ErrManifestInvalid},
		{"docker schema1", "application/vnd.docker.distribution.manifest.v1+prettyjws",
			ociBare, "", ErrManifestInvalid},
		{"no config", oci, v2(`"layers":[]`), "", ErrManifestInvalid},
		{"bad config digest", oci, v2(`"config":` + badDsc), "", ErrManifestInvalid},
		{"bad layer digest", oci, v2(cfg + `,"layers":[` + badDsc + `]`), "", ErrManifestInvalid},
		{"negative size", oci, v2(`"config":` + negDsc), "", ErrManifestInvalid},
		{"bad subject digest", oci, v2(cfg + `,"subject":` + badDsc), "", ErrManifestInvalid},
		{"bad child digest", index, v2(`"manifests":[` + badDsc + `]`), "", ErrManifestInvalid},
		{"index with layers", index, v2(`"layers":[` + descX + `]`), "", ErrManifestInvalid},
		{"index with config", index, v2(`"manifests":[],` + cfg), "", ErrManifestInvalid},
		{"too large", oci, ociImage + strings.Repeat(" ", MaxManifestSize), "",
			ErrManifestTooLarge},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			m, err := parseManifest(tt.contentType, []byte(tt.body))
			if tt.wantErr != nil {
				if !errors.Is(err, tt.wantErr) {
					t.Fatalf("parseManifest = %v, want %v", err, tt.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatalf("parseManifest: %v", err)
			}
			if m.MediaType != tt.wantType {
				t.Fatalf("media type = %q, want %q", m.MediaType, tt.wantType)
			}
		})
	}
}

func TestManifestLimitIsInclusive(t *testing.T) {
	body := ociImage + strings.Repeat(" ", MaxManifestSize-len(ociImage))
	if _, err := parseManifest("", []byte(body)); err != nil {
		t.Fatalf("manifest of exactly MaxManifestSize bytes: %v", err)
	}
}

func TestArtifactTypeAndReferencedBlobs(t *testing.T) {
	const nondist = `{"mediaType":"application/vnd.oci.image.layer.nondistributable.v1.tar+gzip",` +
		`"digest":"` + digestX + `","size":1}`
	tests := []struct {
		name         string
		body         string
		artifactType string
		blobs        int
	}{
		{"image", ociImage, "application/octet-stream", 2},
		{"artifact", artifact, "application/vnd.example", 1},
		{"index", ociIndex, "", 0},
		{"non-distributable layer", v2(`"mediaType":"` + ocispec.MediaTypeImageManifest +
			`","config":` + descX + `,"layers":[` + nondist + `]`), "application/octet-stream", 1},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			m, err := parseManifest("", []byte(tt.body))
			if err != nil {
				t.Fatal(err)
			}
			if got := m.artifactType(); got != tt.artifactType {
				t.Errorf("artifactType = %q, want %q", got, tt.artifactType)
			}
			if got := len(m.referencedBlobs()); got != tt.blobs {
				t.Errorf("referencedBlobs = %d, want %d", got, tt.blobs)
			}
		})
	}
}

// TestParseManifestAmbiguous covers the manifest confusion of CVE-2021-41190: a body
// that an image-manifest reader and an index reader see differently must be refused.
func TestParseManifestAmbiguous(t *testing.T) {
	body := `{"schemaVersion":2,"mediaType":"application/vnd.oci.image.manifest.v1+json",` +
		`"config":` + descX + `,"layers":[],"manifests":[` + descX + `]}`
	if _, err := parseManifest("", []byte(body)); !errors.Is(err, ErrManifestInvalid) {
		t.Fatalf("image manifest with manifests: %v, want ErrManifestInvalid", err)
	}
}

func FuzzParseManifest(f *testing.F) {
	for _, body := range []string{
		ociImage, ociBare, ociIndex, dockerImage, dockerList, artifact, "", "{}", "null",
		`{"schemaVersion":2}`, `{"schemaVersion":2,"config":{}}`,
		`{"schemaVersion":2,"manifests":null,"config":null}`,
	} {
		f.Add("", []byte(body))
		f.Add(ocispec.MediaTypeImageManifest, []byte(body))
		f.Add(ocispec.MediaTypeImageIndex+"; charset=utf-8", []byte(body))
	}
	f.Fuzz(func(t *testing.T, contentType string, body []byte) {
		m, err := parseManifest(contentType, body)
		if err != nil {
			if !errors.Is(err, ErrManifestInvalid) && !errors.Is(err, ErrManifestTooLarge) {
				t.Fatalf("error %v is neither ErrManifestInvalid nor ErrManifestTooLarge", err)
			}
			return
		}
		checkParsed(t, contentType, body, m)
	})
}

// checkParsed asserts what an accepted manifest guarantees to the rest of the core.
func checkParsed(t *testing.T, contentType string, body []byte, m *manifestJSON) {
	t.Helper()
	if len(body) > MaxManifestSize {
		t.Fatalf("accepted %d bytes", len(body))
	}
	if m.SchemaVersion != 2 {
		t.Fatalf("accepted schemaVersion %d", m.SchemaVersion)
	}
	if !slices.Contains(ManifestMediaTypes, m.MediaType) {
		t.Fatalf("accepted media type %q", m.MediaType)
	}
	if ct := mediaTypeOnly(contentType); ct != "" && ct != m.MediaType {
		t.Fatalf("Content-Type %q, accepted as %q", contentType, m.MediaType)
	}
	descs := slices.Clone(m.Layers)
	descs = append(descs, m.Manifests...)
	if m.Config != nil {
		descs = append(descs, *m.Config)
	}
	if m.Subject != nil {
		descs = append(descs, *m.Subject)
	}
	for _, d := range descs {
		if err := d.Digest.Validate(); err != nil || d.Size < 0 {
			t.Fatalf("accepted descriptor %+v: %v", d, err)
		}
	}
	if m.isIndex() {
		if m.Config != nil || len(m.Layers) > 0 || len(m.referencedBlobs()) > 0 {
			t.Fatalf("accepted an index with config or layers")
		}
		return
	}
	if m.Config == nil {
		t.Fatal("accepted an image manifest without config")
	}
	if blobs := m.referencedBlobs(); len(blobs) == 0 || blobs[0].Digest != m.Config.Digest {
		t.Fatalf("referencedBlobs = %v, want the config first", blobs)
	}
}
