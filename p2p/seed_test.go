package p2p

import (
	"errors"
	"testing"
)

// TestSeedPick checks super-seeding: distinct pieces first, a piece sent already
// only to a stalled asker.
func TestSeedPick(t *testing.T) {
	b := &seedBlob{seed: &Seed{}, m: &PieceMap{Pieces: make([]string, 4)}, sent: make([]int, 4)}
	all := newBitfield(4)
	for i := range 4 {
		all.set(i)
	}
	only2 := newBitfield(4)
	only2.set(2)
	steps := []struct {
		name    string
		want    bitfield
		urgent  bool
		wantI   int
		wantErr error
	}{
		{"first asker", all, false, 0, nil},
		{"second asker gets another piece", all, false, 1, nil},
		{"asker of piece 2", only2, false, 2, nil},
		{"piece 2 again, not stalled", only2, false, 0, ErrDeclined},
		{"piece 2 again, stalled", only2, true, 2, nil},
		{"the last unsent piece", all, false, 3, nil},
		{"everything sent", all, false, 0, ErrDeclined},
		{"nothing wanted", newBitfield(4), true, 0, ErrNotHeld},
	}
	for _, s := range steps {
		i, err := b.pick(s.want, s.urgent)
		if !errors.Is(err, s.wantErr) || (err == nil && i != s.wantI) {
			t.Errorf("%s: got %d, %v; want %d, %v", s.name, i, err, s.wantI, s.wantErr)
		}
	}
}
