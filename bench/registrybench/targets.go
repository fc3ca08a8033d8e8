package main

import (
	"fmt"
	"os"
	"path/filepath"
)

// berthSpec launches `berth serve` on addr with its data under dir.
func berthSpec(bin string) serverSpec {
	return serverSpec{
		name:      "berth",
		bin:       bin,
		readyPath: "/readyz",
		args: func(addr, dir string) ([]string, error) {
			return []string{"serve", "--addr", addr, "--data-dir", filepath.Join(dir, "data")}, nil
		},
	}
}

// distributionSpec launches CNCF Distribution with a generated configuration:
// filesystem storage, the in-memory blob descriptor cache of its example config,
// error-level logs, no access log and no auth.
func distributionSpec(bin string) serverSpec {
	return serverSpec{
		name:      "distribution",
		bin:       bin,
		readyPath: "/v2/",
		args: func(addr, dir string) ([]string, error) {
			path := filepath.Join(dir, "config.yml")
			conf := fmt.Sprintf(distributionConfig, filepath.Join(dir, "data"), addr)
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
  filesystem:
    rootdirectory: %s
  cache:
    blobdescriptor: inmemory
  delete:
    enabled: true
http:
  addr: %s
`
