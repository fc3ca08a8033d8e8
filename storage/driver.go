package storage

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"time"

	"github.com/opencontainers/go-digest"
)

// Errors returned by every Driver.
var (
	// ErrNotFound reports that a blob does not exist.
	ErrNotFound = errors.New("storage: blob not found")
	// ErrUploadNotFound reports an upload, or a part of one, that does not exist.
	ErrUploadNotFound = errors.New("storage: upload not found")
	// ErrUploadOffset reports parts that do not cover an upload from 0 without gaps.
	ErrUploadOffset = errors.New("storage: parts do not follow each other")
	// ErrDigestMismatch reports bytes that do not match the digest they were stored under.
	ErrDigestMismatch = errors.New("storage: digest does not match content")
	// ErrInvalidID reports an upload id or part name that is not a plain token.
	ErrInvalidID = errors.New("storage: invalid upload id")
	// ErrUnavailable reports a backend that cannot be reached or answers with a
	// server error; the same call may succeed later.
	ErrUnavailable = errors.New("storage: backend unavailable")
)

// Driver stores blobs by digest and stages uploads as immutable parts.
//
// A part is written once under a name no other write uses, so writers never
// overwrite each other and need no lock: the caller records which parts make up an
// upload (the registry keeps them in its metadata) and deletes the parts it does not
// keep. See docs/storage.md.
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

	// WritePart stores r as a new part of upload id holding the upload's bytes from
	// offset on. On error nothing of the part remains.
	WritePart(ctx context.Context, id string, offset int64, r io.Reader) (Part, error)
	// DeletePart removes one part; a missing part is not an error.
	DeletePart(ctx context.Context, id string, p Part) error
	// ReadUpload returns a reader of the bytes of parts, in order. The caller closes it.
	ReadUpload(ctx context.Context, id string, parts []Part) (io.ReadCloser, error)
	// CommitUpload makes the bytes of parts the blob d, atomically and durably, then
	// removes upload id with every part it holds. The caller has verified the digest.
	CommitUpload(ctx context.Context, id string, parts []Part, d digest.Digest) error
	// AbortUpload removes upload id and all its parts; a missing upload is not an error.
	AbortUpload(ctx context.Context, id string) error
	// ListUploads returns every upload that holds parts or writes in flight.
	ListUploads(ctx context.Context) ([]UploadInfo, error)
	// Sweep removes what writes left behind outside any upload (temporary files of
	// Put, unfinished multipart uploads) that was last touched before cutoff, and
	// returns how many items it removed.
	Sweep(ctx context.Context, cutoff time.Time) (int, error)
}

// Redirector is implemented by drivers that can hand out a URL from which a client
// reads blob d directly, valid for ttl.
type Redirector interface {
	BlobURL(ctx context.Context, d digest.Digest, ttl time.Duration) (string, error)
}

// Part is one immutable staged piece of an upload: the upload's bytes
// [Offset, Offset+Size), stored under Name.
type Part struct {
	Name   string `json:"name"`
	Offset int64  `json:"offset"`
	Size   int64  `json:"size"`
}

// UploadInfo describes a staged upload.
type UploadInfo struct {
	ID       string
	Size     int64
	Modified time.Time
}

// ValidID reports whether id can name an upload or a part: 1 to 64 characters of
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

// checkParts validates id and parts, which must cover the upload from 0 without
// gaps, and returns the upload's size.
func checkParts(id string, parts []Part) (int64, error) {
	if !ValidID(id) {
		return 0, ErrInvalidID
	}
	var size int64
	for _, p := range parts {
		if !ValidID(p.Name) {
			return 0, ErrInvalidID
		}
		if p.Offset != size || p.Size < 0 {
			return 0, fmt.Errorf("%w: part %s at %d (size %d), want offset %d",
				ErrUploadOffset, p.Name, p.Offset, p.Size, size)
		}
		size += p.Size
	}
	return size, nil
}

// partName names a new part at offset; the random suffix keeps concurrent writers
// at one offset apart.
func partName(offset int64) string {
	return fmt.Sprintf("%020d-%s", offset, randomToken())
}

// randomToken returns 64 random bits in hex.
func randomToken() string {
	var b [8]byte
	if _, err := rand.Read(b[:]); err != nil {
		panic(err) // crypto/rand never fails on supported platforms
	}
	return hex.EncodeToString(b[:])
}
