package p2p

import (
	"context"
	"encoding/json"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	"sync"
	"time"

	"github.com/opencontainers/go-digest"
)

// Cache keeps the blobs an agent fetched on disk, piece by verified piece, under
// a size limit with least-recently-used eviction of whole blobs. Its layout is in
// docs/p2p.md: <dir>/<algorithm>/<hex>/{data,map.json,bitmap}.
type Cache struct {
	dir   string
	limit int64
	log   *slog.Logger

	// onRemove, when set, is called with the digest of each blob evicted or
	// dropped, with mu held; it must not call back into the cache.
	onRemove func(digest.Digest)

	mu      sync.Mutex
	entries map[digest.Digest]*cacheEntry // guarded by mu
	used    int64                         // bytes reserved by entries; guarded by mu
}

// OpenCache opens the cache in dir, creating it if needed, and loads the blobs a
// previous run left there with the pieces they had verified. A limit of zero or
// less means no limit.
func OpenCache(dir string, limit int64, log *slog.Logger) (*Cache, error) {
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return nil, fmt.Errorf("p2p: cache: %w", err)
	}
	c := &Cache{dir: dir, limit: limit, log: log, entries: map[digest.Digest]*cacheEntry{}}
	maps, _ := filepath.Glob(filepath.Join(dir, "*", "*", "map.json"))
	for _, path := range maps {
		e, err := loadEntry(filepath.Dir(path))
		if err != nil {
			log.Warn("dropping a cached blob", "dir", filepath.Dir(path), "err", err)
			os.RemoveAll(filepath.Dir(path))
			continue
		}
		c.entries[e.m.Digest] = e
		c.used += e.m.Size
	}
	return c, nil
}

// Close closes the files of every entry.
func (c *Cache) Close() error {
	c.mu.Lock()
	defer c.mu.Unlock()
	for _, e := range c.entries {
		e.close()
	}
	return nil
}

func (c *Cache) entryDir(d digest.Digest) string {
	return filepath.Join(c.dir, d.Algorithm().String(), d.Encoded())
}

// acquire returns the entry of m's blob, creating it (and evicting others) when
// needed. The caller releases it.
func (c *Cache) acquire(m *PieceMap) (*cacheEntry, error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if e := c.entries[m.Digest]; e != nil {
		if e.m.PieceSize == m.PieceSize && e.m.Size == m.Size {
			e.use(1)
			return e, nil
		}
		if e.refs > 0 {
			return nil, fmt.Errorf("%w: %s in use with another piece size", ErrCacheFull, m.Digest)
		}
		c.remove(e)
	}
	if err := c.makeRoom(m.Size); err != nil {
		return nil, err
	}
	e, err := createEntry(c.entryDir(m.Digest), m)
	if err != nil {
		return nil, err
	}
	c.entries[m.Digest] = e
	c.used += m.Size
	e.use(1)
	return e, nil
}

// lookup returns the entry of d, or nil.
func (c *Cache) lookup(d digest.Digest) *cacheEntry {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.entries[d]
}

// makeRoom evicts unused entries, least recently used first, until size more
// bytes fit. Called with mu held.
func (c *Cache) makeRoom(size int64) error {
	for c.limit > 0 && c.used+size > c.limit {
		var victim *cacheEntry
		for _, e := range c.entries {
			if e.idle() && (victim == nil || e.lastUsed().Before(victim.lastUsed())) {
				victim = e
			}
		}
		if victim == nil {
			return fmt.Errorf("%w: %d bytes wanted, %d of %d in use", ErrCacheFull, size, c.used,
				c.limit)
		}
		c.log.Info("evicting a cached blob", "blob", victim.m.Digest, "size", victim.m.Size)
		c.remove(victim)
	}
	return nil
}

// remove deletes e from memory and disk. Called with mu held.
func (c *Cache) remove(e *cacheEntry) {
	e.close()
	os.RemoveAll(e.dir)
	delete(c.entries, e.m.Digest)
	c.used -= e.m.Size
	if c.onRemove != nil {
		c.onRemove(e.m.Digest)
	}
}

// cacheEntry is one cached blob: its bytes, piece map and verified-piece bitmap.
type cacheEntry struct {
	m    *PieceMap
	dir  string
	data *os.File
	bmf  *os.File // one byte per piece, 1 once verified and synced

	mu      sync.Mutex
	have    bitfield      // guarded by mu
	changed chan struct{} // closed and replaced when a piece is added; guarded by mu
	refs    int           // guarded by mu
	last    time.Time     // guarded by mu
}

func createEntry(dir string, m *PieceMap) (*cacheEntry, error) {
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return nil, err
	}
	b, _ := json.Marshal(m)
	if err := os.WriteFile(filepath.Join(dir, "map.json"), b, 0o600); err != nil {
		return nil, err
	}
	return openEntry(dir, m)
}

func loadEntry(dir string) (*cacheEntry, error) {
	b, err := os.ReadFile(filepath.Join(dir, "map.json"))
	if err != nil {
		return nil, err
	}
	var m PieceMap
	if err := json.Unmarshal(b, &m); err != nil {
		return nil, err
	}
	if err := m.Validate(); err != nil {
		return nil, err
	}
	return openEntry(dir, &m)
}

// openEntry opens the data and bitmap files of dir and reads the bitmap.
func openEntry(dir string, m *PieceMap) (*cacheEntry, error) {
	data, err := os.OpenFile(filepath.Join(dir, "data"), os.O_RDWR|os.O_CREATE, 0o600)
	if err != nil {
		return nil, err
	}
	bmf, err := os.OpenFile(filepath.Join(dir, "bitmap"), os.O_RDWR|os.O_CREATE, 0o600)
	if err != nil {
		data.Close()
		return nil, err
	}
	e := &cacheEntry{m: m, dir: dir, data: data, bmf: bmf, have: newBitfield(m.Count()),
		changed: make(chan struct{}), last: time.Now()}
	raw := make([]byte, m.Count())
	n, _ := bmf.ReadAt(raw, 0)
	for i := range raw[:n] {
		if raw[i] == 1 {
			e.have.set(i)
		}
	}
	if fi, err := bmf.Stat(); err == nil {
		e.last = fi.ModTime()
	}
	return e, nil
}

func (e *cacheEntry) close() {
	e.data.Close()
	e.bmf.Close()
}

// use adds delta to the entry's users and marks it used now.
func (e *cacheEntry) use(delta int) {
	e.mu.Lock()
	defer e.mu.Unlock()
	e.refs += delta
	e.last = time.Now()
}

func (e *cacheEntry) release() { e.use(-1) }

func (e *cacheEntry) idle() bool {
	e.mu.Lock()
	defer e.mu.Unlock()
	return e.refs == 0
}

func (e *cacheEntry) lastUsed() time.Time {
	e.mu.Lock()
	defer e.mu.Unlock()
	return e.last
}

// writePiece stores verified piece i durably, then marks it in the bitmap.
func (e *cacheEntry) writePiece(i int, data []byte) error {
	if _, err := e.data.WriteAt(data, e.m.Offset(i)); err != nil {
		return err
	}
	if err := e.data.Sync(); err != nil {
		return err
	}
	if _, err := e.bmf.WriteAt([]byte{1}, int64(i)); err != nil {
		return err
	}
	e.mu.Lock()
	defer e.mu.Unlock()
	e.have.set(i)
	close(e.changed)
	e.changed = make(chan struct{})
	return nil
}

// snapshot returns a copy of the pieces held and a channel closed at the next change.
func (e *cacheEntry) snapshot() (bitfield, <-chan struct{}) {
	e.mu.Lock()
	defer e.mu.Unlock()
	return append(bitfield(nil), e.have...), e.changed
}

func (e *cacheEntry) complete() bool {
	have, _ := e.snapshot()
	return have.count() == e.m.Count()
}

// bits waits until more than known pieces are held or ctx ends.
func (e *cacheEntry) bits(ctx context.Context, known int) bitfield {
	for {
		have, changed := e.snapshot()
		if have.count() > known {
			return have
		}
		select {
		case <-changed:
		case <-ctx.Done():
			return have
		}
	}
}

// pick returns a piece of want that the entry holds.
func (e *cacheEntry) pick(want bitfield, _ bool) (int, error) {
	have, _ := e.snapshot()
	for i := range e.m.Count() {
		if want.has(i) && have.has(i) {
			return i, nil
		}
	}
	return 0, ErrNotHeld
}

// offers returns the error pick would return: nil when the entry holds a piece of want.
func (e *cacheEntry) offers(want bitfield, urgent bool) error {
	_, err := e.pick(want, urgent)
	return err
}

// readPiece returns piece i, which must be held.
func (e *cacheEntry) readPiece(_ context.Context, i int) ([]byte, error) {
	if have, _ := e.snapshot(); !have.has(i) {
		return nil, ErrNotHeld
	}
	data := make([]byte, e.m.Len(i))
	if _, err := e.data.ReadAt(data, e.m.Offset(i)); err != nil {
		return nil, err
	}
	return data, nil
}

// holder returns the cached blob d for serving to other peers.
func (c *Cache) holder(_ context.Context, d digest.Digest) (holder, error) {
	if e := c.lookup(d); e != nil {
		return e, nil
	}
	return nil, fmt.Errorf("%w: %s", ErrNotHeld, d)
}
