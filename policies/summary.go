package policies

import (
	"encoding/json"

	ocispec "github.com/opencontainers/image-spec/specs-go/v1"

	"berth.dev/berth/sdk"
)

// Summarize extracts what plugins see of a manifest without any capability: the
// config and layer descriptors, an index's entries and platforms, the total size,
// annotations and subject. The registry has validated the manifest before.
func Summarize(manifest []byte) sdk.ManifestSummary {
	var m struct {
		ArtifactType string               `json:"artifactType"`
		Config       *ocispec.Descriptor  `json:"config"`
		Layers       []ocispec.Descriptor `json:"layers"`
		Manifests    []ocispec.Descriptor `json:"manifests"`
		Subject      *ocispec.Descriptor  `json:"subject"`
		Annotations  map[string]string    `json:"annotations"`
	}
	var s sdk.ManifestSummary
	if json.Unmarshal(manifest, &m) != nil {
		return s
	}
	s.ArtifactType, s.Annotations = m.ArtifactType, m.Annotations
	if m.Subject != nil {
		s.Subject = m.Subject.Digest.String()
	}
	if m.Config != nil {
		c := descriptor(*m.Config)
		s.Config, s.TotalSize = &c, m.Config.Size
	}
	for _, l := range m.Layers {
		s.Layers = append(s.Layers, descriptor(l))
		s.TotalSize += l.Size
	}
	for _, d := range m.Manifests {
		sd := descriptor(d)
		s.Manifests = append(s.Manifests, sd)
		if sd.Platform != nil {
			s.Platforms = append(s.Platforms, *sd.Platform)
		}
	}
	return s
}

func descriptor(d ocispec.Descriptor) sdk.Descriptor {
	out := sdk.Descriptor{MediaType: d.MediaType, Digest: d.Digest.String(), Size: d.Size}
	if p := d.Platform; p != nil {
		out.Platform = &sdk.Platform{OS: p.OS, Architecture: p.Architecture, Variant: p.Variant}
	}
	return out
}
