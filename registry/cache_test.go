package registry

import (
	"bytes"
	"fmt"
	"testing"

	"github.com/opencontainers/go-digest"
)

func TestManifestCache(t *testing.T) {
	body := func(i int) []byte { return bytes.Repeat([]byte{byte('a' + i)}, 25) }
	key := func(i int) digest.Digest { return digest.FromBytes(body(i)) }
	c := newManifestCache(100)
	for i := range 4 {
		c.add(key(i), body(i))
	}
	if _, ok := c.get(key(0)); !ok { // 0 becomes the most recent
		t.Fatal("entry 0 missing before the cache is full")
	}
	c.add(key(4), body(4)) // 125 bytes: the least recent, 1, goes
	for i, want := range []bool{true, false, true, true, true} {
		got, ok := c.get(key(i))
		if ok != want || ok && !bytes.Equal(got, body(i)) {
			t.Errorf("get(%d) = %q, %v; want present %v", i, got, ok, want)
		}
	}
	if c.used != 100 {
		t.Fatalf("used = %d, want 100", c.used)
	}
}

func TestManifestCacheLimits(t *testing.T) {
	tests := []struct {
		limit int64
		size  int
		want  bool
	}{
		{100, 25, true},
		{100, 26, false}, // over a quarter of the cache
		{0, 1, false},
		{-1, 1, false},
	}
	for _, tt := range tests {
		t.Run(fmt.Sprint(tt.limit, "/", tt.size), func(t *testing.T) {
			c := newManifestCache(tt.limit)
			b := make([]byte, tt.size)
			c.add(digest.FromBytes(b), b)
			if _, ok := c.get(digest.FromBytes(b)); ok != tt.want {
				t.Fatalf("cached = %v, want %v", ok, tt.want)
			}
		})
	}
}
