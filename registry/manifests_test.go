package registry

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"slices"
	"testing"

	"github.com/opencontainers/go-digest"
	ocispec "github.com/opencontainers/image-spec/specs-go/v1"
)

func TestPutManifestValidation(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	r := newRegistry(t)
	repo := repoName(t)
	im := pushedImage(t, r, repo, "base")
	base := putManifest(t, r, repo, "base", im.json(t))
	elsewhere := repoName(t, "elsewhere")
	foreign := pushedImage(t, r, elsewhere, "foreign")
	foreignManifest := putManifest(t, r, elsewhere, "x", foreign.json(t))

	absent := ocispec.Descriptor{
		MediaType: ocispec.MediaTypeImageLayerGzip, Digest: digest.FromString("absent"), Size: 6,
	}
	withLayers := func(layers ...ocispec.Descriptor) []byte {
		return image{config: im.config, layers: layers}.json(t)
	}
	index := func(children ...ocispec.Descriptor) []byte {
		return mustJSON(t, ocispec.Index{
			Versioned: specsV2, MediaType: ocispec.MediaTypeImageIndex, Manifests: children,
		})
	}
	child := func(m Manifest) ocispec.Descriptor {
		return ocispec.Descriptor{MediaType: m.MediaType, Digest: m.Digest, Size: m.Size}
	}
	nondist := absent
	nondist.MediaType = "application/vnd.oci.image.layer.nondistributable.v1.tar+gzip"
	wrongSize := im.layers[0]
	wrongSize.Size++
	docker := image{mediaType: MediaTypeDockerManifest, config: im.config, layers: im.layers}
	docker.config.MediaType = "application/vnd.docker.container.image.v1+json"
	docker.layers[0].MediaType = "application/vnd.docker.image.rootfs.diff.tar.gzip"
	// unique returns a valid manifest that no other case pushes.
	unique := func(name string) []byte {
		return image{config: im.config, annotations: map[string]string{"case": name}}.json(t)
	}
	huge := append(withLayers(im.layers...), bytes.Repeat([]byte(" "), MaxManifestSize)...)

	tests := []struct {
		name        string
		contentType string // "" means the body's own media type
		body        []byte
		ref         string // "" means a tag named after the case
		also        []string
		wantErr     error
	}{
		{"image", "", withLayers(im.layers...), "", nil, nil},
		{"no layers", "", withLayers(), "", nil, nil},
		{"docker schema2", "", docker.json(t), "", nil, nil},
		{"absent non-distributable layer", "", withLayers(im.layers[0], nondist), "", nil, nil},
		{"index of a present manifest", "", index(child(base)), "", nil, nil},
		{"push by digest with tags", "", withLayers(im.layers[0], im.layers[0]),
			"digest", []string{"also-1", "also-2"}, nil},
		{"missing config", "", image{config: absent}.json(t), "", nil, ErrManifestBlobUnknown},
		{"missing layer", "", withLayers(im.layers[0], absent), "", nil, ErrManifestBlobUnknown},
		{"blob of another repository", "", foreign.json(t), "", nil, ErrManifestBlobUnknown},
		{"layer size mismatch", "", withLayers(wrongSize), "", nil, ErrManifestInvalid},
		{"missing child", "", index(child(base), absent), "", nil, ErrManifestBlobUnknown},
		{"child of another repository", "", index(child(foreignManifest)), "", nil,
			ErrManifestBlobUnknown},
		{"bad json", ocispec.MediaTypeImageManifest, []byte(`{"schemaVersion":2,`), "", nil,
			ErrManifestInvalid},
		{"schema version 1", ocispec.MediaTypeImageManifest,
			[]byte(`{"schemaVersion":1,"config":` + descX + `}`), "", nil, ErrManifestInvalid},
		{"content type mismatch", ocispec.MediaTypeImageIndex, unique("ct"), "", nil,
			ErrManifestInvalid},
		{"unknown media type", "application/vnd.example+json",
			image{mediaType: "application/vnd.example+json", config: im.config}.json(t),
			"", nil, ErrManifestInvalid},
		{"too large", ocispec.MediaTypeImageManifest, huge, "", nil, ErrManifestTooLarge},
		{"digest mismatch", "", unique("dg"), digest.FromString("other").String(), nil,
			ErrDigestInvalid},
		{"invalid extra tag", "", unique("tag"), "", []string{"-bad"}, ErrTagInvalid},
	}
	pushes := len(repoEvents(t, r, repo))
	for i, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			tag := fmt.Sprintf("case-%d", i)
			ref := Reference{Tag: tag}
			switch tt.ref {
			case "":
			case "digest":
				ref = Reference{Digest: digest.FromBytes(tt.body)}
			default:
				ref = mustRef(t, tt.ref)
			}
			ct := tt.contentType
			if ct == "" {
				ct = mediaTypeOf(t, tt.body)
			}
			m, err := r.PutManifest(ctx, repo, ref, tt.also, ct, tt.body)
			if !errors.Is(err, tt.wantErr) {
				t.Fatalf("PutManifest = %v, want %v", err, tt.wantErr)
			}
			if err != nil {
				wantNoManifest(t, r, repo, Reference{Digest: digest.FromBytes(tt.body)})
				wantNoManifest(t, r, repo, Reference{Tag: tag})
				return
			}
			pushes++
			wantTags := tt.also
			if ref.Tag != "" {
				wantTags = append([]string{tag}, tt.also...)
			}
			checkPushed(t, r, repo, m, tt.body, wantTags)
		})
	}
	// Pull events (checkPushed reads every manifest back) may be flushed meanwhile.
	n := 0
	for _, e := range repoEvents(t, r, repo) {
		if e.Action == ActionPush {
			n++
		}
	}
	if n != pushes {
		t.Fatalf("%d push events after %d accepted pushes", n, pushes)
	}
}

// mediaTypeOf returns the mediaType field of a manifest body, or "".
func mediaTypeOf(t *testing.T, body []byte) string {
	t.Helper()
	m, err := parseManifest("", body)
	if err != nil {
		return ""
	}
	return m.MediaType
}

func wantNoManifest(t *testing.T, r *Registry, repo string, ref Reference) {
	t.Helper()
	_, err := r.StatManifest(context.Background(), repo, ref)
	if !errors.Is(err, ErrManifestUnknown) {
		t.Fatalf("StatManifest(%s) = %v, want ErrManifestUnknown", ref, err)
	}
	_, _, err = r.GetManifest(context.Background(), repo, ref)
	if !errors.Is(err, ErrManifestUnknown) {
		t.Fatalf("GetManifest(%s) = %v, want ErrManifestUnknown", ref, err)
	}
}

// checkPushed checks that m is reachable by digest and by each of tags, with body.
func checkPushed(t *testing.T, r *Registry, repo string, m Manifest, body []byte, tags []string) {
	t.Helper()
	if m.Digest != digest.FromBytes(body) || m.Size != int64(len(body)) {
		t.Fatalf("PutManifest = %+v for a body of %d bytes", m, len(body))
	}
	if !slices.Equal(m.Tags, tags) {
		t.Fatalf("PutManifest tags = %v, want %v", m.Tags, tags)
	}
	refs := []Reference{{Digest: m.Digest}}
	for _, tag := range tags {
		refs = append(refs, Reference{Tag: tag})
	}
	for _, ref := range refs {
		got, b, err := r.GetManifest(context.Background(), repo, ref)
		if err != nil {
			t.Fatalf("GetManifest(%s): %v", ref, err)
		}
		if got.Digest != m.Digest || got.MediaType != m.MediaType || got.Size != m.Size ||
			!bytes.Equal(b, body) {
			t.Fatalf("GetManifest(%s) = %+v, want %+v and the pushed body", ref, got, m)
		}
	}
}

func TestTagMoves(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	r := newRegistry(t)
	repo := repoName(t)
	one := putManifest(t, r, repo, "latest", pushedImage(t, r, repo, "one").json(t))
	two := putManifest(t, r, repo, "latest", pushedImage(t, r, repo, "two").json(t))
	got, err := r.StatManifest(ctx, repo, Reference{Tag: "latest"})
	if err != nil || got.Digest != two.Digest {
		t.Fatalf("latest = %+v, %v; want %s", got, err, two.Digest)
	}
	if _, err := r.StatManifest(ctx, repo, Reference{Digest: one.Digest}); err != nil {
		t.Fatalf("the untagged manifest is gone: %v", err)
	}
	tags, _, err := r.Tags(ctx, repo, "", 10)
	if err != nil || !slices.Equal(tags, []string{"latest"}) {
		t.Fatalf("Tags = %v, %v", tags, err)
	}
}

func TestDeleteManifestByDigest(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	r := newRegistry(t)
	repo := repoName(t)
	im := pushedImage(t, r, repo, "subject")
	body := im.json(t)
	subject, err := r.PutManifest(ctx, repo, Reference{Tag: "a"}, []string{"b"},
		ocispec.MediaTypeImageManifest, body)
	if err != nil {
		t.Fatal(err)
	}
	other := putManifest(t, r, repo, "c", pushedImage(t, r, repo, "other").json(t))
	sig := putManifest(t, r, repo, "sig", image{
		artifactType: "application/vnd.example.sig", config: im.config,
		subject: &ocispec.Descriptor{
			MediaType: subject.MediaType, Digest: subject.Digest, Size: subject.Size,
		},
	}.json(t))
	if refs := referrers(t, r, repo, subject.Digest, ""); len(refs) != 1 {
		t.Fatalf("referrers before delete = %v", refs)
	}

	if err := r.DeleteManifest(ctx, repo, Reference{Digest: sig.Digest}); err != nil {
		t.Fatal(err)
	}
	if refs := referrers(t, r, repo, subject.Digest, ""); len(refs) != 0 {
		t.Fatalf("referrers after deleting the referrer = %v", refs)
	}
	wantNoManifest(t, r, repo, Reference{Tag: "sig"})

	if err := r.DeleteManifest(ctx, repo, Reference{Digest: subject.Digest}); err != nil {
		t.Fatal(err)
	}
	wantNoManifest(t, r, repo, Reference{Digest: subject.Digest})
	wantNoManifest(t, r, repo, Reference{Tag: "a"})
	wantNoManifest(t, r, repo, Reference{Tag: "b"})
	tags, _, err := r.Tags(ctx, repo, "", 10)
	if err != nil || !slices.Equal(tags, []string{"c"}) {
		t.Fatalf("Tags after delete = %v, %v; want [c]", tags, err)
	}
	if got, err := r.StatManifest(ctx, repo, Reference{Tag: "c"}); err != nil ||
		got.Digest != other.Digest {
		t.Fatalf("unrelated tag after delete = %+v, %v", got, err)
	}
	err = r.DeleteManifest(ctx, repo, Reference{Digest: subject.Digest})
	if !errors.Is(err, ErrManifestUnknown) {
		t.Fatalf("second delete: %v, want ErrManifestUnknown", err)
	}
}

func TestDeleteManifestByTag(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	r := newRegistry(t)
	repo := repoName(t)
	m := putManifest(t, r, repo, "gone", pushedImage(t, r, repo, "kept").json(t))
	if err := r.DeleteManifest(ctx, repo, Reference{Tag: "gone"}); err != nil {
		t.Fatal(err)
	}
	wantNoManifest(t, r, repo, Reference{Tag: "gone"})
	if _, _, err := r.GetManifest(ctx, repo, Reference{Digest: m.Digest}); err != nil {
		t.Fatalf("manifest after deleting its tag: %v", err)
	}
	err := r.DeleteManifest(ctx, repo, Reference{Tag: "gone"})
	if !errors.Is(err, ErrManifestUnknown) {
		t.Fatalf("deleting a missing tag: %v, want ErrManifestUnknown", err)
	}
}

// TestGetManifestFromStorage reads bodies back with the cache off, as another
// replica that did not see the push would.
func TestGetManifestFromStorage(t *testing.T) {
	t.Parallel()
	blobs := testDriver(t, "")
	pusher := openRegistry(t, blobs, Options{})
	defer pusher.Close()
	reader := openRegistry(t, blobs, Options{ManifestCacheBytes: -1})
	defer reader.Close()
	repo := repoName(t)
	body := pushedImage(t, pusher, repo, "cold").json(t)
	m := putManifest(t, pusher, repo, "v1", body)
	checkPushed(t, reader, repo, m, body, []string{"v1"})
}

// referrers returns the referrers of d in repo, failing the test on error.
func referrers(
	t *testing.T, r *Registry, repo string, d digest.Digest, artifactType string,
) []ocispec.Descriptor {
	t.Helper()
	refs, err := r.Referrers(context.Background(), repo, d, artifactType)
	if err != nil {
		t.Fatalf("Referrers: %v", err)
	}
	return refs
}
