package storage

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/url"
	"path"
	"strings"
	"sync"
	"time"

	"github.com/minio/minio-go/v7"
	"github.com/minio/minio-go/v7/pkg/credentials"
	"github.com/opencontainers/go-digest"
)

// minPartSize is the smallest part S3 accepts in a multipart upload (but the last).
const minPartSize = 5 << 20

// S3Config configures the S3 driver. The zero value of every field but Bucket works.
type S3Config struct {
	// Endpoint is host[:port] of the S3 service. Empty means s3.amazonaws.com.
	Endpoint string
	// Region of the bucket. Empty lets the client find it out.
	Region string
	// Bucket holds the blobs; it must exist unless CreateBucket is set.
	Bucket string
	// Prefix is put before every key, so that one bucket can hold several registries.
	// Empty means the bucket's root.
	Prefix string
	// AccessKey and SecretKey are static credentials. Empty means the AWS chain:
	// AWS_* environment variables, the shared credentials file, then the instance,
	// container or web-identity role.
	AccessKey, SecretKey string
	// SessionToken goes with temporary static credentials.
	SessionToken string
	// PathStyle selects path-style addressing (http://host/bucket/key), which MinIO
	// and most S3-compatible stores want. False means virtual-host style where the
	// service supports it.
	PathStyle bool
	// Insecure turns TLS off (plain HTTP). False means HTTPS.
	Insecure bool
	// PartSize is the size of the parts in which large writes are sent, and the
	// memory one write holds (twice: one part is sent while the next is read).
	// Zero means 8 MiB; less than 5 MiB is raised to 5 MiB.
	PartSize int64
	// CreateBucket creates Bucket when it does not exist.
	CreateBucket bool
	// MaxRetries bounds the client's retries of one request. Zero means 3.
	MaxRetries int
}

// LogValue keeps the secret key out of logs.
func (c S3Config) LogValue() slog.Value {
	return slog.GroupValue(
		slog.String("endpoint", c.Endpoint), slog.String("region", c.Region),
		slog.String("bucket", c.Bucket), slog.String("prefix", c.Prefix),
		slog.Bool("path_style", c.PathStyle), slog.Bool("insecure", c.Insecure),
		slog.Bool("static_keys", c.AccessKey != ""))
}

// S3 is a Driver on an S3 bucket:
//
//	<prefix>/blobs/<algorithm>/<first two hex>/<hex>
//	<prefix>/uploads/<id>/<part name>
//
// See docs/storage.md for how uploads become multipart uploads.
type S3 struct {
	client   *minio.Client
	core     minio.Core
	bucket   string
	prefix   string // "" or ending in "/"
	partSize int64
	bufs     sync.Pool // of *[]byte of partSize
	log      *slog.Logger
}

// NewS3 returns a driver on cfg.Bucket, checking that the bucket is reachable.
func NewS3(ctx context.Context, cfg S3Config, log *slog.Logger) (*S3, error) {
	if cfg.Bucket == "" {
		return nil, errors.New("storage: s3: bucket must be set")
	}
	client, err := newS3Client(cfg)
	if err != nil {
		return nil, err
	}
	s := &S3{client: client, core: minio.Core{Client: client}, bucket: cfg.Bucket,
		prefix: cleanPrefix(cfg.Prefix), partSize: max(cfg.PartSize, minPartSize), log: log}
	if cfg.PartSize == 0 {
		s.partSize = 8 << 20
	}
	s.bufs.New = func() any { b := make([]byte, s.partSize); return &b }
	if err := s.checkBucket(ctx, cfg.CreateBucket, cfg.Region); err != nil {
		return nil, err
	}
	return s, nil
}

func newS3Client(cfg S3Config) (*minio.Client, error) {
	endpoint := cfg.Endpoint
	if endpoint == "" {
		endpoint = "s3.amazonaws.com"
	}
	lookup := minio.BucketLookupAuto
	if cfg.PathStyle {
		lookup = minio.BucketLookupPath
	}
	retries := cfg.MaxRetries
	if retries == 0 {
		retries = 3
	}
	client, err := minio.New(endpoint, &minio.Options{
		Creds:        s3Credentials(cfg),
		Secure:       !cfg.Insecure,
		Region:       cfg.Region,
		BucketLookup: lookup,
		Transport:    s3Transport(!cfg.Insecure),
		MaxRetries:   retries,
	})
	if err != nil {
		return nil, fmt.Errorf("storage: s3: %w", err)
	}
	return client, nil
}

// s3Credentials returns static keys when set, else the AWS chain.
func s3Credentials(cfg S3Config) *credentials.Credentials {
	if cfg.AccessKey != "" {
		return credentials.NewStaticV4(cfg.AccessKey, cfg.SecretKey, cfg.SessionToken)
	}
	return credentials.NewChainCredentials([]credentials.Provider{
		&credentials.EnvAWS{},
		&credentials.FileAWSCredentials{},
		&credentials.IAM{}, // instance profile, ECS task role, web identity
	})
}

// s3Transport fails fast when the service is down, so that callers answer 503
// instead of hanging.
func s3Transport(secure bool) http.RoundTripper {
	tr, err := minio.DefaultTransport(secure)
	if err != nil {
		return http.DefaultTransport
	}
	tr.DialContext = (&net.Dialer{Timeout: 5 * time.Second, KeepAlive: 30 * time.Second}).DialContext
	tr.ResponseHeaderTimeout = 2 * time.Minute
	tr.MaxIdleConnsPerHost = 64
	return tr
}

func cleanPrefix(p string) string {
	p = strings.Trim(p, "/")
	if p == "" {
		return ""
	}
	return p + "/"
}

func (s *S3) checkBucket(ctx context.Context, create bool, region string) error {
	ok, err := s.client.BucketExists(ctx, s.bucket)
	if err != nil {
		return s3Err(err, "bucket "+s.bucket)
	}
	if ok {
		return nil
	}
	if !create {
		return fmt.Errorf("storage: s3: bucket %q does not exist", s.bucket)
	}
	err = s.client.MakeBucket(ctx, s.bucket, minio.MakeBucketOptions{Region: region})
	if err != nil && minio.ToErrorResponse(err).Code != "BucketAlreadyOwnedByYou" {
		return s3Err(err, "create bucket "+s.bucket)
	}
	s.log.Info("created bucket", "bucket", s.bucket)
	return nil
}

func (s *S3) blobKey(d digest.Digest) (string, error) {
	if err := d.Validate(); err != nil {
		return "", fmt.Errorf("storage: %w", err)
	}
	hex := d.Encoded()
	return s.prefix + path.Join("blobs", d.Algorithm().String(), hex[:2], hex), nil
}

func (s *S3) uploadPrefix(id string) (string, error) {
	if !ValidID(id) {
		return "", ErrInvalidID
	}
	return s.prefix + "uploads/" + id + "/", nil
}

func (s *S3) partKey(id string, p Part) (string, error) {
	dir, err := s.uploadPrefix(id)
	if err != nil {
		return "", err
	}
	if !ValidID(p.Name) {
		return "", ErrInvalidID
	}
	return dir + p.Name, nil
}

// s3Err maps a client error: missing keys to ErrNotFound, an unreachable service
// or a server error to ErrUnavailable.
func s3Err(err error, what string) error {
	if err == nil {
		return nil
	}
	resp := minio.ToErrorResponse(err)
	switch {
	case resp.Code == "NoSuchKey" || resp.StatusCode == http.StatusNotFound:
		return fmt.Errorf("%w: %s", ErrNotFound, what)
	case unreachable(err) || resp.StatusCode >= 500 || resp.Code == "SlowDown":
		return fmt.Errorf("%w: s3 %s: %v", ErrUnavailable, what, err)
	}
	return fmt.Errorf("storage: s3 %s: %w", what, err)
}

// unreachable reports whether err is a failure to talk to the service at all.
func unreachable(err error) bool {
	var ue *url.Error
	var ne net.Error
	return errors.As(err, &ue) || errors.As(err, &ne) ||
		errors.Is(err, context.DeadlineExceeded) || errors.Is(err, io.ErrUnexpectedEOF)
}

// Stat returns the size of blob d.
func (s *S3) Stat(ctx context.Context, d digest.Digest) (int64, error) {
	key, err := s.blobKey(d)
	if err != nil {
		return 0, err
	}
	info, err := s.client.StatObject(ctx, s.bucket, key, minio.StatObjectOptions{})
	if err != nil {
		return 0, s3Err(err, "stat "+key)
	}
	return info.Size, nil
}

// Open reads blob d from offset on with one ranged GET.
func (s *S3) Open(ctx context.Context, d digest.Digest, offset int64) (io.ReadCloser, error) {
	key, err := s.blobKey(d)
	if err != nil {
		return nil, err
	}
	return s.openKey(ctx, key, offset)
}

// openKey reads key from offset on. The body of the GET is returned as it is, not
// wrapped in a minio.Object, whose every Read is a round trip to a goroutine of its
// own: on a pull that hop cost more server CPU per byte than the copy itself.
func (s *S3) openKey(ctx context.Context, key string, offset int64) (io.ReadCloser, error) {
	opts := minio.GetObjectOptions{}
	if offset > 0 {
		if err := opts.SetRange(offset, 0); err != nil {
			return nil, fmt.Errorf("storage: %w", err)
		}
	}
	body, _, _, err := s.core.GetObject(ctx, s.bucket, key, opts)
	if err == nil {
		return body, nil
	}
	if minio.ToErrorResponse(err).Code == "InvalidRange" {
		// A range that starts at the end: S3 refuses it, the contract reads nothing.
		info, serr := s.client.StatObject(ctx, s.bucket, key, minio.StatObjectOptions{})
		if serr == nil && info.Size == offset {
			return io.NopCloser(strings.NewReader("")), nil
		}
	}
	return nil, s3Err(err, "get "+key)
}

// Put streams r to the blob's key as a multipart upload that is completed only
// once the digest is verified, so a mismatch leaves nothing behind.
func (s *S3) Put(ctx context.Context, d digest.Digest, r io.Reader) error {
	key, err := s.blobKey(d)
	if err != nil {
		return err
	}
	v := d.Verifier()
	tee := io.TeeReader(r, v)
	check := func() error {
		if !v.Verified() {
			return ErrDigestMismatch
		}
		return nil
	}
	if _, err := s.Stat(ctx, d); err == nil { // blobs are immutable: only verify
		if _, err := io.Copy(io.Discard, tee); err != nil {
			return fmt.Errorf("storage: %w", err)
		}
		return check()
	}
	_, err = s.writeObject(ctx, key, tee, check)
	return err
}

// Delete removes blob d.
func (s *S3) Delete(ctx context.Context, d digest.Digest) error {
	key, err := s.blobKey(d)
	if err != nil {
		return err
	}
	return s.deleteKey(ctx, key)
}

// deleteKey removes key; a missing key is not an error.
func (s *S3) deleteKey(ctx context.Context, key string) error {
	err := s.client.RemoveObject(ctx, s.bucket, key, minio.RemoveObjectOptions{})
	if err != nil && !errors.Is(s3Err(err, key), ErrNotFound) {
		return s3Err(err, "delete "+key)
	}
	return nil
}

// BlobURL returns a presigned GET URL of blob d, valid for ttl.
func (s *S3) BlobURL(ctx context.Context, d digest.Digest, ttl time.Duration) (string, error) {
	key, err := s.blobKey(d)
	if err != nil {
		return "", err
	}
	u, err := s.client.PresignedGetObject(ctx, s.bucket, key, ttl, nil)
	if err != nil {
		return "", s3Err(err, "presign "+key)
	}
	return u.String(), nil
}
