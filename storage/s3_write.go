package storage

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"strings"

	"github.com/minio/minio-go/v7"
)

// maxParts is the most parts S3 takes in one multipart upload.
const maxParts = 10000

// putOpts are the options of every object write. Payloads go unsigned: the digest
// is verified by the caller, and hashing every byte twice would halve throughput.
func putOpts() minio.PutObjectOptions {
	return minio.PutObjectOptions{
		ContentType: "application/octet-stream", DisableContentSha256: true,
	}
}

// writeObject streams r to key and returns the bytes written. Up to one part is
// sent in a single PUT; more becomes a multipart upload whose parts are sent by a
// second goroutine while the next is read, so memory stays at two parts whatever
// the size. check, when set, runs once r is drained: an error from it abandons the
// write, and nothing becomes visible.
func (s *S3) writeObject(
	ctx context.Context, key string, r io.Reader, check func() error,
) (int64, error) {
	buf := s.bufs.Get().(*[]byte)
	n, err := io.ReadFull(r, *buf)
	if err == nil {
		return s.writeMultipart(ctx, key, r, buf, n, check)
	}
	defer s.bufs.Put(buf)
	if !errors.Is(err, io.EOF) && !errors.Is(err, io.ErrUnexpectedEOF) {
		return 0, fmt.Errorf("storage: read: %w", err)
	}
	if check != nil {
		if err := check(); err != nil {
			return 0, err
		}
	}
	_, err = s.core.PutObject(ctx, s.bucket, key, bytes.NewReader((*buf)[:n]), int64(n),
		"", "", putOpts())
	if err != nil {
		return 0, s3Err(err, "put "+key)
	}
	return int64(n), nil
}

// chunk is one full buffer on its way to become part num.
type chunk struct {
	buf *[]byte
	n   int
	num int
}

// writeMultipart sends first (n bytes) and the rest of r as a multipart upload.
func (s *S3) writeMultipart(
	ctx context.Context, key string, r io.Reader, first *[]byte, n int, check func() error,
) (int64, error) {
	id, err := s.core.NewMultipartUpload(ctx, s.bucket, key, putOpts())
	if err != nil {
		s.bufs.Put(first)
		return 0, s3Err(err, "start multipart "+key)
	}
	marker, err := s.markMultipart(ctx, key, id)
	if err != nil {
		s.bufs.Put(first)
		s.abortMultipart(ctx, key, id, "")
		return 0, err
	}
	sendCtx, cancel := context.WithCancel(ctx)
	defer cancel()
	chunks := make(chan chunk, 1)
	done := make(chan sent, 1)
	go func() { done <- s.sendParts(sendCtx, cancel, key, id, chunks) }()
	total, err := s.readParts(sendCtx, r, first, n, chunks)
	res := <-done
	if err == nil {
		err = res.err
	}
	if err == nil && check != nil {
		err = check()
	}
	if err == nil {
		_, err = s.core.CompleteMultipartUpload(ctx, s.bucket, key, id, res.parts, putOpts())
		err = s3Err(err, "complete multipart "+key)
	}
	if err != nil {
		s.abortMultipart(ctx, key, id, marker)
		return 0, err
	}
	s.removeKey(ctx, marker)
	return total, nil
}

// readParts fills buffers from r and hands them to the sender until r ends; it
// closes chunks. It stops early when ctx ends (the sender failed).
func (s *S3) readParts(
	ctx context.Context, r io.Reader, buf *[]byte, n int, chunks chan<- chunk,
) (int64, error) {
	defer close(chunks)
	var total int64
	for num := 1; ; num++ {
		if num > maxParts {
			s.bufs.Put(buf)
			return total, fmt.Errorf("storage: s3: write larger than %d parts of %d bytes",
				maxParts, s.partSize)
		}
		select {
		case chunks <- chunk{buf, n, num}:
		case <-ctx.Done():
			s.bufs.Put(buf)
			return total, ctx.Err()
		}
		total += int64(n)
		if n < int(s.partSize) {
			return total, nil
		}
		buf = s.bufs.Get().(*[]byte)
		var err error
		n, err = io.ReadFull(r, *buf)
		switch {
		case errors.Is(err, io.EOF):
			s.bufs.Put(buf)
			return total, nil
		case errors.Is(err, io.ErrUnexpectedEOF):
		case err != nil:
			s.bufs.Put(buf)
			return total, fmt.Errorf("storage: read: %w", err)
		}
	}
}

// sent is what the sender of a multipart upload reports.
type sent struct {
	parts []minio.CompletePart
	err   error
}

// sendParts uploads each chunk as a part. After the first failure it cancels the
// write and only returns the buffers.
func (s *S3) sendParts(
	ctx context.Context, cancel func(), key, id string, chunks <-chan chunk,
) sent {
	var res sent
	for c := range chunks {
		if res.err == nil {
			p, err := s.core.PutObjectPart(ctx, s.bucket, key, id, c.num,
				bytes.NewReader((*c.buf)[:c.n]), int64(c.n),
				minio.PutObjectPartOptions{DisableContentSha256: true})
			if err != nil {
				res.err = s3Err(err, "put part of "+key)
				cancel()
			}
			res.parts = append(res.parts, minio.CompletePart{PartNumber: c.num, ETag: p.ETag})
		}
		s.bufs.Put(c.buf)
	}
	return res
}

// markMultipart records a multipart upload in flight as a small object, so that
// Sweep finds it after a crash on every S3 service (MinIO lists multipart uploads
// only by exact key).
func (s *S3) markMultipart(ctx context.Context, key, id string) (string, error) {
	marker := s.prefix + "multipart/" + randomToken()
	body := key + "\n" + id
	_, err := s.core.PutObject(ctx, s.bucket, marker, strings.NewReader(body),
		int64(len(body)), "", "", putOpts())
	if err != nil {
		return "", s3Err(err, "put "+marker)
	}
	return marker, nil
}

// abortMultipart abandons upload id of key and removes its marker, if any.
func (s *S3) abortMultipart(ctx context.Context, key, id, marker string) {
	ctx = context.WithoutCancel(ctx)
	if err := s.core.AbortMultipartUpload(ctx, s.bucket, key, id); err != nil &&
		minio.ToErrorResponse(err).Code != "NoSuchUpload" {
		s.log.Warn("abort multipart upload", "key", key, "err", err)
		return // the marker stays for Sweep
	}
	if marker != "" {
		s.removeKey(ctx, marker)
	}
}

func (s *S3) removeKey(ctx context.Context, key string) {
	err := s.client.RemoveObject(context.WithoutCancel(ctx), s.bucket, key,
		minio.RemoveObjectOptions{})
	if err != nil {
		s.log.Warn("remove object", "key", key, "err", err)
	}
}
