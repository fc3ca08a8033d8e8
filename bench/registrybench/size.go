package main

import (
	"fmt"
	"strconv"
	"strings"
)

// size is a byte count flag that accepts binary suffixes such as 512MiB or 2GiB.
type size int64

// sizeUnit is a suffix of a size flag and the number of bytes it stands for.
type sizeUnit struct {
	suffix string
	scale  int64
}

// sizeUnits lists the suffixes from the largest down.
func sizeUnits() []sizeUnit {
	return []sizeUnit{{"GiB", 1 << 30}, {"MiB", 1 << 20}, {"KiB", 1 << 10}, {"B", 1}}
}

// String formats s with the largest suffix that divides it.
func (s *size) String() string {
	for _, u := range sizeUnits() {
		if int64(*s) != 0 && int64(*s)%u.scale == 0 {
			return fmt.Sprintf("%d%s", int64(*s)/u.scale, u.suffix)
		}
	}
	return "0"
}

// Set parses a byte count with an optional suffix.
func (s *size) Set(v string) error {
	scale := int64(1)
	for _, u := range sizeUnits() {
		if num, ok := strings.CutSuffix(v, u.suffix); ok {
			v, scale = num, u.scale
			break
		}
	}
	n, err := strconv.ParseInt(strings.TrimSpace(v), 10, 64)
	if err != nil || n < 0 {
		return fmt.Errorf("bad size %q: want a count such as 1GiB, 512MiB or 4096", v)
	}
	*s = size(n * scale)
	return nil
}

// mib reports n bytes in binary megabytes.
func mib(n int64) float64 { return float64(n) / (1 << 20) }
