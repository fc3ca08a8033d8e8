package registry

import (
	"context"
	"crypto/sha256"
	"crypto/sha512"
	"encoding"
	"errors"
	"fmt"
	"hash"
	"io"
	"slices"
	"time"

	"github.com/opencontainers/go-digest"

	"berth.dev/berth/kvnode"
	"berth.dev/berth/storage"
)

// Upload is an upload session as stored in metadata.
type Upload struct {
	ID         string    `json:"-"`
	Repository string    `json:"repository"`
	Offset     int64     `json:"offset"`
	Algorithm  string    `json:"algorithm"`
	HashState  []byte    `json:"hash_state"`
	Started    time.Time `json:"started"`
	Updated    time.Time `json:"updated"`
	// Parts are the staged pieces of the upload in order; they cover [0, Offset).
	Parts []storage.Part `json:"parts,omitempty"`
	// Completed is the digest the upload became. The session stays behind as a
	// marker for a while, so that a client repeating a PUT whose answer it lost
	// (a timeout while the commit went through) gets 201 again, not 404.
	Completed digest.Digest `json:"completed,omitempty"`
}

// completedMarkerTTL is how long a completed upload's marker answers repeated PUTs.
const completedMarkerTTL = 10 * time.Minute

// StartUpload opens an upload session in repo.
func (r *Registry) StartUpload(ctx context.Context, repo string) (*Upload, error) {
	h := sha256.New()
	state, _ := h.(encoding.BinaryMarshaler).MarshalBinary()
	now := time.Now().UTC()
	u := &Upload{
		ID: newID(), Repository: repo, Algorithm: string(digest.SHA256),
		HashState: state, Started: now, Updated: now,
	}
	// Storage holds nothing until the first chunk, which comes after the session
	// exists: the janitor never takes a live upload for an orphan.
	err := r.update(ctx, func(tx kvnode.Txn) error {
		txPutJSON(tx, uploadKey(u.ID), u)
		return nil
	})
	if err != nil {
		return nil, err
	}
	return u, nil
}

// GetUpload returns the session id of repo, or ErrBlobUploadUnknown.
func (r *Registry) GetUpload(ctx context.Context, repo, id string) (*Upload, error) {
	u, err := r.session(ctx, repo, id)
	if err == nil && u.Completed != "" {
		return nil, fmt.Errorf("%w: %s (completed)", ErrBlobUploadUnknown, id)
	}
	return u, err
}

// session returns the session of id in repo, completed or not.
func (r *Registry) session(ctx context.Context, repo, id string) (*Upload, error) {
	if !storage.ValidID(id) {
		return nil, fmt.Errorf("%w: %q", ErrBlobUploadUnknown, clip(id))
	}
	var u Upload
	err := r.getJSON(ctx, uploadKey(id), &u)
	if errors.Is(err, kvnode.ErrNotFound) || err == nil && u.Repository != repo {
		return nil, fmt.Errorf("%w: %s", ErrBlobUploadUnknown, id)
	}
	if err != nil {
		return nil, err
	}
	u.ID = id
	return &u, nil
}

// AppendUpload appends body to upload id. When start is not negative it must equal
// the upload's offset (a chunk with Content-Range), else a *RangeError is returned.
// When length is not negative the body must hold exactly that many bytes.
//
// No lock is taken: the chunk becomes a part of its own, and the session records it
// only if no other writer moved the upload meanwhile (docs/storage.md). The loser
// of such a race gets a *RangeError naming the upload's new offset.
func (r *Registry) AppendUpload(
	ctx context.Context, repo, id string, start, length int64, body io.Reader,
) (*Upload, error) {
	u, err := r.GetUpload(ctx, repo, id)
	if err != nil {
		return nil, err
	}
	return r.appendTo(ctx, u, start, length, body)
}

// appendTo writes body as a new part of session u and records it.
func (r *Registry) appendTo(
	ctx context.Context, u *Upload, start, length int64, body io.Reader,
) (*Upload, error) {
	if start >= 0 && start != u.Offset {
		return u, &RangeError{Offset: u.Offset}
	}
	h, err := restoreHash(u)
	if err != nil {
		return nil, err
	}
	part, err := r.blobs.WritePart(ctx, u.ID, u.Offset, io.TeeReader(body, h))
	if err != nil {
		return nil, storageErr(err)
	}
	if length >= 0 && part.Size != length {
		r.deletePart(ctx, u.ID, part)
		return nil, fmt.Errorf("%w: chunk had %d bytes, expected %d",
			ErrSizeInvalid, part.Size, length)
	}
	if part.Size == 0 {
		r.deletePart(ctx, u.ID, part)
		return u, nil
	}
	next, err := r.saveProgress(ctx, u, part, h)
	if err != nil {
		r.deletePart(ctx, u.ID, part)
		return nil, err
	}
	return next, nil
}

// deletePart removes a part no session records; the janitor catches a failure.
func (r *Registry) deletePart(ctx context.Context, id string, p storage.Part) {
	if err := r.blobs.DeletePart(context.WithoutCancel(ctx), id, p); err != nil {
		r.log.Warn("delete unrecorded part", "upload", id, "part", p.Name, "err", err)
	}
}

// storageErr maps a storage failure to a domain error.
func storageErr(err error) error {
	switch {
	case errors.Is(err, storage.ErrUnavailable):
		return fmt.Errorf("%w: %w", ErrStorageUnavailable, err)
	case errors.Is(err, storage.ErrUploadNotFound), errors.Is(err, storage.ErrUploadOffset):
		return fmt.Errorf("%w: staged data lost, restart the upload", ErrBlobUploadInvalid)
	default:
		return fmt.Errorf("%w: storage: %v", ErrBlobUploadInvalid, err)
	}
}

// saveProgress records part and the hash state after it, if the session still ends
// where u ended (a compare-and-swap on the offset and last part).
func (r *Registry) saveProgress(
	ctx context.Context, u *Upload, part storage.Part, h hash.Hash,
) (*Upload, error) {
	state, err := h.(encoding.BinaryMarshaler).MarshalBinary()
	if err != nil {
		return nil, fmt.Errorf("registry: save hash state: %w", err)
	}
	next := *u
	next.Offset += part.Size
	next.HashState = state
	next.Updated = time.Now().UTC()
	next.Parts = append(slices.Clip(u.Parts), part)
	err = r.update(ctx, func(tx kvnode.Txn) error {
		var cur Upload
		if err := txGetJSON(tx, uploadKey(u.ID), &cur); err != nil {
			if errors.Is(err, kvnode.ErrNotFound) {
				return fmt.Errorf("%w: %s", ErrBlobUploadUnknown, u.ID)
			}
			return err
		}
		if cur.Completed != "" {
			return fmt.Errorf("%w: %s (completed)", ErrBlobUploadUnknown, u.ID)
		}
		if cur.Offset != u.Offset || lastPart(cur.Parts) != lastPart(u.Parts) {
			return &RangeError{Offset: cur.Offset}
		}
		txPutJSON(tx, uploadKey(u.ID), next)
		return nil
	})
	if err != nil {
		return nil, err
	}
	return &next, nil
}

func lastPart(parts []storage.Part) string {
	if len(parts) == 0 {
		return ""
	}
	return parts[len(parts)-1].Name
}

// CompleteUpload appends a last chunk (which may be empty; start and length as for
// AppendUpload), verifies the whole upload against d and makes it blob d of repo.
// On a digest mismatch the upload is discarded.
func (r *Registry) CompleteUpload(
	ctx context.Context, repo, id string, d digest.Digest, start, length int64, body io.Reader,
) error {
	u, err := r.session(ctx, repo, id)
	if err == nil && u.Completed == d {
		return nil // a repeated PUT: the blob is there already
	}
	if err == nil && u.Completed != "" {
		err = fmt.Errorf("%w: %s (completed)", ErrBlobUploadUnknown, id)
	}
	if err != nil {
		return err
	}
	if u.Offset == 0 && start <= 0 && length != 0 {
		return r.putWhole(ctx, u, d, length, body)
	}
	if length != 0 {
		if u, err = r.appendTo(ctx, u, start, length, body); err != nil {
			return err
		}
	} else if start >= 0 && start != u.Offset {
		return &RangeError{Offset: u.Offset}
	}
	got, err := r.uploadDigest(ctx, u, d.Algorithm())
	if err != nil {
		return err
	}
	if got != d {
		r.dropUpload(context.WithoutCancel(ctx), id)
		return fmt.Errorf("%w: computed %s, client said %s", ErrDigestInvalid, got, d)
	}
	if err := r.commitParts(ctx, u, d); err != nil {
		return err
	}
	return r.finishUpload(ctx, repo, id, d, u)
}

// putWhole stores the body of a PUT that carries the whole blob straight as blob
// d: storage verifies the digest while it writes, and no part is staged.
func (r *Registry) putWhole(
	ctx context.Context, u *Upload, d digest.Digest, length int64, body io.Reader,
) error {
	counter := &countingReader{r: body}
	err := r.blobs.Put(ctx, d, counter)
	if errors.Is(err, storage.ErrDigestMismatch) {
		r.dropUpload(context.WithoutCancel(ctx), u.ID)
		return fmt.Errorf("%w: the body does not match %s", ErrDigestInvalid, d)
	}
	if err != nil {
		return putErr(err)
	}
	if length >= 0 && counter.n != length {
		return fmt.Errorf("%w: body had %d bytes, expected %d", ErrSizeInvalid, counter.n, length)
	}
	done := *u
	done.Offset = counter.n
	return r.finishUpload(ctx, u.Repository, u.ID, d, &done)
}

// commitParts makes the staged parts of u blob d. When the parts are gone but blob
// d holds as many bytes, an earlier commit went through and only its answer was
// lost: the session's hash state already named d, so the blob is the one these
// bytes made.
func (r *Registry) commitParts(ctx context.Context, u *Upload, d digest.Digest) error {
	err := r.blobs.CommitUpload(ctx, u.ID, u.Parts, d)
	if err == nil {
		return nil
	}
	size, serr := r.blobs.Stat(ctx, d)
	if serr == nil && size == u.Offset {
		return nil
	}
	return storageErr(err)
}

// finishUpload links the blob and turns the session into its completed marker.
func (r *Registry) finishUpload(
	ctx context.Context, repo, id string, d digest.Digest, u *Upload,
) error {
	done := Upload{Repository: repo, Started: u.Started, Updated: time.Now().UTC(), Completed: d}
	q, err := r.quotaFor(ctx, repo)
	if err != nil {
		return err
	}
	return r.update(ctx, func(tx kvnode.Txn) error {
		txPutJSON(tx, uploadKey(id), done)
		return linkBlob(tx, q, repo, d, u.Offset)
	})
}

// uploadDigest returns the digest of the staged bytes in algorithm alg: from the
// saved hash state when it is of that algorithm, else by reading the bytes back.
func (r *Registry) uploadDigest(
	ctx context.Context, u *Upload, alg digest.Algorithm,
) (digest.Digest, error) {
	if !alg.Available() {
		return "", fmt.Errorf("%w: unsupported algorithm %q", ErrDigestInvalid, alg)
	}
	if string(alg) == u.Algorithm {
		h, err := restoreHash(u)
		if err != nil {
			return "", err
		}
		return digest.NewDigest(alg, h), nil
	}
	rc, err := r.blobs.ReadUpload(ctx, u.ID, u.Parts)
	if err != nil {
		return "", storageErr(err)
	}
	defer rc.Close()
	dg, err := alg.FromReader(io.LimitReader(rc, u.Offset))
	if err != nil {
		return "", storageErr(err)
	}
	return dg, nil
}

// CancelUpload discards upload id.
func (r *Registry) CancelUpload(ctx context.Context, repo, id string) error {
	if _, err := r.GetUpload(ctx, repo, id); err != nil {
		return err
	}
	err := r.update(ctx, func(tx kvnode.Txn) error {
		tx.Delete(uploadKey(id))
		return nil
	})
	if err != nil {
		return err
	}
	if err := r.blobs.AbortUpload(ctx, id); err != nil {
		r.log.Warn("abort upload", "upload", id, "err", err)
	}
	return nil
}

func restoreHash(u *Upload) (hash.Hash, error) {
	var h hash.Hash
	switch digest.Algorithm(u.Algorithm) {
	case digest.SHA256:
		h = sha256.New()
	case digest.SHA512:
		h = sha512.New()
	default:
		return nil, fmt.Errorf("registry: upload %s has unknown algorithm %q", u.ID, u.Algorithm)
	}
	if err := h.(encoding.BinaryUnmarshaler).UnmarshalBinary(u.HashState); err != nil {
		return nil, fmt.Errorf("registry: upload %s hash state: %w", u.ID, err)
	}
	return h, nil
}
