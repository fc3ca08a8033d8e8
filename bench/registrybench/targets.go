package main

import (
	"fmt"
	"os"
	"path/filepath"
)

// Credentials of the admin user the benchmark creates in Berth, whose /v2/ needs
// authentication. The image and blob go to repositories of the project "library",
// which exists from the first start and is public: the manifest GET load pulls
// anonymously, pushes send the admin's Basic credentials.
const (
	berthUser     = "admin"
	berthPassword = "registrybench-admin"
)

// berthSpec launches `berth serve` on addr with its data under dir and its blobs in
// bucket, or under dir when bucket is nil. A debug address serves pprof.
func berthSpec(bin string, bucket *s3Bucket, debugAddr string) serverSpec {
	env := []string{"BERTH_ADMIN_PASSWORD=" + berthPassword}
	if bucket != nil {
		env = append(env, berthS3Env(bucket)...)
	}
	if debugAddr != "" {
		env = append(env, "BERTH_DEBUG_ADDR="+debugAddr)
	}
	return serverSpec{
		name:      "berth",
		bin:       bin,
		readyPath: "/readyz",
		env:       env,
		user:      berthUser,
		password:  berthPassword,
		args: func(addr, dir string) ([]string, error) {
			return []string{"serve", "--addr", addr, "--data-dir", filepath.Join(dir, "data")}, nil
		},
	}
}

// distributionSpec launches CNCF Distribution with a generated configuration:
// filesystem storage (or its s3 driver on bucket), the in-memory blob descriptor
// cache of its example config, error-level logs, no access log and no auth.
func distributionSpec(bin string, bucket *s3Bucket) serverSpec {
	return serverSpec{
		name:      "distribution",
		bin:       bin,
		readyPath: "/v2/",
		args: func(addr, dir string) ([]string, error) {
			path := filepath.Join(dir, "config.yml")
			store := fmt.Sprintf("  filesystem:\n    rootdirectory: %s\n",
				filepath.Join(dir, "data"))
			if bucket != nil {
				store = distributionS3Storage(bucket)
			}
			conf := fmt.Sprintf(distributionConfig, store, addr)
			if err := os.WriteFile(path, []byte(conf), 0o644); err != nil {
				return nil, err
			}
			return []string{"serve", path}, nil
		},
	}
}

const distributionConfig = `version: 0.1
log:
  level: error
  accesslog:
    disabled: true
storage:
%s  cache:
    blobdescriptor: inmemory
  delete:
    enabled: true
http:
  addr: %s
`
