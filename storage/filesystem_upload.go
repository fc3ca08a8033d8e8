package storage

import (
	"context"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/opencontainers/go-digest"
)

// WritePart writes r to a new file in the upload's folder.
func (f *Filesystem) WritePart(
	_ context.Context, id string, offset int64, r io.Reader,
) (Part, error) {
	dir, err := f.uploadPath(id)
	if err != nil {
		return Part{}, err
	}
	if offset < 0 {
		return Part{}, ErrUploadOffset
	}
	if err := os.MkdirAll(dir, 0o750); err != nil {
		return Part{}, fmt.Errorf("storage: %w", err)
	}
	p := Part{Name: partName(offset), Offset: offset}
	file, err := os.OpenFile(filepath.Join(dir, p.Name), os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o640)
	if err != nil {
		return Part{}, fmt.Errorf("storage: %w", err)
	}
	defer file.Close()
	buf := make([]byte, copyBufSize)
	p.Size, err = io.CopyBuffer(onlyWriter{file}, r, buf)
	if err != nil {
		os.Remove(file.Name())
		return Part{}, fmt.Errorf("storage: write part: %w", err)
	}
	return p, nil
}

// onlyWriter hides *os.File's ReadFrom so that CopyBuffer uses the given buffer.
type onlyWriter struct{ w io.Writer }

func (o onlyWriter) Write(p []byte) (int, error) { return o.w.Write(p) }

// DeletePart removes the file of part p.
func (f *Filesystem) DeletePart(_ context.Context, id string, p Part) error {
	path, err := f.partPath(id, p)
	if err != nil {
		return err
	}
	if err := os.Remove(path); err != nil && !errors.Is(err, fs.ErrNotExist) {
		return fmt.Errorf("storage: %w", err)
	}
	return nil
}

func (f *Filesystem) partPath(id string, p Part) (string, error) {
	dir, err := f.uploadPath(id)
	if err != nil {
		return "", err
	}
	if !ValidID(p.Name) {
		return "", ErrInvalidID
	}
	return filepath.Join(dir, p.Name), nil
}

// openParts checks the parts and opens each one's file; the caller closes them.
func (f *Filesystem) openParts(id string, parts []Part) ([]*os.File, error) {
	if _, err := checkParts(id, parts); err != nil {
		return nil, err
	}
	files := make([]*os.File, 0, len(parts))
	for _, p := range parts {
		file, err := f.openPart(id, p)
		if err != nil {
			closeAll(files)
			return nil, err
		}
		files = append(files, file)
	}
	return files, nil
}

func (f *Filesystem) openPart(id string, p Part) (*os.File, error) {
	path, err := f.partPath(id, p)
	if err != nil {
		return nil, err
	}
	file, err := os.Open(path)
	if errors.Is(err, fs.ErrNotExist) {
		return nil, fmt.Errorf("%w: part %s of %s", ErrUploadNotFound, p.Name, id)
	}
	if err != nil {
		return nil, fmt.Errorf("storage: %w", err)
	}
	fi, err := file.Stat()
	if err == nil && fi.Size() != p.Size {
		err = fmt.Errorf("%w: part %s holds %d bytes, want %d",
			ErrUploadOffset, p.Name, fi.Size(), p.Size)
	}
	if err != nil {
		file.Close()
		return nil, err
	}
	return file, nil
}

func closeAll(files []*os.File) {
	for _, file := range files {
		file.Close()
	}
}

// ReadUpload reads the part files one after the other.
func (f *Filesystem) ReadUpload(_ context.Context, id string, parts []Part) (io.ReadCloser, error) {
	files, err := f.openParts(id, parts)
	if err != nil {
		return nil, err
	}
	readers := make([]io.Reader, len(files))
	for i, file := range files {
		readers[i] = file
	}
	return &multiReadCloser{Reader: io.MultiReader(readers...), close: func() { closeAll(files) }}, nil
}

// multiReadCloser reads its Reader and runs close once when closed.
type multiReadCloser struct {
	io.Reader
	close func()
}

func (m *multiReadCloser) Close() error {
	if m.close != nil {
		m.close()
		m.close = nil
	}
	return nil
}

// CommitUpload renames a single part to the blob's path; several parts are first
// copied into one file (copy_file_range keeps the bytes in the kernel).
func (f *Filesystem) CommitUpload(
	ctx context.Context, id string, parts []Part, d digest.Digest,
) error {
	p, err := f.blobPath(d)
	if err != nil {
		return err
	}
	files, err := f.openParts(id, parts)
	if err != nil {
		return err
	}
	defer closeAll(files)
	if len(files) == 1 {
		err = f.place(files[0], p)
	} else {
		err = f.concatenate(id, files, p)
	}
	if err != nil {
		return err
	}
	return f.AbortUpload(ctx, id)
}

// concatenate copies files into a new file of upload id and places it at p.
func (f *Filesystem) concatenate(id string, files []*os.File, p string) error {
	if _, err := os.Stat(p); err == nil {
		return nil
	}
	dir, _ := f.uploadPath(id)
	if err := os.MkdirAll(dir, 0o750); err != nil {
		return fmt.Errorf("storage: %w", err)
	}
	tmp, err := os.CreateTemp(dir, "commit-*")
	if err != nil {
		return fmt.Errorf("storage: %w", err)
	}
	defer os.Remove(tmp.Name())
	defer tmp.Close()
	for _, file := range files {
		if _, err := io.Copy(tmp, file); err != nil {
			return fmt.Errorf("storage: commit: %w", err)
		}
	}
	return f.place(tmp, p)
}

// AbortUpload removes the folder of id.
func (f *Filesystem) AbortUpload(_ context.Context, id string) error {
	p, err := f.uploadPath(id)
	if err != nil {
		return err
	}
	if err := os.RemoveAll(p); err != nil {
		return fmt.Errorf("storage: %w", err)
	}
	return nil
}

// ListUploads lists the upload folders with the bytes they hold.
func (f *Filesystem) ListUploads(_ context.Context) ([]UploadInfo, error) {
	root := filepath.Join(f.root, "uploads")
	entries, err := os.ReadDir(root)
	if err != nil {
		return nil, fmt.Errorf("storage: %w", err)
	}
	out := make([]UploadInfo, 0, len(entries))
	for _, e := range entries {
		fi, err := e.Info()
		if err != nil || !e.IsDir() {
			continue
		}
		u := UploadInfo{ID: e.Name(), Modified: fi.ModTime()}
		parts, _ := os.ReadDir(filepath.Join(root, e.Name()))
		for _, p := range parts {
			if pi, err := p.Info(); err == nil {
				u.Size += pi.Size()
				u.Modified = latest(u.Modified, pi.ModTime())
			}
		}
		out = append(out, u)
	}
	return out, nil
}

func latest(a, b time.Time) time.Time {
	if b.After(a) {
		return b
	}
	return a
}

// Sweep removes temporary files of Put last written before cutoff.
func (f *Filesystem) Sweep(_ context.Context, cutoff time.Time) (int, error) {
	root := filepath.Join(f.root, "uploads")
	entries, err := os.ReadDir(root)
	if err != nil {
		return 0, fmt.Errorf("storage: %w", err)
	}
	removed := 0
	for _, e := range entries {
		fi, err := e.Info()
		if err != nil || e.IsDir() || !strings.HasPrefix(e.Name(), "put-") ||
			!fi.ModTime().Before(cutoff) {
			continue
		}
		if os.Remove(filepath.Join(root, e.Name())) == nil {
			removed++
		}
	}
	return removed, nil
}
