package kvnode

import (
	"bytes"
	"cmp"
	"context"
	"slices"
	"strings"
	"sync"
	"time"
)

// Watch on TiKV is a poll. txnkv has no change feed (TiKV's own feed, which TiCDC
// reads, is a per-region stream that client-go does not expose), so every Watch runs
// a goroutine that, each WatchInterval, takes a timestamp from PD, scans the whole
// prefix at that timestamp and emits what differs from the previous scan.
//
// Cost: per watch and interval, one PD timestamp and one range scan of the prefix;
// per watch, the prefix's keys and values in memory. Watch small prefixes.
//
// What a watcher sees:
//   - Changes committed by other processes arrive up to one interval late and
//     collapse: between two scans only each key's last value is seen, and a key
//     created and deleted between two scans is not seen at all.
//   - Changes committed through this same TiKVStore are also journaled in memory with
//     their commit timestamps. Each poll first emits the journaled changes committed
//     between the previous scan and this one, in commit order, and then the rest of
//     the scan's differences in key order. So a process sees each of its own writes,
//     also up to one interval late; one whose commit report reaches the journal only
//     after a scan that already saw it collapses like a remote change.
//
// Per key, changes always come in commit order. See docs/metadata-backends.md.

// Watch polls prefix and sends its changes until ctx ends or the store closes. When
// the first scan fails, the channel is closed at once.
func (s *TiKVStore) Watch(ctx context.Context, prefix string) <-chan Change {
	out := make(chan Change, 64)
	w := &tikvWatcher{prefix: prefix}
	s.watchers.add(w)
	kvs, ts, err := s.scanAt(ctx, prefix)
	if err != nil || !s.startWatch() {
		if err != nil {
			s.log.Warn("tikv watch not started", "prefix", prefix, "err", err)
		}
		s.watchers.remove(w)
		close(out)
		return out
	}
	go s.poll(ctx, w, out, toMap(kvs), ts)
	return out
}

// startWatch counts one more watch goroutine, or reports false once Close began.
func (s *TiKVStore) startWatch() bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.closed {
		return false
	}
	s.wg.Add(1)
	return true
}

// poll is the goroutine of one watch; state is the prefix as of timestamp ts.
func (s *TiKVStore) poll(
	ctx context.Context, w *tikvWatcher, out chan<- Change, state map[string][]byte, ts uint64,
) {
	defer s.wg.Done()
	defer close(out)
	defer s.watchers.remove(w)
	tick := time.NewTicker(s.interval)
	defer tick.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-s.done:
			return
		case <-tick.C:
		}
		kvs, next, err := s.scanAt(ctx, w.prefix)
		if err != nil {
			s.log.Debug("tikv watch scan failed", "prefix", w.prefix, "err", err)
			continue // the next scan catches up: nothing is lost but detail
		}
		for _, c := range diff(state, w.take(ts, next), kvs) {
			select {
			case out <- c:
			case <-ctx.Done():
				return
			case <-s.done:
				return
			}
		}
		state, ts = toMap(kvs), next
	}
}

// scanAt reads every key under prefix at a fresh timestamp and returns it too.
func (s *TiKVStore) scanAt(ctx context.Context, prefix string) ([]KV, uint64, error) {
	ts, err := s.timestamp(ctx)
	if err != nil {
		return nil, 0, err
	}
	kvs, err := scanSnapshot(s.kv.GetSnapshot(ts), prefix, "", 0)
	return kvs, ts, err
}

// diff returns the changes from state to next: first the journaled ones, in commit
// order, then the remaining differences in key order. It consumes state.
func diff(state map[string][]byte, journal []stamped, next []KV) []Change {
	var out []Change
	for _, j := range journal {
		out = append(out, j.c)
		if j.c.Deleted {
			delete(state, j.c.Key)
		} else {
			state[j.c.Key] = j.c.Value
		}
	}
	var rest []Change
	for _, kv := range next {
		if v, ok := state[kv.Key]; !ok || !bytes.Equal(v, kv.Value) {
			rest = append(rest, Change{Key: kv.Key, Value: kv.Value})
		}
		delete(state, kv.Key)
	}
	for key := range state {
		rest = append(rest, Change{Key: key, Deleted: true})
	}
	slices.SortFunc(rest, func(a, b Change) int { return strings.Compare(a.Key, b.Key) })
	return append(out, rest...)
}

func toMap(kvs []KV) map[string][]byte {
	m := make(map[string][]byte, len(kvs))
	for _, kv := range kvs {
		m[kv.Key] = kv.Value
	}
	return m
}

// watchSet holds the running watches of one TiKVStore.
type watchSet struct {
	mu sync.Mutex // guards m
	m  map[*tikvWatcher]struct{}
}

func (ws *watchSet) add(w *tikvWatcher) {
	ws.mu.Lock()
	defer ws.mu.Unlock()
	ws.m[w] = struct{}{}
}

func (ws *watchSet) remove(w *tikvWatcher) {
	ws.mu.Lock()
	defer ws.mu.Unlock()
	delete(ws.m, w)
}

// notify journals the changes of a transaction committed at ts; 0 means the commit
// timestamp is unknown, and the changes are left to the scans.
func (ws *watchSet) notify(ts uint64, changes []Change) {
	if ts == 0 {
		return
	}
	ws.mu.Lock()
	defer ws.mu.Unlock()
	for w := range ws.m {
		w.journal(ts, changes)
	}
}

// stamped is a journaled change with its commit timestamp.
type stamped struct {
	ts uint64
	c  Change
}

// tikvWatcher is one watch's prefix and its journal of local changes.
type tikvWatcher struct {
	prefix  string
	mu      sync.Mutex // guards pending
	pending []stamped
}

func (w *tikvWatcher) journal(ts uint64, changes []Change) {
	w.mu.Lock()
	defer w.mu.Unlock()
	for _, c := range changes {
		if strings.HasPrefix(c.Key, w.prefix) {
			w.pending = append(w.pending, stamped{ts: ts, c: c})
		}
	}
}

// take removes and returns, in commit order, the journaled changes committed after
// timestamp after and up to upto. Older ones are dropped: the scan at after saw them.
func (w *tikvWatcher) take(after, upto uint64) []stamped {
	w.mu.Lock()
	defer w.mu.Unlock()
	var out, keep []stamped
	for _, p := range w.pending {
		switch {
		case p.ts <= after:
		case p.ts <= upto:
			out = append(out, p)
		default:
			keep = append(keep, p)
		}
	}
	w.pending = keep
	slices.SortStableFunc(out, func(a, b stamped) int { return cmp.Compare(a.ts, b.ts) })
	return out
}
