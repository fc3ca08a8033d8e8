package main

import (
	"bytes"
	"context"
	"encoding/json"
	"io"

	"github.com/opencontainers/go-digest"
	specs "github.com/opencontainers/image-spec/specs-go"
	ocispec "github.com/opencontainers/image-spec/specs-go/v1"
)

// smallLayerSize is the size of the one layer of the image used for manifest GETs.
const smallLayerSize = 4 << 10

// image is a small OCI image held in memory: a config, one layer and a manifest.
type image struct {
	config, layer, manifest []byte
	manifestDigest          digest.Digest
}

func newImage() (*image, error) {
	layer, err := io.ReadAll(newPatternReader(7, smallLayerSize))
	if err != nil {
		return nil, err
	}
	layerDigest := digest.FromBytes(layer)
	config, err := json.Marshal(ocispec.Image{
		Platform: ocispec.Platform{Architecture: "amd64", OS: "linux"},
		RootFS:   ocispec.RootFS{Type: "layers", DiffIDs: []digest.Digest{layerDigest}},
	})
	if err != nil {
		return nil, err
	}
	manifest, err := json.Marshal(ocispec.Manifest{
		Versioned: specs.Versioned{SchemaVersion: 2},
		MediaType: ocispec.MediaTypeImageManifest,
		Config:    descriptor(ocispec.MediaTypeImageConfig, config),
		Layers:    []ocispec.Descriptor{descriptor(ocispec.MediaTypeImageLayer, layer)},
	})
	if err != nil {
		return nil, err
	}
	return &image{config, layer, manifest, digest.FromBytes(manifest)}, nil
}

func descriptor(mediaType string, content []byte) ocispec.Descriptor {
	return ocispec.Descriptor{
		MediaType: mediaType,
		Digest:    digest.FromBytes(content),
		Size:      int64(len(content)),
	}
}

// push uploads the image's blobs and then its manifest under tag.
func (img *image) push(ctx context.Context, c *client, repo, tag string) error {
	for _, blob := range [][]byte{img.config, img.layer} {
		r := bytes.NewReader(blob)
		err := c.pushBlob(ctx, repo, r, int64(len(blob)), digest.FromBytes(blob), "put")
		if err != nil {
			return err
		}
	}
	return c.putManifest(ctx, repo, tag, ocispec.MediaTypeImageManifest, img.manifest)
}
