package p2p

import (
	"bytes"
	"context"
	"errors"
	"io"
	"log/slog"
	"slices"
	"testing"

	"github.com/opencontainers/go-digest"
	"github.com/prometheus/client_golang/prometheus"
)

var discard = slog.New(slog.NewTextHandler(io.Discard, nil))

// cachedBlob returns a blob of n bytes and its map in pieces of 1000 bytes.
func cachedBlob(t *testing.T, n int) ([]byte, *PieceMap) {
	t.Helper()
	blob := randomBlob(t, n)
	m, err := ComputePieceMap(digest.FromBytes(blob), int64(n), 1000, bytes.NewReader(blob))
	if err != nil {
		t.Fatal(err)
	}
	return blob, m
}

func writePieces(t *testing.T, e *cacheEntry, blob []byte, pieces ...int) {
	t.Helper()
	for _, i := range pieces {
		if err := e.writePiece(i, blob[e.m.Offset(i):e.m.Offset(i)+e.m.Len(i)]); err != nil {
			t.Fatal(err)
		}
	}
}

// TestCacheResume reopens a cache: the pieces written before are held, with
// their bytes, and the others are not.
func TestCacheResume(t *testing.T) {
	dir := t.TempDir()
	blob, m := cachedBlob(t, 4500)
	c, err := OpenCache(dir, 0, discard)
	if err != nil {
		t.Fatal(err)
	}
	e, err := c.acquire(m)
	if err != nil {
		t.Fatal(err)
	}
	writePieces(t, e, blob, 0, 3, 4)
	c.Close() // what a kill leaves: files written, nothing released

	c, err = OpenCache(dir, 0, discard)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	e = c.lookup(m.Digest)
	if e == nil {
		t.Fatal("the reopened cache lost the blob")
	}
	for i := range m.Count() {
		data, err := e.readPiece(context.Background(), i)
		held := i == 0 || i == 3 || i == 4
		if held && (err != nil || m.Verify(i, data) != nil) {
			t.Errorf("piece %d: err %v, want its verified bytes", i, err)
		}
		if !held && !errors.Is(err, ErrNotHeld) {
			t.Errorf("piece %d: err %v, want ErrNotHeld", i, err)
		}
	}
}

// TestCacheEviction fills a cache of 10,000 bytes: the least recently used idle
// blob goes first, and a blob in use is never evicted.
func TestCacheEviction(t *testing.T) {
	c, err := OpenCache(t.TempDir(), 10_000, discard)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	m := NewMetrics()
	var removed []digest.Digest
	c.onRemove = func(d digest.Digest) {
		removed = append(removed, d)
		m.forgetBlob(d)
	}
	_, a := cachedBlob(t, 4000)
	_, b := cachedBlob(t, 4000)
	_, big := cachedBlob(t, 4000)
	_, huge := cachedBlob(t, 20_000)
	for _, blob := range []*PieceMap{a, b} {
		m.downloaded.WithLabelValues("peer", blob.Digest.String()).Add(1)
		m.uploaded.WithLabelValues("peer", blob.Digest.String()).Add(1)
	}
	ea := mustAcquire(t, c, a)
	eb := mustAcquire(t, c, b)
	eb.release()
	ea.release()
	// a was released last, so b is the least recently used
	eBig := mustAcquire(t, c, big)
	if c.lookup(b.Digest) != nil || c.lookup(a.Digest) == nil {
		t.Errorf("evicted the wrong blob: b held %v, a held %v",
			c.lookup(b.Digest) != nil, c.lookup(a.Digest) != nil)
	}
	if !slices.Equal(removed, []digest.Digest{b.Digest}) {
		t.Errorf("onRemove saw %v, want b only", removed)
	}
	// The evicted blob's metric series are gone, the others' are kept.
	if n := series(m.downloaded) + series(m.uploaded); n != 2 {
		t.Errorf("%d per-blob series after b's eviction, want a's 2", n)
	}
	mustAcquire(t, c, a) // in use from here on, like big
	if _, err := c.acquire(b); !errors.Is(err, ErrCacheFull) {
		t.Errorf("acquire with every blob in use: err %v, want ErrCacheFull", err)
	}
	if _, err := c.acquire(huge); !errors.Is(err, ErrCacheFull) {
		t.Errorf("acquire of a blob larger than the cache: err %v, want ErrCacheFull", err)
	}
	eBig.release()
	mustAcquire(t, c, b)
	if c.lookup(big.Digest) != nil {
		t.Errorf("the released blob was not evicted for a new one")
	}
}

// series returns how many series c holds.
func series(c prometheus.Collector) int {
	ch := make(chan prometheus.Metric, 64)
	c.Collect(ch)
	close(ch)
	return len(ch)
}

func mustAcquire(t *testing.T, c *Cache, m *PieceMap) *cacheEntry {
	t.Helper()
	e, err := c.acquire(m)
	if err != nil {
		t.Fatal(err)
	}
	return e
}
