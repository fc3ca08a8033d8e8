package main

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"time"

	"berth.dev/berth/storage"
)

// StorageConfig selects where blobs live.
type StorageConfig struct {
	// Driver is filesystem (blobs under <data_dir>/storage) or s3.
	Driver string `yaml:"driver"`
	// Redirect makes blob GETs answer 307 with a presigned URL of the storage, so
	// that clients download from S3 directly (s3 only). False serves every byte
	// through the gateway.
	Redirect bool `yaml:"redirect"`
	// RedirectTTL is how long a presigned URL stays valid.
	RedirectTTL time.Duration `yaml:"redirect_ttl"`
	// S3 configures the s3 driver.
	S3 S3Config `yaml:"s3"`
}

// S3Config configures the s3 driver; docs/configuration.md explains each key.
type S3Config struct {
	// Endpoint is host[:port]; empty means AWS (s3.amazonaws.com).
	Endpoint string `yaml:"endpoint"`
	// Region of the bucket; empty lets the client ask the service.
	Region string `yaml:"region"`
	// Bucket holds the blobs.
	Bucket string `yaml:"bucket"`
	// Prefix is put before every key.
	Prefix string `yaml:"prefix"`
	// AccessKey and SecretKey (or SecretKeyFile) are static credentials; with no
	// access key the AWS chain is used (environment, shared files, instance role,
	// web identity).
	AccessKey     string `yaml:"access_key"`
	SecretKey     string `yaml:"secret_key"`
	SecretKeyFile string `yaml:"secret_key_file"`
	SessionToken  string `yaml:"session_token"`
	// PathStyle selects path-style addressing (MinIO wants it).
	PathStyle bool `yaml:"path_style"`
	// TLS talks HTTPS to the endpoint; false talks plain HTTP.
	TLS bool `yaml:"tls"`
	// PartSize is the size of the parts of large writes (bytes, at least 5 MiB).
	PartSize int64 `yaml:"part_size"`
	// CreateBucket creates the bucket at start when it is missing.
	CreateBucket bool `yaml:"create_bucket"`
}

// validate reports the first invalid storage key.
func (c StorageConfig) validate() error {
	switch c.Driver {
	case "filesystem":
		if c.Redirect {
			return errors.New("storage.redirect needs storage.driver s3")
		}
		return nil
	case "s3":
	default:
		return fmt.Errorf("storage.driver %q must be filesystem or s3", c.Driver)
	}
	switch s := c.S3; {
	case s.Bucket == "":
		return errors.New("storage.s3.bucket must be set")
	case s.PartSize != 0 && s.PartSize < 5<<20:
		return fmt.Errorf("storage.s3.part_size %d is below S3's minimum of 5 MiB", s.PartSize)
	case s.AccessKey != "" && s.SecretKey == "" && s.SecretKeyFile == "":
		return errors.New("storage.s3.access_key needs secret_key or secret_key_file")
	case s.SecretKey != "" && s.SecretKeyFile != "":
		return errors.New("storage.s3.secret_key and secret_key_file are exclusive")
	case c.Redirect && c.RedirectTTL <= 0:
		return errors.New("storage.redirect_ttl must be positive")
	}
	return nil
}

// openBlobs returns the configured blob driver.
func openBlobs(
	ctx context.Context, cfg StorageConfig, dataDir string, log *slog.Logger,
) (storage.Driver, error) {
	if cfg.Driver != "s3" {
		return storage.NewFilesystem(filepath.Join(dataDir, "storage"))
	}
	s3cfg, err := cfg.S3.driverConfig()
	if err != nil {
		return nil, err
	}
	log.Info("blob storage on s3", "s3", s3cfg)
	ctx, cancel := context.WithTimeout(ctx, time.Minute)
	defer cancel()
	return storage.NewS3(ctx, s3cfg, log)
}

// driverConfig turns the file's keys into the driver's, reading the secret file.
func (c S3Config) driverConfig() (storage.S3Config, error) {
	secret := c.SecretKey
	if c.SecretKeyFile != "" {
		b, err := os.ReadFile(c.SecretKeyFile)
		if err != nil {
			return storage.S3Config{}, fmt.Errorf("storage.s3.secret_key_file: %w", err)
		}
		secret = strings.TrimSpace(string(b))
	}
	return storage.S3Config{
		Endpoint: c.Endpoint, Region: c.Region, Bucket: c.Bucket, Prefix: c.Prefix,
		AccessKey: c.AccessKey, SecretKey: secret, SessionToken: c.SessionToken,
		PathStyle: c.PathStyle, Insecure: !c.TLS, PartSize: c.PartSize,
		CreateBucket: c.CreateBucket,
	}, nil
}
