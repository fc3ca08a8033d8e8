package main

import (
	"bytes"
	"io"
	"testing"
	"testing/iotest"
)

func TestPatternReader(t *testing.T) {
	const n = 3*patternBlock + 5
	whole, err := io.ReadAll(newPatternReader(1, n))
	if err != nil || len(whole) != n {
		t.Fatalf("ReadAll = %d bytes, %v; want %d", len(whole), err, n)
	}
	if bytes.Equal(whole[:patternBlock], whole[patternBlock:2*patternBlock]) {
		t.Error("consecutive blocks are equal")
	}
	// Small, unaligned reads must yield the same bytes as large ones.
	if err := iotest.TestReader(newPatternReader(1, n), whole); err != nil {
		t.Error(err)
	}
	oneByte := iotest.OneByteReader(newPatternReader(1, 20))
	if err := iotest.TestReader(oneByte, whole[:20]); err != nil {
		t.Error(err)
	}
}

func TestSizeSet(t *testing.T) {
	tests := []struct {
		in   string
		want size
		err  bool
	}{
		{"2GiB", 2 << 30, false},
		{"512MiB", 512 << 20, false},
		{"4096", 4096, false},
		{"0", 0, false},
		{"1.5GiB", 0, true},
		{"-1", 0, true},
	}
	for _, tt := range tests {
		var got size
		err := got.Set(tt.in)
		if (err != nil) != tt.err || got != tt.want {
			t.Errorf("Set(%q) = %d, %v; want %d, error %v", tt.in, got, err, tt.want, tt.err)
		}
	}
}
