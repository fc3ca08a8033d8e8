package storage

import (
	"context"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"syscall"

	"github.com/opencontainers/go-digest"
)

// CreateUpload creates the empty staging file of id.
func (f *Filesystem) CreateUpload(_ context.Context, id string) error {
	p, err := f.uploadPath(id)
	if err != nil {
		return err
	}
	file, err := os.OpenFile(p, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o640)
	if err != nil {
		return fmt.Errorf("storage: %w", err)
	}
	return file.Close()
}

// LockUpload takes an flock on the staging file of id. The kernel drops it when the
// holder dies, so a crashed writer never leaves an upload locked.
func (f *Filesystem) LockUpload(_ context.Context, id string) (func(), error) {
	file, err := f.openUpload(id, os.O_RDONLY)
	if err != nil {
		return nil, err
	}
	if err := lockFile(file); err != nil {
		file.Close()
		return nil, err
	}
	// A commit may have renamed the file away while this call waited to open it.
	opened, err1 := file.Stat()
	current, err2 := os.Stat(file.Name())
	if err1 != nil || err2 != nil || !os.SameFile(opened, current) {
		file.Close()
		return nil, ErrUploadNotFound
	}
	return func() { file.Close() }, nil
}

// lockFile takes an exclusive flock without waiting.
func lockFile(file *os.File) error {
	err := syscall.Flock(int(file.Fd()), syscall.LOCK_EX|syscall.LOCK_NB)
	if errors.Is(err, syscall.EWOULDBLOCK) {
		return ErrUploadBusy
	}
	if err != nil {
		return fmt.Errorf("storage: lock: %w", err)
	}
	return nil
}

// WriteUpload truncates the staging file to offset and appends r.
func (f *Filesystem) WriteUpload(
	_ context.Context, id string, offset int64, r io.Reader,
) (int64, error) {
	file, err := f.openUpload(id, os.O_WRONLY)
	if err != nil {
		return 0, err
	}
	defer file.Close()
	fi, err := file.Stat()
	if err != nil {
		return 0, fmt.Errorf("storage: %w", err)
	}
	if fi.Size() < offset {
		return 0, ErrUploadOffset
	}
	if err := file.Truncate(offset); err != nil {
		return 0, fmt.Errorf("storage: %w", err)
	}
	if _, err := file.Seek(offset, io.SeekStart); err != nil {
		return 0, fmt.Errorf("storage: %w", err)
	}
	buf := make([]byte, copyBufSize)
	n, err := io.CopyBuffer(onlyWriter{file}, r, buf)
	if err != nil {
		return n, fmt.Errorf("storage: write upload: %w", err)
	}
	return n, nil
}

// onlyWriter hides *os.File's ReadFrom so that CopyBuffer uses the given buffer.
type onlyWriter struct{ w io.Writer }

func (o onlyWriter) Write(p []byte) (int, error) { return o.w.Write(p) }

func (f *Filesystem) openUpload(id string, flag int) (*os.File, error) {
	p, err := f.uploadPath(id)
	if err != nil {
		return nil, err
	}
	file, err := os.OpenFile(p, flag, 0)
	if errors.Is(err, fs.ErrNotExist) {
		return nil, ErrUploadNotFound
	}
	if err != nil {
		return nil, fmt.Errorf("storage: %w", err)
	}
	return file, nil
}

// ReadUpload opens the staging file of id for reading.
func (f *Filesystem) ReadUpload(_ context.Context, id string) (io.ReadCloser, error) {
	return f.openUpload(id, os.O_RDONLY)
}

// CommitUpload truncates the staging file to size and renames it to the blob's path.
func (f *Filesystem) CommitUpload(
	_ context.Context, id string, d digest.Digest, size int64,
) error {
	p, err := f.blobPath(d)
	if err != nil {
		return err
	}
	file, err := f.openUpload(id, os.O_WRONLY)
	if err != nil {
		return err
	}
	defer file.Close()
	fi, err := file.Stat()
	if err != nil {
		return fmt.Errorf("storage: %w", err)
	}
	if fi.Size() < size {
		return ErrUploadOffset
	}
	if err := file.Truncate(size); err != nil {
		return fmt.Errorf("storage: %w", err)
	}
	if err := f.place(file, p); err != nil {
		return err
	}
	return f.AbortUpload(context.Background(), id)
}

// AbortUpload removes the staging file of id.
func (f *Filesystem) AbortUpload(_ context.Context, id string) error {
	p, err := f.uploadPath(id)
	if err != nil {
		return err
	}
	if err := os.Remove(p); err != nil && !errors.Is(err, fs.ErrNotExist) {
		return fmt.Errorf("storage: %w", err)
	}
	return nil
}

// ListUploads lists the staging files, temporary files of Put included.
func (f *Filesystem) ListUploads(_ context.Context) ([]UploadInfo, error) {
	entries, err := os.ReadDir(filepath.Join(f.root, "uploads"))
	if err != nil {
		return nil, fmt.Errorf("storage: %w", err)
	}
	out := make([]UploadInfo, 0, len(entries))
	for _, e := range entries {
		fi, err := e.Info()
		if err != nil {
			continue
		}
		out = append(out, UploadInfo{ID: e.Name(), Size: fi.Size(), Modified: fi.ModTime()})
	}
	return out, nil
}
