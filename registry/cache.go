package registry

import (
	"container/list"
	"sync"

	"github.com/opencontainers/go-digest"
)

// manifestCache keeps manifest bodies by digest, least recently used out first.
// Bodies are immutable by digest, so a cached body is never stale.
type manifestCache struct {
	limit int64

	mu    sync.Mutex
	used  int64                           // guarded by mu
	order *list.List                      // guarded by mu; front is most recent
	items map[digest.Digest]*list.Element // guarded by mu
}

type cacheEntry struct {
	d    digest.Digest
	body []byte
}

func newManifestCache(limit int64) *manifestCache {
	return &manifestCache{limit: limit, order: list.New(), items: map[digest.Digest]*list.Element{}}
}

func (c *manifestCache) get(d digest.Digest) ([]byte, bool) {
	if c.limit <= 0 {
		return nil, false
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	el, ok := c.items[d]
	if !ok {
		return nil, false
	}
	c.order.MoveToFront(el)
	return el.Value.(*cacheEntry).body, true
}

func (c *manifestCache) add(d digest.Digest, body []byte) {
	size := int64(len(body))
	if c.limit <= 0 || size > c.limit/4 {
		return
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	if _, ok := c.items[d]; ok {
		return
	}
	c.items[d] = c.order.PushFront(&cacheEntry{d: d, body: body})
	c.used += size
	for c.used > c.limit {
		last := c.order.Back()
		e := last.Value.(*cacheEntry)
		c.order.Remove(last)
		delete(c.items, e.d)
		c.used -= int64(len(e.body))
	}
}
