package main

import (
	"encoding/binary"
	"io"
)

// patternBlock is the length of the pseudo-random block that patternReader repeats.
const patternBlock = 1 << 20

// patternReader streams a deterministic pseudo-random body of a given length without
// holding it in memory. It repeats one block of splitmix64 output and stamps each
// repetition's first 8 bytes with its index, so no two blocks are equal and the
// generator costs little more than a memory copy (the client shares two cores with
// the server under test).
type patternReader struct {
	block []byte
	off   int64 // bytes already returned
	size  int64
}

func newPatternReader(seed uint64, n int64) *patternReader {
	block := make([]byte, patternBlock)
	for i := 0; i < len(block); i += 8 {
		seed += 0x9e3779b97f4a7c15
		z := seed
		z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9
		z = (z ^ (z >> 27)) * 0x94d049bb133111eb
		binary.LittleEndian.PutUint64(block[i:], z^(z>>31))
	}
	return &patternReader{block: block, size: n}
}

// Read fills p with the next bytes of the body.
func (r *patternReader) Read(p []byte) (int, error) {
	if r.off >= r.size {
		return 0, io.EOF
	}
	p = p[:min(int64(len(p)), r.size-r.off)]
	n := 0
	for n < len(p) {
		pos := (r.off + int64(n)) % patternBlock
		c := copy(p[n:], r.block[pos:])
		r.stamp(p[n:n+c], r.off+int64(n), pos)
		n += c
	}
	r.off += int64(n)
	return n, nil
}

// stamp overwrites the block index bytes that fall inside chunk, which starts at
// body offset at and block position pos.
func (r *patternReader) stamp(chunk []byte, at, pos int64) {
	if pos >= 8 {
		return
	}
	var idx [8]byte
	binary.LittleEndian.PutUint64(idx[:], uint64(at/patternBlock))
	copy(chunk, idx[pos:])
}
