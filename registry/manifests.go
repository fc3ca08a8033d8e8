package registry

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"strings"

	"github.com/opencontainers/go-digest"
	ocispec "github.com/opencontainers/image-spec/specs-go/v1"

	"berth.dev/berth/kvnode"
)

// manifestRecord is the metadata of a manifest in one repository.
type manifestRecord struct {
	MediaType    string        `json:"media_type"`
	Size         int64         `json:"size"`
	ArtifactType string        `json:"artifact_type,omitempty"`
	Subject      digest.Digest `json:"subject,omitempty"`
}

// maxReferrerAnnotations bounds the annotations copied into a referrers index entry,
// which lives in metadata (etcd refuses requests over 1.5 MiB). Larger annotations
// are left out of the entry; the manifest itself keeps them.
const maxReferrerAnnotations = 64 << 10

// tagRecord names the manifest a tag points at, with what a GET needs to answer.
type tagRecord struct {
	Digest    digest.Digest `json:"digest"`
	MediaType string        `json:"media_type"`
	Size      int64         `json:"size"`
}

// Manifest describes a stored manifest.
type Manifest struct {
	Digest    digest.Digest
	MediaType string
	Size      int64
	// Subject is the digest of the manifest's subject, or "".
	Subject digest.Digest
	// Tags are the tags a push pointed at the manifest.
	Tags []string
}

// PutManifest validates body and stores it under ref in repo. A tag is moved to the
// new manifest; a digest reference must match the body. Every tag in also (the
// ?tag= parameters of a push by digest) is pointed at the manifest in the same
// transaction.
func (r *Registry) PutManifest(
	ctx context.Context, repo string, ref Reference, also []string, contentType string,
	body []byte,
) (Manifest, error) {
	d, err := manifestDigest(ref, body)
	if err != nil {
		return Manifest{}, err
	}
	tags := also
	if ref.Tag != "" {
		tags = append([]string{ref.Tag}, also...)
	}
	for _, t := range tags {
		if err := ValidateTag(t); err != nil {
			return Manifest{}, err
		}
	}
	m, err := parseManifest(contentType, body)
	if err != nil {
		return Manifest{}, err
	}
	rec := manifestRecord{
		MediaType: m.MediaType, Size: int64(len(body)), ArtifactType: m.artifactType(),
		Subject: m.subjectDigest(),
	}
	// A tag that moves between admission and commit makes the push ask again: the
	// admission must have decided on what the commit replaces.
	for attempt := 1; ; attempt++ {
		err = r.admitAndCommit(ctx, repo, tags, d, m, rec, body)
		if !errors.Is(err, errTagMoved) {
			break
		}
		if attempt == maxAdmitAttempts {
			return Manifest{}, fmt.Errorf("%w: %v", ErrUnavailable, err)
		}
	}
	if err != nil {
		return Manifest{}, err
	}
	r.cache.add(d, body)
	return Manifest{
		Digest: d, MediaType: m.MediaType, Size: rec.Size, Subject: rec.Subject, Tags: tags,
	}, nil
}

// maxAdmitAttempts bounds how often a push is admitted again because its tag moved.
const maxAdmitAttempts = 3

// admitAndCommit admits a validated manifest push, stores its body and commits it.
func (r *Registry) admitAndCommit(
	ctx context.Context, repo string, tags []string, d digest.Digest, m *manifestJSON,
	rec manifestRecord, body []byte,
) error {
	seen, err := r.admitPush(ctx, repo, tags, d, m.MediaType, body)
	if err != nil {
		return err
	}
	if err := r.blobs.Put(ctx, d, bytes.NewReader(body)); err != nil {
		return fmt.Errorf("%w: storage: %v", ErrUnavailable, err)
	}
	q, err := r.quotaFor(ctx, repo)
	if err != nil {
		return err
	}
	return r.update(ctx, func(tx kvnode.Txn) error {
		if err := checkTagStates(tx, repo, seen); err != nil {
			return err
		}
		if err := checkReferences(tx, repo, m); err != nil {
			return err
		}
		if err := countManifest(tx, q, repo, d, rec.Size); err != nil {
			return err
		}
		r.commitManifest(ctx, tx, repo, tags, d, rec, referrerAnnotations(m.Annotations))
		return nil
	})
}

// referrerAnnotations returns the annotations a referrers entry keeps: all of them,
// unless together they pass maxReferrerAnnotations bytes.
func referrerAnnotations(a map[string]string) map[string]string {
	n := 0
	for k, v := range a {
		n += len(k) + len(v)
	}
	if n > maxReferrerAnnotations {
		return nil
	}
	return a
}

func manifestDigest(ref Reference, body []byte) (digest.Digest, error) {
	if ref.Digest == "" {
		return digest.SHA256.FromBytes(body), nil
	}
	alg := ref.Digest.Algorithm()
	if !alg.Available() {
		return "", fmt.Errorf("%w: unsupported algorithm %q", ErrDigestInvalid, alg)
	}
	if d := alg.FromBytes(body); d != ref.Digest {
		return "", fmt.Errorf("%w: body has digest %s, reference is %s", ErrDigestInvalid, d, ref.Digest)
	}
	return ref.Digest, nil
}

// checkReferences fails unless every blob and child manifest of m is in repo.
func checkReferences(tx kvnode.Txn, repo string, m *manifestJSON) error {
	var keys []string
	for _, desc := range m.referencedBlobs() {
		keys = append(keys, blobKey(repo, desc.Digest))
	}
	if m.isIndex() {
		for _, desc := range m.Manifests {
			keys = append(keys, manifestKey(repo, desc.Digest))
		}
	}
	if err := kvnode.Prefetch(tx, keys...); err != nil {
		return err
	}
	for _, desc := range m.referencedBlobs() {
		var link blobLink
		err := txGetJSON(tx, blobKey(repo, desc.Digest), &link)
		if errors.Is(err, kvnode.ErrNotFound) {
			return fmt.Errorf("%w: blob %s", ErrManifestBlobUnknown, desc.Digest)
		}
		if err != nil {
			return err
		}
		if link.Size != desc.Size {
			return fmt.Errorf("%w: blob %s has size %d, descriptor says %d",
				ErrManifestInvalid, desc.Digest, link.Size, desc.Size)
		}
	}
	if !m.isIndex() {
		return nil
	}
	for _, desc := range m.Manifests {
		if _, err := tx.Get(manifestKey(repo, desc.Digest)); err != nil {
			if errors.Is(err, kvnode.ErrNotFound) {
				return fmt.Errorf("%w: manifest %s", ErrManifestBlobUnknown, desc.Digest)
			}
			return err
		}
	}
	return nil
}

// commitManifest writes the manifest's records and its push event.
func (r *Registry) commitManifest(
	ctx context.Context, tx kvnode.Txn, repo string, tags []string, d digest.Digest,
	rec manifestRecord, annotations map[string]string,
) {
	txPutJSON(tx, manifestKey(repo, d), rec)
	for _, tag := range tags {
		txPutJSON(tx, tagKey(repo, tag), tagRecord{Digest: d, MediaType: rec.MediaType, Size: rec.Size})
	}
	if rec.Subject != "" {
		txPutJSON(tx, referrerKey(repo, rec.Subject, d), ocispec.Descriptor{
			MediaType: rec.MediaType, Digest: d, Size: rec.Size,
			ArtifactType: rec.ArtifactType, Annotations: annotations,
		})
	}
	tx.Put(catalogKey(repo), []byte("{}"))
	r.putEvent(ctx, tx, Event{
		Action: ActionPush, Repository: repo, Digest: d, Tag: strings.Join(tags, ","),
		MediaType: rec.MediaType,
	})
}

// StatManifest resolves ref in repo without reading the body.
func (r *Registry) StatManifest(ctx context.Context, repo string, ref Reference) (Manifest, error) {
	if ref.Tag != "" {
		var t tagRecord
		err := r.getJSON(ctx, tagKey(repo, ref.Tag), &t)
		if err != nil {
			return Manifest{}, unknownManifest(err, ref)
		}
		return Manifest{Digest: t.Digest, MediaType: t.MediaType, Size: t.Size}, nil
	}
	var rec manifestRecord
	if err := r.getJSON(ctx, manifestKey(repo, ref.Digest), &rec); err != nil {
		return Manifest{}, unknownManifest(err, ref)
	}
	return Manifest{
		Digest: ref.Digest, MediaType: rec.MediaType, Size: rec.Size, Subject: rec.Subject,
	}, nil
}

func unknownManifest(err error, ref Reference) error {
	if errors.Is(err, kvnode.ErrNotFound) {
		return fmt.Errorf("%w: %s", ErrManifestUnknown, ref)
	}
	return err
}

// GetManifest resolves ref in repo and returns the manifest with its body.
func (r *Registry) GetManifest(
	ctx context.Context, repo string, ref Reference,
) (Manifest, []byte, error) {
	m, err := r.StatManifest(ctx, repo, ref)
	if err != nil {
		return Manifest{}, nil, err
	}
	if a := r.opts.Admission; a != nil {
		p := PullInfo{
			Repository: repo, Reference: ref.String(), Digest: m.Digest, MediaType: m.MediaType,
		}
		if err := a.AdmitPull(ctx, p); err != nil {
			return Manifest{}, nil, err
		}
	}
	body, err := r.manifestBody(ctx, m.Digest)
	if err != nil {
		return Manifest{}, nil, err
	}
	r.recordPull(ctx, Event{
		Repository: repo, Digest: m.Digest, Tag: ref.Tag, MediaType: m.MediaType,
	})
	return m, body, nil
}

func (r *Registry) manifestBody(ctx context.Context, d digest.Digest) ([]byte, error) {
	if body, ok := r.cache.get(d); ok {
		return body, nil
	}
	rc, err := r.blobs.Open(ctx, d, 0)
	if err != nil {
		return nil, fmt.Errorf("%w: storage: manifest %s: %v", ErrUnavailable, d, err)
	}
	defer rc.Close()
	body, err := io.ReadAll(io.LimitReader(rc, MaxManifestSize+1))
	if err != nil {
		return nil, fmt.Errorf("%w: storage: %v", ErrUnavailable, err)
	}
	r.cache.add(d, body)
	return body, nil
}

// DeleteManifest deletes a tag (ref is a tag) or a manifest and every tag pointing at
// it (ref is a digest).
func (r *Registry) DeleteManifest(ctx context.Context, repo string, ref Reference) error {
	if a := r.opts.Admission; a != nil {
		d := DeleteInfo{Repository: repo, Tag: ref.Tag, Digest: ref.Digest}
		if err := a.AdmitDelete(ctx, d); err != nil {
			return err
		}
	}
	if ref.Tag != "" {
		return r.deleteTag(ctx, repo, ref.Tag)
	}
	tags, err := r.tagsOf(ctx, repo, ref.Digest)
	if err != nil {
		return err
	}
	return r.update(ctx, func(tx kvnode.Txn) error {
		var rec manifestRecord
		if err := txGetJSON(tx, manifestKey(repo, ref.Digest), &rec); err != nil {
			return unknownManifest(err, ref)
		}
		tx.Delete(manifestKey(repo, ref.Digest))
		for _, tag := range tags {
			var t tagRecord
			if txGetJSON(tx, tagKey(repo, tag), &t) == nil && t.Digest == ref.Digest {
				tx.Delete(tagKey(repo, tag))
			}
		}
		if rec.Subject != "" {
			tx.Delete(referrerKey(repo, rec.Subject, ref.Digest))
		}
		r.putEvent(ctx, tx, Event{Action: ActionDelete, Repository: repo, Digest: ref.Digest})
		return dropRef(tx, ProjectOf(repo), ref.Digest)
	})
}

func (r *Registry) deleteTag(ctx context.Context, repo, tag string) error {
	return r.update(ctx, func(tx kvnode.Txn) error {
		var t tagRecord
		if err := txGetJSON(tx, tagKey(repo, tag), &t); err != nil {
			return unknownManifest(err, Reference{Tag: tag})
		}
		tx.Delete(tagKey(repo, tag))
		r.putEvent(ctx, tx, Event{
			Action: ActionDelete, Repository: repo, Digest: t.Digest, Tag: tag,
		})
		return nil
	})
}
