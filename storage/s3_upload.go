package storage

import (
	"context"
	"errors"
	"fmt"
	"io"
	"strings"
	"time"

	"github.com/minio/minio-go/v7"
	"github.com/opencontainers/go-digest"
)

// maxCopySize is the largest object S3 copies in one request.
const maxCopySize = 5 << 30

// WritePart streams r to a new object under the upload's prefix.
func (s *S3) WritePart(ctx context.Context, id string, offset int64, r io.Reader) (Part, error) {
	if offset < 0 {
		return Part{}, ErrUploadOffset
	}
	p := Part{Name: partName(offset), Offset: offset}
	key, err := s.partKey(id, p)
	if err != nil {
		return Part{}, err
	}
	if p.Size, err = s.writeObject(ctx, key, r, nil); err != nil {
		return Part{}, err
	}
	return p, nil
}

// DeletePart removes the object of part p.
func (s *S3) DeletePart(ctx context.Context, id string, p Part) error {
	key, err := s.partKey(id, p)
	if err != nil {
		return err
	}
	return s.deleteKey(ctx, key)
}

// statParts checks that every part exists with its recorded size and returns
// their keys.
func (s *S3) statParts(ctx context.Context, id string, parts []Part) ([]string, error) {
	if _, err := checkParts(id, parts); err != nil {
		return nil, err
	}
	keys := make([]string, len(parts))
	for i, p := range parts {
		key, _ := s.partKey(id, p)
		info, err := s.client.StatObject(ctx, s.bucket, key, minio.StatObjectOptions{})
		if err != nil {
			err = s3Err(err, "stat "+key)
			if errors.Is(err, ErrNotFound) {
				return nil, fmt.Errorf("%w: part %s of %s", ErrUploadNotFound, p.Name, id)
			}
			return nil, err
		}
		if info.Size != p.Size {
			return nil, fmt.Errorf("%w: part %s holds %d bytes, want %d",
				ErrUploadOffset, p.Name, info.Size, p.Size)
		}
		keys[i] = key
	}
	return keys, nil
}

// ReadUpload reads the part objects one after the other.
func (s *S3) ReadUpload(ctx context.Context, id string, parts []Part) (io.ReadCloser, error) {
	keys, err := s.statParts(ctx, id, parts)
	if err != nil {
		return nil, err
	}
	return &keysReader{ctx: ctx, s: s, keys: keys}, nil
}

// keysReader reads objects in turn, opening each when the one before ends.
type keysReader struct {
	ctx  context.Context // the caller's, for the reads it makes
	s    *S3
	keys []string
	cur  io.ReadCloser
}

func (k *keysReader) Read(p []byte) (int, error) {
	for {
		if k.cur == nil {
			if len(k.keys) == 0 {
				return 0, io.EOF
			}
			rc, err := k.s.openKey(k.ctx, k.keys[0], 0)
			if err != nil {
				return 0, err
			}
			k.cur, k.keys = rc, k.keys[1:]
		}
		n, err := k.cur.Read(p)
		if errors.Is(err, io.EOF) {
			k.cur.Close()
			k.cur, err = nil, nil
			if n == 0 {
				continue
			}
		}
		return n, err
	}
}

func (k *keysReader) Close() error {
	if k.cur != nil {
		return k.cur.Close()
	}
	return nil
}

// CommitUpload builds the blob on the server: one part is copied, parts of at least
// 5 MiB are composed with a multipart copy; smaller parts, which S3 cannot compose,
// are streamed through once. Then the upload's objects are removed.
func (s *S3) CommitUpload(ctx context.Context, id string, parts []Part, d digest.Digest) error {
	key, err := s.blobKey(d)
	if err != nil {
		return err
	}
	keys, err := s.statParts(ctx, id, parts)
	if err != nil {
		return err
	}
	if _, err := s.Stat(ctx, d); errors.Is(err, ErrNotFound) {
		if err := s.assemble(ctx, key, keys, parts); err != nil {
			return err
		}
	} else if err != nil {
		return err
	}
	return s.AbortUpload(ctx, id)
}

// assemble writes the objects keys (of parts) to key.
func (s *S3) assemble(ctx context.Context, key string, keys []string, parts []Part) error {
	dst := minio.CopyDestOptions{Bucket: s.bucket, Object: key}
	var err error
	switch {
	case len(keys) == 1 && parts[0].Size <= maxCopySize:
		_, err = s.client.CopyObject(ctx, dst, minio.CopySrcOptions{Bucket: s.bucket, Object: keys[0]})
		err = s3Err(err, "copy to "+key)
	case composable(parts):
		srcs := make([]minio.CopySrcOptions, len(keys))
		for i, k := range keys {
			srcs[i] = minio.CopySrcOptions{Bucket: s.bucket, Object: k}
		}
		_, err = s.client.ComposeObject(ctx, dst, srcs...)
		err = s3Err(err, "compose "+key)
	default:
		r := &keysReader{ctx: ctx, s: s, keys: keys}
		defer r.Close()
		_, err = s.writeObject(ctx, key, r, nil)
	}
	return err
}

// composable reports whether S3 can join parts with a multipart copy: all but the
// last hold at least 5 MiB.
func composable(parts []Part) bool {
	if len(parts) == 0 || len(parts) > maxParts {
		return false
	}
	for _, p := range parts[:len(parts)-1] {
		if p.Size < minPartSize {
			return false
		}
	}
	return true
}

// AbortUpload removes every object under the upload's prefix.
func (s *S3) AbortUpload(ctx context.Context, id string) error {
	dir, err := s.uploadPrefix(id)
	if err != nil {
		return err
	}
	return s.removePrefix(ctx, dir)
}

func (s *S3) removePrefix(ctx context.Context, prefix string) error {
	objects := s.client.ListObjects(ctx, s.bucket,
		minio.ListObjectsOptions{Prefix: prefix, Recursive: true})
	for e := range s.client.RemoveObjects(ctx, s.bucket, objects, minio.RemoveObjectsOptions{}) {
		if e.Err != nil && !errors.Is(s3Err(e.Err, e.ObjectName), ErrNotFound) {
			return s3Err(e.Err, "remove "+e.ObjectName)
		}
	}
	return ctx.Err()
}

// ListUploads groups the objects under uploads/ by upload id.
func (s *S3) ListUploads(ctx context.Context) ([]UploadInfo, error) {
	root := s.prefix + "uploads/"
	byID := map[string]UploadInfo{}
	for obj := range s.client.ListObjects(ctx, s.bucket,
		minio.ListObjectsOptions{Prefix: root, Recursive: true}) {
		if obj.Err != nil {
			return nil, s3Err(obj.Err, "list "+root)
		}
		id, _, _ := strings.Cut(strings.TrimPrefix(obj.Key, root), "/")
		u := byID[id]
		u.ID = id
		u.Size += obj.Size
		u.Modified = latest(u.Modified, obj.LastModified)
		byID[id] = u
	}
	out := make([]UploadInfo, 0, len(byID))
	for _, u := range byID {
		out = append(out, u)
	}
	return out, nil
}

// Sweep aborts the multipart uploads whose marker was written before cutoff: the
// writer died (a killed gateway) before it could finish or abort them.
func (s *S3) Sweep(ctx context.Context, cutoff time.Time) (int, error) {
	root := s.prefix + "multipart/"
	removed := 0
	for obj := range s.client.ListObjects(ctx, s.bucket,
		minio.ListObjectsOptions{Prefix: root, Recursive: true}) {
		if obj.Err != nil {
			return removed, s3Err(obj.Err, "list "+root)
		}
		if !obj.LastModified.Before(cutoff) {
			continue
		}
		key, id, err := s.readMarker(ctx, obj.Key)
		if err != nil {
			return removed, err
		}
		s.abortMultipart(ctx, key, id, obj.Key)
		removed++
	}
	return removed, nil
}

func (s *S3) readMarker(ctx context.Context, marker string) (key, id string, err error) {
	rc, err := s.openKey(ctx, marker, 0)
	if err != nil {
		return "", "", err
	}
	defer rc.Close()
	b, err := io.ReadAll(io.LimitReader(rc, 4096))
	if err != nil {
		return "", "", s3Err(err, "read "+marker)
	}
	key, id, _ = strings.Cut(string(b), "\n")
	return key, id, nil
}
