package storage

import (
	"context"
	"errors"
	"io"
	"time"

	"github.com/opencontainers/go-digest"
)

// Errors returned by every Driver.
var (
	// ErrNotFound reports that a blob does not exist.
	ErrNotFound = errors.New("storage: blob not found")
	// ErrUploadNotFound reports that an upload does not exist.
	ErrUploadNotFound = errors.New("storage: upload not found")
	// ErrUploadOffset reports a write that starts past the bytes staged so far.
	ErrUploadOffset = errors.New("storage: upload offset beyond staged bytes")
	// ErrDigestMismatch reports bytes that do not match the digest they were stored under.
	ErrDigestMismatch = errors.New("storage: digest does not match content")
	// ErrInvalidID reports an upload id that is not a plain token.
	ErrInvalidID = errors.New("storage: invalid upload id")
	// ErrUploadBusy reports an upload that another writer holds locked.
	ErrUploadBusy = errors.New("storage: upload locked by another writer")
)

// Driver stores blobs by digest and stages uploads.
type Driver interface {
	// Stat returns the size of blob d, or ErrNotFound.
	Stat(ctx context.Context, d digest.Digest) (int64, error)
	// Open returns a reader of blob d from offset on. The caller closes it.
	Open(ctx context.Context, d digest.Digest, offset int64) (io.ReadCloser, error)
	// Put stores r as blob d, verifying the digest first; on a mismatch nothing is
	// stored and the error is ErrDigestMismatch.
	Put(ctx context.Context, d digest.Digest, r io.Reader) error
	// Delete removes blob d; a missing blob is not an error.
	Delete(ctx context.Context, d digest.Digest) error

	// CreateUpload starts an empty upload named id.
	CreateUpload(ctx context.Context, id string) error
	// LockUpload takes the exclusive lock of upload id, or fails at once with
	// ErrUploadBusy. Writers hold it across WriteUpload and the recording of their
	// progress, so that two writers never interleave their bytes; a crashed holder's
	// lock is released with it. unlock releases the lock.
	LockUpload(ctx context.Context, id string) (unlock func(), err error)
	// WriteUpload discards any staged bytes past offset, then appends r, and returns
	// the number of bytes written.
	WriteUpload(ctx context.Context, id string, offset int64, r io.Reader) (int64, error)
	// ReadUpload returns a reader of the staged bytes of id. The caller closes it.
	ReadUpload(ctx context.Context, id string) (io.ReadCloser, error)
	// CommitUpload makes the first size staged bytes of id the blob d, durably, and
	// removes the upload. The caller has verified the digest.
	CommitUpload(ctx context.Context, id string, d digest.Digest, size int64) error
	// AbortUpload removes the upload; a missing upload is not an error.
	AbortUpload(ctx context.Context, id string) error
	// ListUploads returns every staged upload.
	ListUploads(ctx context.Context) ([]UploadInfo, error)
}

// UploadInfo describes a staged upload.
type UploadInfo struct {
	ID       string
	Size     int64
	Modified time.Time
}

// ValidID reports whether id can name an upload: 1 to 64 characters of
// [A-Za-z0-9_-], so that it never escapes a driver's namespace.
func ValidID(id string) bool {
	if id == "" || len(id) > 64 {
		return false
	}
	for _, c := range id {
		ok := c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' ||
			c == '-' || c == '_'
		if !ok {
			return false
		}
	}
	return true
}
