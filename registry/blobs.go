package registry

import (
	"context"
	"errors"
	"fmt"
	"io"

	"github.com/opencontainers/go-digest"

	"berth.dev/berth/kvnode"
	"berth.dev/berth/storage"
)

// blobLink is the record that makes a blob visible in one repository.
type blobLink struct {
	Size int64 `json:"size"`
}

// StatBlob returns the size of blob d in repo, or ErrBlobUnknown.
func (r *Registry) StatBlob(ctx context.Context, repo string, d digest.Digest) (int64, error) {
	var link blobLink
	err := r.getJSON(ctx, blobKey(repo, d), &link)
	if errors.Is(err, kvnode.ErrNotFound) {
		return 0, fmt.Errorf("%w: %s", ErrBlobUnknown, d)
	}
	if err != nil {
		return 0, err
	}
	return link.Size, nil
}

// OpenBlob returns a reader of blob d in repo from offset on, and the blob's size.
func (r *Registry) OpenBlob(
	ctx context.Context, repo string, d digest.Digest, offset int64,
) (io.ReadCloser, int64, error) {
	size, err := r.StatBlob(ctx, repo, d)
	if err != nil {
		return nil, 0, err
	}
	rc, err := r.blobs.Open(ctx, d, offset)
	if errors.Is(err, storage.ErrNotFound) {
		return nil, 0, fmt.Errorf("%w: %s (linked but missing from storage)", ErrBlobUnknown, d)
	}
	if err != nil {
		return nil, 0, putErr(err)
	}
	return rc, size, nil
}

// BlobURL returns a URL from which the client reads blob d straight from
// storage, or "" when redirects are off or the driver cannot presign.
func (r *Registry) BlobURL(ctx context.Context, d digest.Digest) (string, error) {
	red, ok := r.blobs.(storage.Redirector)
	if !ok || r.opts.RedirectTTL <= 0 {
		return "", nil
	}
	u, err := red.BlobURL(ctx, d, r.opts.RedirectTTL)
	if err != nil {
		return "", putErr(err)
	}
	return u, nil
}

// DeleteBlob unlinks blob d from repo. The bytes stay in storage for other
// repositories until garbage collection.
func (r *Registry) DeleteBlob(ctx context.Context, repo string, d digest.Digest) error {
	return r.update(ctx, func(tx kvnode.Txn) error {
		if _, err := tx.Get(blobKey(repo, d)); err != nil {
			if errors.Is(err, kvnode.ErrNotFound) {
				return fmt.Errorf("%w: %s", ErrBlobUnknown, d)
			}
			return err
		}
		tx.Delete(blobKey(repo, d))
		r.putEvent(ctx, tx, Event{Action: ActionDelete, Repository: repo, Digest: d})
		return dropRef(tx, ProjectOf(repo), d)
	})
}

// MountBlob links blob d from repository from into repo. It reports false, with no
// error, when from does not hold the blob.
func (r *Registry) MountBlob(
	ctx context.Context, repo, from string, d digest.Digest,
) (bool, error) {
	q, err := r.quotaFor(ctx, repo)
	if err != nil {
		return false, err
	}
	mounted := false
	err = r.update(ctx, func(tx kvnode.Txn) error {
		var link blobLink
		err := txGetJSON(tx, blobKey(from, d), &link)
		if errors.Is(err, kvnode.ErrNotFound) {
			mounted = false
			return nil
		}
		if err != nil {
			return err
		}
		if err := linkBlob(tx, q, repo, d, link.Size); err != nil {
			return err
		}
		mounted = true
		return nil
	})
	return mounted, err
}

// PutBlob stores r as blob d in repo in one step (a monolithic upload): the bytes
// are verified against d before anything becomes visible.
func (r *Registry) PutBlob(
	ctx context.Context, repo string, d digest.Digest, body io.Reader,
) error {
	counter := &countingReader{r: body}
	err := r.blobs.Put(ctx, d, counter)
	if errors.Is(err, storage.ErrDigestMismatch) {
		return fmt.Errorf("%w: %s", ErrDigestInvalid, d)
	}
	if err != nil {
		return putErr(err)
	}
	size, err := r.blobs.Stat(ctx, d)
	if err != nil {
		return putErr(err)
	}
	q, err := r.quotaFor(ctx, repo)
	if err != nil {
		return err
	}
	return r.update(ctx, func(tx kvnode.Txn) error {
		return linkBlob(tx, q, repo, d, size)
	})
}

// putErr maps a failure to store or read a blob: storage that cannot be reached is
// ErrStorageUnavailable, anything else ErrUnavailable.
func putErr(err error) error {
	if errors.Is(err, storage.ErrUnavailable) {
		return fmt.Errorf("%w: %w", ErrStorageUnavailable, err)
	}
	return fmt.Errorf("%w: storage: %v", ErrUnavailable, err)
}

type countingReader struct {
	r io.Reader
	n int64
}

func (c *countingReader) Read(p []byte) (int, error) {
	n, err := c.r.Read(p)
	c.n += int64(n)
	return n, err
}
