package main

import (
	"context"
	"encoding/json"
	"errors"
	"io"

	"github.com/opencontainers/go-digest"
	"github.com/opencontainers/image-spec/specs-go"
	ocispec "github.com/opencontainers/image-spec/specs-go/v1"

	"berth.dev/berth/plugins"
	"berth.dev/berth/registry"
)

// maxSubjectDoc bounds a document read for a plugin (manifest or config blob).
const maxSubjectDoc = 4 << 20

// subject serves a plugin the documents of one manifest, as its binding grants.
type subject struct {
	a        *admission
	repo     string
	digest   digest.Digest
	manifest []byte // known for a push; read from storage otherwise
}

// Manifest returns the manifest's bytes.
func (s *subject) Manifest(ctx context.Context) ([]byte, error) {
	if s.manifest != nil {
		return s.manifest, nil
	}
	if s.digest == "" {
		return nil, plugins.ErrNoDocument
	}
	rc, err := s.a.blobs.Open(ctx, s.digest, 0)
	if err != nil {
		return nil, err
	}
	defer rc.Close()
	b, err := io.ReadAll(io.LimitReader(rc, maxSubjectDoc))
	if err == nil {
		s.manifest = b
	}
	return b, err
}

// Config returns the manifest's config blob.
func (s *subject) Config(ctx context.Context) ([]byte, error) {
	m, err := s.Manifest(ctx)
	if err != nil {
		return nil, err
	}
	var man ocispec.Manifest
	if json.Unmarshal(m, &man) != nil || man.Config.Digest == "" {
		return nil, plugins.ErrNoDocument
	}
	rc, _, err := s.a.reg.OpenBlob(ctx, s.repo, man.Config.Digest, 0)
	if errors.Is(err, registry.ErrBlobUnknown) {
		return nil, plugins.ErrNoDocument
	}
	if err != nil {
		return nil, err
	}
	defer rc.Close()
	return io.ReadAll(io.LimitReader(rc, maxSubjectDoc))
}

// Referrers returns the OCI image index of the manifest's referrers.
func (s *subject) Referrers(ctx context.Context) ([]byte, error) {
	refs, err := s.a.reg.Referrers(ctx, s.repo, s.digest, "")
	if err != nil {
		return nil, err
	}
	return json.Marshal(ocispec.Index{Versioned: specs.Versioned{SchemaVersion: 2},
		MediaType: ocispec.MediaTypeImageIndex, Manifests: refs})
}
