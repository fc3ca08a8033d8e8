package registry

import (
	"encoding/json"
	"fmt"
	"strings"

	"github.com/opencontainers/go-digest"
	ocispec "github.com/opencontainers/image-spec/specs-go/v1"
)

// MaxManifestSize bounds a manifest body (4 MiB, as the distribution spec suggests).
const MaxManifestSize = 4 << 20

// Docker's manifest media types, which image-spec does not define.
const (
	MediaTypeDockerManifest     = "application/vnd.docker.distribution.manifest.v2+json"
	MediaTypeDockerManifestList = "application/vnd.docker.distribution.manifest.list.v2+json"
)

// ManifestMediaTypes lists the manifest media types Berth accepts, in order of preference.
var ManifestMediaTypes = []string{
	ocispec.MediaTypeImageManifest,
	ocispec.MediaTypeImageIndex,
	MediaTypeDockerManifest,
	MediaTypeDockerManifestList,
}

// manifestJSON is the union of the fields of every accepted manifest type.
type manifestJSON struct {
	SchemaVersion int                  `json:"schemaVersion"`
	MediaType     string               `json:"mediaType"`
	ArtifactType  string               `json:"artifactType"`
	Config        *ocispec.Descriptor  `json:"config"`
	Layers        []ocispec.Descriptor `json:"layers"`
	Manifests     []ocispec.Descriptor `json:"manifests"`
	Subject       *ocispec.Descriptor  `json:"subject"`
	Annotations   map[string]string    `json:"annotations"`
}

// isIndex reports whether the manifest lists other manifests.
func (m *manifestJSON) isIndex() bool {
	return m.MediaType == ocispec.MediaTypeImageIndex || m.MediaType == MediaTypeDockerManifestList
}

// parseManifest decodes and checks a manifest body. contentType is the request's
// Content-Type; it must agree with the body's mediaType when both are present.
func parseManifest(contentType string, body []byte) (*manifestJSON, error) {
	if len(body) > MaxManifestSize {
		return nil, fmt.Errorf("%w: %d bytes, limit %d", ErrManifestTooLarge, len(body), MaxManifestSize)
	}
	var m manifestJSON
	if err := json.Unmarshal(body, &m); err != nil {
		return nil, fmt.Errorf("%w: not valid JSON: %v", ErrManifestInvalid, err)
	}
	if m.SchemaVersion != 2 {
		return nil, fmt.Errorf("%w: schemaVersion must be 2", ErrManifestInvalid)
	}
	if err := m.resolveMediaType(mediaTypeOnly(contentType)); err != nil {
		return nil, err
	}
	if err := m.checkDescriptors(); err != nil {
		return nil, err
	}
	return &m, nil
}

// mediaTypeOnly drops parameters such as "; charset=utf-8".
func mediaTypeOnly(ct string) string {
	if i := strings.IndexByte(ct, ';'); i >= 0 {
		ct = ct[:i]
	}
	return strings.TrimSpace(ct)
}

func (m *manifestJSON) resolveMediaType(contentType string) error {
	switch {
	case m.MediaType != "" && contentType != "" && m.MediaType != contentType:
		return fmt.Errorf("%w: Content-Type %q does not match mediaType %q",
			ErrManifestInvalid, clip(contentType), clip(m.MediaType))
	case m.MediaType == "":
		m.MediaType = contentType
	}
	for _, t := range ManifestMediaTypes {
		if m.MediaType == t {
			return nil
		}
	}
	return fmt.Errorf("%w: unsupported manifest media type %q", ErrManifestInvalid, clip(m.MediaType))
}

func (m *manifestJSON) checkDescriptors() error {
	if m.Subject != nil {
		if err := checkDescriptor("subject", *m.Subject); err != nil {
			return err
		}
	}
	if m.isIndex() {
		if m.Config != nil || len(m.Layers) > 0 {
			return fmt.Errorf("%w: an index has no config or layers", ErrManifestInvalid)
		}
		return checkAll("manifests", m.Manifests)
	}
	if len(m.Manifests) > 0 {
		// One body must not read as an image to one client and an index to another.
		return fmt.Errorf("%w: an image manifest has no manifests list", ErrManifestInvalid)
	}
	if m.Config == nil {
		return fmt.Errorf("%w: config is required", ErrManifestInvalid)
	}
	if err := checkDescriptor("config", *m.Config); err != nil {
		return err
	}
	return checkAll("layers", m.Layers)
}

func checkAll(field string, ds []ocispec.Descriptor) error {
	for i, d := range ds {
		if err := checkDescriptor(fmt.Sprintf("%s[%d]", field, i), d); err != nil {
			return err
		}
	}
	return nil
}

func checkDescriptor(field string, d ocispec.Descriptor) error {
	if err := d.Digest.Validate(); err != nil {
		return fmt.Errorf("%w: %s: %v", ErrManifestInvalid, field, err)
	}
	if d.Size < 0 {
		return fmt.Errorf("%w: %s: negative size", ErrManifestInvalid, field)
	}
	return nil
}

// nonDistributable reports whether a layer may be absent from the registry.
func nonDistributable(mediaType string) bool {
	return strings.Contains(mediaType, "nondistributable") ||
		strings.Contains(mediaType, "foreign.diff")
}

// artifactType is the value the referrers API reports for this manifest.
func (m *manifestJSON) artifactType() string {
	if m.ArtifactType != "" || m.isIndex() || m.Config == nil {
		return m.ArtifactType
	}
	return m.Config.MediaType
}

// referencedBlobs returns the blobs that must be present in the repository.
func (m *manifestJSON) referencedBlobs() []ocispec.Descriptor {
	if m.isIndex() {
		return nil
	}
	out := []ocispec.Descriptor{*m.Config}
	for _, l := range m.Layers {
		if !nonDistributable(l.MediaType) {
			out = append(out, l)
		}
	}
	return out
}

// subjectDigest returns the subject's digest, or "".
func (m *manifestJSON) subjectDigest() digest.Digest {
	if m.Subject == nil {
		return ""
	}
	return m.Subject.Digest
}
