package main

import (
	"fmt"
	"strconv"
	"strings"
)

// size is a byte count flag that accepts binary suffixes such as 4MiB.
type size int64

var suffixes = []struct {
	suffix string
	scale  int64
}{{"GiB", 1 << 30}, {"MiB", 1 << 20}, {"KiB", 1 << 10}, {"B", 1}}

// String formats s with the largest suffix that divides it.
func (s *size) String() string {
	for _, u := range suffixes {
		if *s != 0 && int64(*s)%u.scale == 0 {
			return fmt.Sprintf("%d%s", int64(*s)/u.scale, u.suffix)
		}
	}
	return "0"
}

// Set parses a byte count with an optional suffix.
func (s *size) Set(v string) error {
	scale := int64(1)
	for _, u := range suffixes {
		if num, ok := strings.CutSuffix(v, u.suffix); ok {
			v, scale = num, u.scale
			break
		}
	}
	n, err := strconv.ParseInt(v, 10, 64)
	if err != nil || n <= 0 {
		return fmt.Errorf("size %q: want a positive number with an optional KiB, MiB, GiB", v)
	}
	*s = size(n * scale)
	return nil
}
