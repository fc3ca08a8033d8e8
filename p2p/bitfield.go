package p2p

// bitfield is a set of piece indexes, one bit each.
type bitfield []byte

func newBitfield(n int) bitfield { return make(bitfield, (n+7)/8) }

// has reports whether piece i is in the set.
func (b bitfield) has(i int) bool {
	return i >= 0 && i/8 < len(b) && b[i/8]&(1<<(i%8)) != 0
}

func (b bitfield) set(i int) { b[i/8] |= 1 << (i % 8) }

// count returns the number of pieces in the set.
func (b bitfield) count() int {
	n := 0
	for _, x := range b {
		for ; x != 0; x &= x - 1 {
			n++
		}
	}
	return n
}
