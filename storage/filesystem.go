package storage

import (
	"context"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"

	"github.com/opencontainers/go-digest"
)

// copyBufSize is the buffer of every copy between a stream and a file.
const copyBufSize = 1 << 20

// Filesystem is a Driver on a local directory:
//
//	<root>/blobs/<algorithm>/<first two hex>/<hex>
//	<root>/uploads/<id>/<part name>   (parts of an upload)
//	<root>/uploads/put-*              (a Put in flight)
type Filesystem struct {
	root string
}

// NewFilesystem returns a driver rooted at dir, creating its folders.
func NewFilesystem(dir string) (*Filesystem, error) {
	for _, sub := range []string{"blobs", "uploads"} {
		if err := os.MkdirAll(filepath.Join(dir, sub), 0o750); err != nil {
			return nil, fmt.Errorf("storage: %w", err)
		}
	}
	return &Filesystem{root: dir}, nil
}

func (f *Filesystem) blobPath(d digest.Digest) (string, error) {
	if err := d.Validate(); err != nil {
		return "", fmt.Errorf("storage: %w", err)
	}
	hex := d.Encoded()
	return filepath.Join(f.root, "blobs", d.Algorithm().String(), hex[:2], hex), nil
}

func (f *Filesystem) uploadPath(id string) (string, error) {
	if !ValidID(id) {
		return "", ErrInvalidID
	}
	return filepath.Join(f.root, "uploads", id), nil
}

// Stat returns the size of blob d.
func (f *Filesystem) Stat(_ context.Context, d digest.Digest) (int64, error) {
	p, err := f.blobPath(d)
	if err != nil {
		return 0, err
	}
	fi, err := os.Stat(p)
	if errors.Is(err, fs.ErrNotExist) {
		return 0, ErrNotFound
	}
	if err != nil {
		return 0, fmt.Errorf("storage: %w", err)
	}
	return fi.Size(), nil
}

// Open returns the blob's file positioned at offset; an *os.File lets the HTTP
// server use sendfile.
func (f *Filesystem) Open(_ context.Context, d digest.Digest, offset int64) (io.ReadCloser, error) {
	p, err := f.blobPath(d)
	if err != nil {
		return nil, err
	}
	file, err := os.Open(p)
	if errors.Is(err, fs.ErrNotExist) {
		return nil, ErrNotFound
	}
	if err != nil {
		return nil, fmt.Errorf("storage: %w", err)
	}
	if offset > 0 {
		if _, err := file.Seek(offset, io.SeekStart); err != nil {
			file.Close()
			return nil, fmt.Errorf("storage: %w", err)
		}
	}
	return file, nil
}

// Put writes r to a temporary file, verifies it against d and renames it into place.
func (f *Filesystem) Put(_ context.Context, d digest.Digest, r io.Reader) error {
	p, err := f.blobPath(d)
	if err != nil {
		return err
	}
	tmp, err := os.CreateTemp(filepath.Join(f.root, "uploads"), "put-*")
	if err != nil {
		return fmt.Errorf("storage: %w", err)
	}
	defer os.Remove(tmp.Name())
	defer tmp.Close()
	v := d.Verifier()
	buf := make([]byte, copyBufSize)
	if _, err := io.CopyBuffer(io.MultiWriter(tmp, v), r, buf); err != nil {
		return fmt.Errorf("storage: %w", err)
	}
	if !v.Verified() {
		return ErrDigestMismatch
	}
	return f.place(tmp, p)
}

// place syncs tmp and renames it to p, unless p already exists (blobs are immutable).
func (f *Filesystem) place(tmp *os.File, p string) error {
	if _, err := os.Stat(p); err == nil {
		return nil
	}
	if err := tmp.Sync(); err != nil {
		return fmt.Errorf("storage: %w", err)
	}
	if err := os.MkdirAll(filepath.Dir(p), 0o750); err != nil {
		return fmt.Errorf("storage: %w", err)
	}
	if err := os.Rename(tmp.Name(), p); err != nil {
		return fmt.Errorf("storage: %w", err)
	}
	return syncDir(filepath.Dir(p))
}

func syncDir(dir string) error {
	d, err := os.Open(dir)
	if err != nil {
		return fmt.Errorf("storage: %w", err)
	}
	defer d.Close()
	if err := d.Sync(); err != nil {
		return fmt.Errorf("storage: %w", err)
	}
	return nil
}

// Delete removes blob d.
func (f *Filesystem) Delete(_ context.Context, d digest.Digest) error {
	p, err := f.blobPath(d)
	if err != nil {
		return err
	}
	if err := os.Remove(p); err != nil && !errors.Is(err, fs.ErrNotExist) {
		return fmt.Errorf("storage: %w", err)
	}
	return nil
}
