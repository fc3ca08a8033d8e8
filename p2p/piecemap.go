package p2p

import (
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"io"

	"github.com/opencontainers/go-digest"
)

// DefaultPieceSize is the piece size when none is configured.
const DefaultPieceSize = 4 << 20

// A blob of fewer than minPieces pieces of the configured size is cut in smaller
// pieces, down to minPieceSize: a relay generation costs a piece time, and a blob
// of few pieces leaves most links idle while its first pieces spread (docs/p2p.md).
const (
	minPieces    = 64
	minPieceSize = 256 << 10
)

// PieceSizeFor returns the piece size of a blob of size bytes whose pieces are at
// most limit bytes: limit, or for a blob of fewer than 64 such pieces the smallest
// power of two from 256 KiB up that cuts it in at most 64 pieces.
func PieceSizeFor(size, limit int64) int64 {
	p := int64(minPieceSize)
	for p < limit && p*minPieces < size {
		p *= 2
	}
	return min(p, limit)
}

// PieceMap describes how a blob splits into fixed-size pieces: the SHA-256 of
// every piece, in order. The last piece may be shorter.
type PieceMap struct {
	Digest    digest.Digest `json:"digest"`
	Size      int64         `json:"size"`
	PieceSize int64         `json:"piece_size"`
	Pieces    []string      `json:"pieces"`
}

// ComputePieceMap reads the size bytes of blob d from r and returns its piece map.
// It fails when r holds more or fewer bytes, or when they do not match d.
func ComputePieceMap(d digest.Digest, size, pieceSize int64, r io.Reader) (*PieceMap, error) {
	if pieceSize <= 0 {
		return nil, fmt.Errorf("%w: piece size %d", ErrMapInvalid, pieceSize)
	}
	m := &PieceMap{Digest: d, Size: size, PieceSize: pieceSize}
	whole := d.Algorithm().Hash()
	buf := make([]byte, 1<<20)
	for off := int64(0); off < size; off += pieceSize {
		h := sha256.New()
		n, err := io.CopyBuffer(io.MultiWriter(h, whole), io.LimitReader(r, pieceSize), buf)
		if err != nil {
			return nil, err
		}
		if n != min(pieceSize, size-off) {
			return nil, fmt.Errorf("%w: blob %s shorter than %d bytes", ErrMapInvalid, d, size)
		}
		m.Pieces = append(m.Pieces, hex.EncodeToString(h.Sum(nil)))
	}
	if n, _ := io.ReadFull(r, buf[:1]); n != 0 {
		return nil, fmt.Errorf("%w: blob %s longer than %d bytes", ErrMapInvalid, d, size)
	}
	if digest.NewDigest(d.Algorithm(), whole) != d {
		return nil, fmt.Errorf("%w: %s", ErrBlobMismatch, d)
	}
	return m, nil
}

// Count returns the number of pieces.
func (m *PieceMap) Count() int { return len(m.Pieces) }

// Offset returns the offset of piece i in the blob.
func (m *PieceMap) Offset(i int) int64 { return int64(i) * m.PieceSize }

// Len returns the length of piece i.
func (m *PieceMap) Len(i int) int64 { return min(m.PieceSize, m.Size-m.Offset(i)) }

// Verify reports ErrPieceMismatch unless data is piece i.
func (m *PieceMap) Verify(i int, data []byte) error {
	if i < 0 || i >= len(m.Pieces) || int64(len(data)) != m.Len(i) {
		return fmt.Errorf("%w: piece %d of %s has %d bytes", ErrPieceMismatch, i, m.Digest,
			len(data))
	}
	sum := sha256.Sum256(data)
	if hex.EncodeToString(sum[:]) != m.Pieces[i] {
		return fmt.Errorf("%w: piece %d of %s", ErrPieceMismatch, i, m.Digest)
	}
	return nil
}

// Validate reports whether the map is consistent: a valid digest, a positive piece
// size and one 64-hex-digit entry per piece.
func (m *PieceMap) Validate() error {
	if err := m.Digest.Validate(); err != nil {
		return fmt.Errorf("%w: %v", ErrMapInvalid, err)
	}
	if m.PieceSize <= 0 || m.Size < 0 {
		return fmt.Errorf("%w: size %d, piece size %d", ErrMapInvalid, m.Size, m.PieceSize)
	}
	want := (m.Size + m.PieceSize - 1) / m.PieceSize
	if int64(len(m.Pieces)) != want {
		return fmt.Errorf("%w: %d pieces, want %d", ErrMapInvalid, len(m.Pieces), want)
	}
	for _, p := range m.Pieces {
		if b, err := hex.DecodeString(p); err != nil || len(b) != sha256.Size {
			return fmt.Errorf("%w: piece digest %q", ErrMapInvalid, p)
		}
	}
	return nil
}
