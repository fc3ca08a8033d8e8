package p2p

import (
	"bytes"
	"crypto/rand"
	"errors"
	"testing"

	"github.com/opencontainers/go-digest"
)

func randomBlob(t *testing.T, n int) []byte {
	t.Helper()
	b := make([]byte, n)
	rand.Read(b)
	return b
}

func TestComputePieceMap(t *testing.T) {
	blob := randomBlob(t, 10_000)
	d := digest.FromBytes(blob)
	tests := []struct {
		name      string
		data      []byte
		size      int64
		pieceSize int64
		wantN     int
		wantErr   error
	}{
		{"exact pieces", blob, 10_000, 1000, 10, nil},
		{"short last piece", blob, 10_000, 3000, 4, nil},
		{"one piece", blob, 10_000, 1 << 20, 1, nil},
		{"blob shorter than size", blob[:9000], 10_000, 1000, 0, ErrMapInvalid},
		{"blob longer than size", append(blob, 0), 10_000, 1000, 0, ErrMapInvalid},
		{"other bytes", randomBlob(t, 10_000), 10_000, 1000, 0, ErrBlobMismatch},
		{"zero piece size", blob, 10_000, 0, 0, ErrMapInvalid},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			m, err := ComputePieceMap(d, tc.size, tc.pieceSize, bytes.NewReader(tc.data))
			if !errors.Is(err, tc.wantErr) {
				t.Fatalf("err = %v, want %v", err, tc.wantErr)
			}
			if err != nil {
				return
			}
			if m.Count() != tc.wantN {
				t.Errorf("%d pieces, want %d", m.Count(), tc.wantN)
			}
			if err := m.Validate(); err != nil {
				t.Errorf("Validate: %v", err)
			}
			for i := range m.Count() {
				piece := blob[m.Offset(i) : m.Offset(i)+m.Len(i)]
				if err := m.Verify(i, piece); err != nil {
					t.Errorf("piece %d: %v", i, err)
				}
			}
		})
	}
}

func TestVerifyRejects(t *testing.T) {
	blob := randomBlob(t, 2500)
	m, err := ComputePieceMap(digest.FromBytes(blob), 2500, 1000, bytes.NewReader(blob))
	if err != nil {
		t.Fatal(err)
	}
	bad := append([]byte(nil), blob[:1000]...)
	bad[10] ^= 1
	tests := []struct {
		name  string
		index int
		data  []byte
	}{
		{"flipped bit", 0, bad},
		{"another piece", 0, blob[1000:2000]},
		{"short", 2, blob[2000:2400]},
		{"index past the end", 3, blob[:500]},
		{"negative index", -1, blob[:1000]},
	}
	for _, tc := range tests {
		if err := m.Verify(tc.index, tc.data); !errors.Is(err, ErrPieceMismatch) {
			t.Errorf("%s: err = %v, want ErrPieceMismatch", tc.name, err)
		}
	}
}

func TestValidateRejects(t *testing.T) {
	good := PieceMap{Digest: digest.FromString("x"), Size: 10, PieceSize: 4,
		Pieces: []string{sha(0), sha(1), sha(2)}}
	if err := good.Validate(); err != nil {
		t.Fatalf("valid map: %v", err)
	}
	tests := []struct {
		name string
		edit func(*PieceMap)
	}{
		{"bad digest", func(m *PieceMap) { m.Digest = "sha256:zz" }},
		{"missing piece", func(m *PieceMap) { m.Pieces = m.Pieces[:2] }},
		{"extra piece", func(m *PieceMap) { m.Pieces = append(m.Pieces, sha(3)) }},
		{"not hex", func(m *PieceMap) { m.Pieces[0] = "xyz" }},
		{"negative size", func(m *PieceMap) { m.Size = -1 }},
		{"zero piece size", func(m *PieceMap) { m.PieceSize = 0 }},
	}
	for _, tc := range tests {
		m := good
		m.Pieces = append([]string(nil), good.Pieces...)
		tc.edit(&m)
		if err := m.Validate(); !errors.Is(err, ErrMapInvalid) {
			t.Errorf("%s: err = %v, want ErrMapInvalid", tc.name, err)
		}
	}
}

func sha(i byte) string { return digest.FromBytes([]byte{i}).Encoded() }

// TestPieceSizeFor checks that a small blob gets at most 64 pieces, each of a
// power of two from 256 KiB up to the configured size.
func TestPieceSizeFor(t *testing.T) {
	tests := []struct {
		name        string
		size, limit int64
		want        int64
	}{
		{"large blob keeps the limit", 2 << 30, 4 << 20, 4 << 20},
		{"64 pieces of the limit", 256 << 20, 4 << 20, 4 << 20},
		{"16 MiB in 64 pieces", 16 << 20, 1 << 20, 256 << 10},
		{"just over 16 MiB", 16<<20 + 1, 1 << 20, 512 << 10},
		{"100 MiB", 100 << 20, 4 << 20, 2 << 20},
		{"tiny blob", 1000, 4 << 20, 256 << 10},
		{"empty blob", 0, 4 << 20, 256 << 10},
		{"limit below the floor", 16 << 20, 64 << 10, 64 << 10},
	}
	for _, tt := range tests {
		if got := PieceSizeFor(tt.size, tt.limit); got != tt.want {
			t.Errorf("%s: PieceSizeFor(%d, %d) = %d, want %d", tt.name, tt.size, tt.limit,
				got, tt.want)
		}
	}
}
