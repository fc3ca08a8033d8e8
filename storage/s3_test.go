package storage

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/minio/minio-go/v7"
	"github.com/opencontainers/go-digest"

	"berth.dev/berth/storage/miniotest"
)

var quiet = slog.New(slog.NewTextHandler(io.Discard, nil))

// bucketSeq names a fresh bucket for each driver of one test run.
var bucketSeq atomic.Int64

// newS3 returns a driver on a new bucket of srv with S3's smallest part size, so
// that the suite's blobs of a few MiB cross part boundaries.
func newS3(t *testing.T, srv *miniotest.Server, prefix string) *S3 {
	t.Helper()
	cfg := S3Config{
		Endpoint: srv.Endpoint, Region: "us-east-1",
		Bucket:    fmt.Sprintf("suite-%d", bucketSeq.Add(1)),
		Prefix:    prefix,
		AccessKey: miniotest.AccessKey, SecretKey: miniotest.SecretKey,
		PathStyle: true, Insecure: true, PartSize: minPartSize, CreateBucket: true,
	}
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	s, err := NewS3(ctx, cfg, quiet)
	if err != nil {
		t.Fatal(err)
	}
	return s
}

func TestS3Driver(t *testing.T) {
	srv := miniotest.Start(t)
	RunDriverSuite(t, func(t *testing.T) Driver { return newS3(t, srv, "registry/a") })
}

// TestS3Sweep leaves a multipart upload behind as a killed writer would, and checks
// that Sweep aborts it once it is older than the cutoff, and not before.
func TestS3Sweep(t *testing.T) {
	srv := miniotest.Start(t)
	s := newS3(t, srv, "")
	ctx := context.Background()
	key := s.prefix + "blobs/sha256/ab/abandoned"
	id, err := s.core.NewMultipartUpload(ctx, s.bucket, key, putOpts())
	if err != nil {
		t.Fatal(err)
	}
	if _, err := s.markMultipart(ctx, key, id); err != nil {
		t.Fatal(err)
	}
	if n, err := s.Sweep(ctx, time.Now().Add(-time.Hour)); err != nil || n != 0 {
		t.Fatalf("Sweep before = %d, %v; want 0", n, err)
	}
	if n, err := s.Sweep(ctx, time.Now().Add(time.Hour)); err != nil || n != 1 {
		t.Fatalf("Sweep after = %d, %v; want 1", n, err)
	}
	_, err = s.core.ListObjectParts(ctx, s.bucket, key, id, 0, 10)
	if minio.ToErrorResponse(err).Code != "NoSuchUpload" {
		t.Fatalf("parts of the swept upload: %v, want NoSuchUpload", err)
	}
}

// TestS3Unavailable stops MinIO and checks that every call fails with
// ErrUnavailable, then works again once MinIO is back.
func TestS3Unavailable(t *testing.T) {
	srv := miniotest.Start(t)
	s := newS3(t, srv, "")
	ctx := context.Background()
	dg := mustPut(t, s, []byte("before"))
	srv.Stop()
	calls := map[string]error{}
	_, calls["Stat"] = s.Stat(ctx, dg)
	_, calls["Open"] = s.Open(ctx, dg, 0)
	calls["Put"] = s.Put(ctx, digest.FromString("x"), strings.NewReader("x"))
	_, calls["WritePart"] = s.WritePart(ctx, "u1", 0, strings.NewReader("x"))
	_, calls["ListUploads"] = s.ListUploads(ctx)
	for name, err := range calls {
		if !errors.Is(err, ErrUnavailable) {
			t.Errorf("%s with MinIO stopped: %v, want ErrUnavailable", name, err)
		}
	}
	srv.Restart()
	wantBlob(t, s, dg, []byte("before"))
	mustPut(t, s, []byte("after"))
}

func TestS3BlobURL(t *testing.T) {
	srv := miniotest.Start(t)
	s := newS3(t, srv, "p")
	dg := mustPut(t, s, []byte("presigned"))
	u, err := s.BlobURL(context.Background(), dg, time.Minute)
	if err != nil {
		t.Fatal(err)
	}
	resp, err := httpGet(u)
	if err != nil || resp != "presigned" {
		t.Fatalf("GET presigned URL = %q, %v; want the blob", resp, err)
	}
}
