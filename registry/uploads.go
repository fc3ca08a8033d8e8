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
	if err := r.blobs.CreateUpload(ctx, u.ID); err != nil {
		return nil, fmt.Errorf("%w: storage: %v", ErrUnavailable, err)
	}
	// Hold the lock until the session exists, so that no janitor takes the new file
	// for an orphan.
	unlock, err := r.blobs.LockUpload(ctx, u.ID)
	if err != nil {
		return nil, fmt.Errorf("%w: storage: %v", ErrUnavailable, err)
	}
	defer unlock()
	err = r.update(ctx, func(tx kvnode.Txn) error {
		txPutJSON(tx, uploadKey(u.ID), u)
		return nil
	})
	if err != nil {
		r.blobs.AbortUpload(context.WithoutCancel(ctx), u.ID)
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
func (r *Registry) AppendUpload(
	ctx context.Context, repo, id string, start, length int64, body io.Reader,
) (*Upload, error) {
	unlock, err := r.lockUpload(ctx, repo, id)
	if err != nil {
		return nil, err
	}
	defer unlock()
	return r.appendLocked(ctx, repo, id, start, length, body)
}

// lockUpload takes the upload's write lock. Every write and the recording of its
// progress happen under it, so the bytes staged always match the hash state saved:
// two clients racing on one upload get BLOB_UPLOAD_INVALID, never mixed content.
func (r *Registry) lockUpload(ctx context.Context, repo, id string) (func(), error) {
	if _, err := r.GetUpload(ctx, repo, id); err != nil {
		return nil, err
	}
	unlock, err := r.blobs.LockUpload(ctx, id)
	switch {
	case errors.Is(err, storage.ErrUploadBusy):
		return nil, fmt.Errorf("%w: another request is writing to this upload", ErrBlobUploadInvalid)
	case errors.Is(err, storage.ErrUploadNotFound):
		return nil, fmt.Errorf("%w: %s", ErrBlobUploadUnknown, id)
	case err != nil:
		return nil, fmt.Errorf("%w: storage: %v", ErrUnavailable, err)
	}
	return unlock, nil
}

// appendLocked appends under the upload's lock, from the session as it is now.
func (r *Registry) appendLocked(
	ctx context.Context, repo, id string, start, length int64, body io.Reader,
) (*Upload, error) {
	u, err := r.GetUpload(ctx, repo, id)
	if err != nil {
		return nil, err
	}
	if start >= 0 && start != u.Offset {
		return u, &RangeError{Offset: u.Offset}
	}
	h, err := restoreHash(u)
	if err != nil {
		return nil, err
	}
	n, err := r.blobs.WriteUpload(ctx, id, u.Offset, io.TeeReader(body, h))
	if err != nil {
		return nil, uploadWriteErr(err)
	}
	if length >= 0 && n != length {
		return nil, fmt.Errorf("%w: chunk had %d bytes, expected %d", ErrSizeInvalid, n, length)
	}
	return r.saveProgress(ctx, u, n, h)
}

func uploadWriteErr(err error) error {
	switch {
	case errors.Is(err, storage.ErrUploadNotFound), errors.Is(err, storage.ErrUploadOffset):
		return fmt.Errorf("%w: staged data lost, restart the upload", ErrBlobUploadInvalid)
	default:
		return fmt.Errorf("%w: storage: %v", ErrBlobUploadInvalid, err)
	}
}

// saveProgress records n more bytes and the hash state, if no other writer moved
// the session meanwhile.
func (r *Registry) saveProgress(
	ctx context.Context, u *Upload, n int64, h hash.Hash,
) (*Upload, error) {
	state, err := h.(encoding.BinaryMarshaler).MarshalBinary()
	if err != nil {
		return nil, fmt.Errorf("registry: save hash state: %w", err)
	}
	next := *u
	next.Offset += n
	next.HashState = state
	next.Updated = time.Now().UTC()
	err = r.update(ctx, func(tx kvnode.Txn) error {
		var cur Upload
		if err := txGetJSON(tx, uploadKey(u.ID), &cur); err != nil {
			if errors.Is(err, kvnode.ErrNotFound) {
				return fmt.Errorf("%w: %s", ErrBlobUploadUnknown, u.ID)
			}
			return err
		}
		if cur.Offset != u.Offset {
			return fmt.Errorf("%w: concurrent writes to one upload", ErrBlobUploadInvalid)
		}
		txPutJSON(tx, uploadKey(u.ID), next)
		return nil
	})
	if err != nil {
		return nil, err
	}
	return &next, nil
}

// CompleteUpload appends a last chunk (which may be empty; start and length as for
// AppendUpload), verifies the whole upload against d and makes it blob d of repo.
// On a digest mismatch the upload is discarded.
func (r *Registry) CompleteUpload(
	ctx context.Context, repo, id string, d digest.Digest, start, length int64, body io.Reader,
) error {
	if u, err := r.session(ctx, repo, id); err == nil && u.Completed == d {
		return nil // a repeated PUT: the blob is there already
	}
	unlock, err := r.lockUpload(ctx, repo, id)
	if errors.Is(err, ErrBlobUploadUnknown) {
		return r.relinkCommitted(ctx, repo, id, d, err)
	}
	if err != nil {
		return err
	}
	defer unlock()
	u, err := r.appendLocked(ctx, repo, id, start, length, body)
	if err != nil {
		return err
	}
	got, err := r.uploadDigest(ctx, u, d.Algorithm())
	if err != nil {
		return err
	}
	if got != d {
		r.dropUpload(context.WithoutCancel(ctx), id)
		return fmt.Errorf("%w: computed %s, client said %s", ErrDigestInvalid, got, d)
	}
	if err := r.blobs.CommitUpload(ctx, id, d, u.Offset); err != nil {
		if _, serr := r.blobs.Stat(ctx, d); serr != nil {
			return fmt.Errorf("%w: storage: %v", ErrUnavailable, err)
		}
	}
	return r.finishUpload(ctx, repo, id, d, u)
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

// relinkCommitted finishes an upload whose bytes reached storage as blob d while
// its metadata commit failed (a timeout whose outcome the first PUT could not
// know): the session is still open but its staged file is gone. The session's saved
// hash state must name d, so that the blob linked is the one these bytes made and
// not another blob of the same size. Anything else keeps the original error.
func (r *Registry) relinkCommitted(
	ctx context.Context, repo, id string, d digest.Digest, orig error,
) error {
	u, err := r.GetUpload(ctx, repo, id)
	if err != nil || string(d.Algorithm()) != u.Algorithm {
		return orig
	}
	if got, err := r.uploadDigest(ctx, u, d.Algorithm()); err != nil || got != d {
		return orig
	}
	if size, err := r.blobs.Stat(ctx, d); err != nil || size != u.Offset {
		return orig
	}
	return r.finishUpload(ctx, repo, id, d, u)
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
	rc, err := r.blobs.ReadUpload(ctx, u.ID)
	if err != nil {
		return "", uploadWriteErr(err)
	}
	defer rc.Close()
	dg, err := alg.FromReader(io.LimitReader(rc, u.Offset))
	if err != nil {
		return "", fmt.Errorf("%w: storage: %v", ErrUnavailable, err)
	}
	return dg, nil
}

// CancelUpload discards upload id.
func (r *Registry) CancelUpload(ctx context.Context, repo, id string) error {
	unlock, err := r.lockUpload(ctx, repo, id)
	if err != nil {
		return err
	}
	defer unlock()
	err = r.update(ctx, func(tx kvnode.Txn) error {
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
