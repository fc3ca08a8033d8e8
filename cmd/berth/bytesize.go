package main

import (
	"fmt"
	"strconv"
	"strings"
)

// byteSize is a flag holding a byte count written with an optional binary
// suffix: 512KiB, 100MiB, 20GiB.
type byteSize int64

var byteSuffixes = []struct {
	suffix string
	scale  int64
}{{"GiB", 1 << 30}, {"MiB", 1 << 20}, {"KiB", 1 << 10}, {"B", 1}}

// String formats the size with the largest suffix that divides it.
func (b *byteSize) String() string {
	for _, s := range byteSuffixes {
		if *b != 0 && int64(*b)%s.scale == 0 {
			return fmt.Sprintf("%d%s", int64(*b)/s.scale, s.suffix)
		}
	}
	return "0"
}

// Set parses a byte count with an optional suffix.
func (b *byteSize) Set(v string) error {
	scale := int64(1)
	for _, s := range byteSuffixes {
		if num, ok := strings.CutSuffix(v, s.suffix); ok {
			v, scale = num, s.scale
			break
		}
	}
	n, err := strconv.ParseInt(v, 10, 64)
	if err != nil || n < 0 {
		return fmt.Errorf("size %q: want a number with an optional KiB, MiB or GiB suffix", v)
	}
	*b = byteSize(n * scale)
	return nil
}

// Type names the flag's type in help.
func (b *byteSize) Type() string { return "size" }
