package main

import (
	"io"

	"github.com/opencontainers/go-digest"
)

// blob is a generated blob: the body is produced on demand from its seed.
type blob struct {
	seed   uint64
	size   int64
	digest digest.Digest
}

// newBlob computes the digest of the generated body once, before any timing.
func newBlob(seed uint64, size int64) (blob, error) {
	b := blob{seed: seed, size: size}
	d := digest.Canonical.Digester()
	if _, err := io.CopyBuffer(d.Hash(), b.reader(), make([]byte, 1<<20)); err != nil {
		return b, err
	}
	b.digest = d.Digest()
	return b, nil
}

// reader returns a fresh stream of the blob's body.
func (b blob) reader() io.Reader { return newPatternReader(b.seed, b.size) }
