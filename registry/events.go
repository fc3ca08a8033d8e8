package registry

import (
	"context"
	"encoding/json"
	"sync"
	"time"

	"github.com/opencontainers/go-digest"

	"berth.dev/berth/kvnode"
)

// Event actions.
const (
	ActionPush   = "push"
	ActionPull   = "pull"
	ActionDelete = "delete"
)

// Event is one entry of the durable event queue and audit log (keys "event/..."),
// read by Audit and by later consumers such as scanning and replication.
type Event struct {
	Action     string        `json:"action"`
	Repository string        `json:"repository"`
	Digest     digest.Digest `json:"digest,omitempty"`
	Tag        string        `json:"tag,omitempty"`
	MediaType  string        `json:"media_type,omitempty"`
	// Count is how many pulls a pull event stands for (pulls of the same manifest
	// within one flush interval are recorded once); 0 for other actions.
	Count int       `json:"count,omitempty"`
	Time  time.Time `json:"time"`
	// Actor, ActorKind and Addr name who caused the event (see Actor); empty for
	// internal work.
	Actor     string `json:"actor"`
	ActorKind string `json:"actor_kind"`
	Addr      string `json:"addr"`
	// Target is what an admin event changed (a project, "project/member", a user);
	// Detail is a short description of the change. Both are "" for other events.
	Target string `json:"target,omitempty"`
	Detail string `json:"detail,omitempty"`
}

// putEvent appends e inside the transaction of the change it describes, naming
// the actor of ctx when ctx carries one.
func (r *Registry) putEvent(ctx context.Context, tx kvnode.Txn, e Event) {
	e = stamp(ctx, e)
	if e.Time.IsZero() {
		e.Time = time.Now().UTC()
	}
	txPutJSON(tx, eventKey(e.Time, newID()[:8]), e)
}

// Events returns up to limit events after the event key after ("" for the oldest).
func (r *Registry) Events(ctx context.Context, after string, limit int) ([]kvnode.KV, error) {
	kvs, err := r.store.Range(ctx, prefixEvent, after, limit)
	return kvs, storeErr(err)
}

// DecodeEvent decodes the value of an event key.
func DecodeEvent(b []byte) (Event, error) {
	var e Event
	err := json.Unmarshal(b, &e)
	return e, err
}

// maxEventBatch keeps one flush within etcd's default limit of operations per txn.
const maxEventBatch = 100

// eventBuffer holds pull events until the next flush, so that reads do not turn
// into metadata writes one by one. Pulls of the same manifest by the same reference
// are merged into one event with a count, which bounds the writes per flush by the
// number of distinct manifests pulled, not by the request rate.
type eventBuffer struct {
	mu      sync.Mutex
	pending map[pullKey]*Event // guarded by mu
}

type pullKey struct {
	repo  string
	d     digest.Digest
	tag   string
	actor Actor
}

func (b *eventBuffer) add(e Event) {
	k := pullKey{e.Repository, e.Digest, e.Tag, Actor{e.Actor, e.ActorKind, e.Addr}}
	b.mu.Lock()
	defer b.mu.Unlock()
	if b.pending == nil {
		b.pending = map[pullKey]*Event{}
	}
	if p, ok := b.pending[k]; ok {
		p.Count++
		return
	}
	e.Count = 1
	b.pending[k] = &e
}

func (b *eventBuffer) take() []Event {
	b.mu.Lock()
	pending := b.pending
	b.pending = nil
	b.mu.Unlock()
	out := make([]Event, 0, len(pending))
	for _, e := range pending {
		out = append(out, *e)
	}
	return out
}

// recordPull buffers a pull event; pulls merge per manifest, reference and actor.
func (r *Registry) recordPull(ctx context.Context, e Event) {
	e = stamp(ctx, e)
	e.Action = ActionPull
	e.Time = time.Now().UTC()
	r.pulls.add(e)
}

func (r *Registry) flushLoop() {
	t := time.NewTicker(r.opts.EventFlushInterval)
	defer t.Stop()
	var lastPrune time.Time
	lastJanitor := time.Now() // Start ran it
	for {
		select {
		case <-r.stop:
			return
		case <-t.C:
			ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
			if err := r.flushPulls(ctx); err != nil {
				r.log.Warn("flush pull events", "err", err)
			}
			if time.Since(lastPrune) > time.Minute {
				lastPrune = time.Now()
				r.prune(ctx)
			}
			if time.Since(lastJanitor) > janitorInterval {
				lastJanitor = time.Now()
				if err := r.cleanUploads(ctx); err != nil {
					r.log.Warn("clean uploads", "err", err)
				}
			}
			cancel()
		}
	}
}

// flushPulls writes buffered pull events in batches. A batch that fails is dropped:
// pull records are best effort, push and delete events are not.
func (r *Registry) flushPulls(ctx context.Context) error {
	events := r.pulls.take()
	return r.updateBatches(ctx, len(events), func(tx kvnode.Txn, i int) {
		r.putEvent(ctx, tx, events[i])
	})
}

// prune deletes events past the retention and old markers of completed uploads.
func (r *Registry) prune(ctx context.Context) {
	if err := r.pruneEvents(ctx, time.Now().Add(-r.opts.EventRetention)); err != nil {
		r.log.Warn("prune events", "err", err)
	}
	if err := r.pruneCompleted(ctx, time.Now().Add(-completedMarkerTTL)); err != nil {
		r.log.Warn("prune completed uploads", "err", err)
	}
}

// pruneEvents deletes events older than cutoff, oldest first.
func (r *Registry) pruneEvents(ctx context.Context, cutoff time.Time) error {
	limit := eventKey(cutoff, "")
	for {
		kvs, err := r.store.Range(ctx, prefixEvent, "", maxEventBatch)
		if err != nil {
			return storeErr(err)
		}
		var old []string
		for _, kv := range kvs {
			if kv.Key < limit {
				old = append(old, kv.Key)
			}
		}
		if len(old) == 0 {
			return nil
		}
		err = r.update(ctx, func(tx kvnode.Txn) error {
			for _, k := range old {
				tx.Delete(k)
			}
			return nil
		})
		if err != nil || len(old) < len(kvs) {
			return err
		}
	}
}
