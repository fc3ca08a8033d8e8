package main

import (
	"context"
	"fmt"
	"path/filepath"
	"time"

	"github.com/minio/minio-go/v7"
	"github.com/minio/minio-go/v7/pkg/credentials"
)

// Credentials and region of the MinIO server of -storage s3.
const (
	minioUser   = "registrybench"
	minioSecret = "registrybench-secret"
	minioRegion = "us-east-1"
)

// s3Bucket is where a registry keeps its blobs with -storage s3: an empty bucket of
// the benchmark's MinIO server, addressed path style over plain HTTP.
type s3Bucket struct {
	endpoint string // host:port
	name     string
}

// s3Backend is the MinIO server that every registry of an -storage s3 run shares,
// each in a bucket of its own.
type s3Backend struct {
	minio   *server
	client  *minio.Client
	buckets int // created so far; numbers the next
}

// minioSpec launches MinIO serving the data directory it is given.
func minioSpec(bin string) serverSpec {
	return serverSpec{
		name:      "minio",
		bin:       bin,
		readyPath: "/minio/health/live",
		env: []string{"MINIO_ROOT_USER=" + minioUser, "MINIO_ROOT_PASSWORD=" + minioSecret,
			"MINIO_BROWSER=off", "MINIO_UPDATE=off"},
		args: func(addr, dir string) ([]string, error) {
			console, err := freeAddr()
			if err != nil {
				return nil, err
			}
			return []string{"server", filepath.Join(dir, "data"), "--address", addr,
				"--console-address", console, "--quiet"}, nil
		},
	}
}

// startS3 starts MinIO with a fresh data directory under work.
func startS3(ctx context.Context, bin, work string) (*s3Backend, error) {
	logf("starting minio")
	s, err := startServer(ctx, minioSpec(bin), work)
	if err != nil {
		return nil, err
	}
	client, err := minio.New(s.addr, &minio.Options{
		Creds:        credentials.NewStaticV4(minioUser, minioSecret, ""),
		Region:       minioRegion,
		BucketLookup: minio.BucketLookupPath,
	})
	if err != nil {
		s.stop()
		return nil, err
	}
	return &s3Backend{minio: s, client: client}, nil
}

// newBucket creates an empty bucket for one registry named after it.
func (b *s3Backend) newBucket(ctx context.Context, owner string) (*s3Bucket, error) {
	b.buckets++
	name := fmt.Sprintf("%s-%d", owner, b.buckets)
	ctx, cancel := context.WithTimeout(ctx, 30*time.Second)
	defer cancel()
	err := b.client.MakeBucket(ctx, name, minio.MakeBucketOptions{Region: minioRegion})
	if err != nil {
		return nil, fmt.Errorf("minio: create bucket %s: %w", name, err)
	}
	return &s3Bucket{endpoint: b.minio.addr, name: name}, nil
}

// stop ends MinIO and removes its data.
func (b *s3Backend) stop() {
	if err := b.minio.stop(); err != nil {
		logf("stop minio: %v", err)
	}
}

// berthS3Env configures `berth serve` to store its blobs in bucket.
func berthS3Env(bucket *s3Bucket) []string {
	return []string{
		"BERTH_STORAGE_DRIVER=s3",
		"BERTH_STORAGE_S3_ENDPOINT=" + bucket.endpoint,
		"BERTH_STORAGE_S3_REGION=" + minioRegion,
		"BERTH_STORAGE_S3_BUCKET=" + bucket.name,
		"BERTH_STORAGE_S3_ACCESS_KEY=" + minioUser,
		"BERTH_STORAGE_S3_SECRET_KEY=" + minioSecret,
		"BERTH_STORAGE_S3_PATH_STYLE=true",
		"BERTH_STORAGE_S3_TLS=false",
		"BERTH_STORAGE_REDIRECT=false",
	}
}

// distributionS3Storage is the storage section of Distribution's configuration on
// bucket: its s3 driver, path style, plain HTTP, redirect off.
func distributionS3Storage(bucket *s3Bucket) string {
	return fmt.Sprintf(`  s3:
    accesskey: %s
    secretkey: %s
    region: %s
    regionendpoint: http://%s
    forcepathstyle: true
    bucket: %s
    secure: false
    v4auth: true
  redirect:
    disable: true
`, minioUser, minioSecret, minioRegion, bucket.endpoint, bucket.name)
}
