package registry

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"sync"
	"time"

	"berth.dev/berth/kvnode"
	"berth.dev/berth/storage"
)

// Options tune a Registry. The zero value works.
type Options struct {
	// UploadTTL is how long an idle upload session lives. Zero means 24 hours.
	UploadTTL time.Duration
	// EventFlushInterval is how often buffered pull events are written.
	// Zero means one second.
	EventFlushInterval time.Duration
	// EventRetention is how long events are kept. Zero means 7 days.
	EventRetention time.Duration
	// Admission, when set, is asked before every manifest push, manifest GET and
	// delete. Nil allows everything.
	Admission Admission
	// Quotas, when set, gives each project's storage quota, enforced when a blob or
	// a manifest is linked. Nil means no quotas; usage is counted either way.
	Quotas QuotaSource
	// ManifestCacheBytes bounds the in-process cache of manifest bodies, which are
	// immutable by digest. Zero means 64 MiB; negative turns the cache off.
	ManifestCacheBytes int64
	// RedirectTTL, when positive and the blob driver can presign URLs, makes blob
	// GETs answer with a redirect to a URL of the storage valid this long. Zero
	// serves every blob through the gateway.
	RedirectTTL time.Duration
}

func (o Options) withDefaults() Options {
	if o.UploadTTL == 0 {
		o.UploadTTL = 24 * time.Hour
	}
	if o.EventFlushInterval == 0 {
		o.EventFlushInterval = time.Second
	}
	if o.EventRetention == 0 {
		o.EventRetention = 7 * 24 * time.Hour
	}
	if o.ManifestCacheBytes == 0 {
		o.ManifestCacheBytes = 64 << 20
	}
	return o
}

// Registry is the registry core. Its methods are safe for concurrent use.
type Registry struct {
	store kvnode.Store
	blobs storage.Driver
	log   *slog.Logger
	opts  Options
	cache *manifestCache
	pulls *eventBuffer

	stop     chan struct{}
	stopOnce sync.Once
	wg       sync.WaitGroup
}

// New returns a Registry over a metadata store and a blob driver.
func New(store kvnode.Store, blobs storage.Driver, log *slog.Logger, opts Options) *Registry {
	opts = opts.withDefaults()
	return &Registry{
		store: store,
		blobs: blobs,
		log:   log,
		opts:  opts,
		cache: newManifestCache(opts.ManifestCacheBytes),
		pulls: &eventBuffer{},
		stop:  make(chan struct{}),
	}
}

// Start migrates the keyspace, cleans up what an earlier crash left behind, and
// starts the background flusher of pull events.
func (r *Registry) Start(ctx context.Context) error {
	if err := r.migrate(ctx); err != nil {
		return err
	}
	if err := r.cleanUploads(ctx); err != nil {
		return err
	}
	r.wg.Go(r.flushLoop)
	return nil
}

// Close flushes buffered events and stops background work.
func (r *Registry) Close() error {
	r.stopOnce.Do(func() { close(r.stop) })
	r.wg.Wait()
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	return r.flushPulls(ctx)
}

// migrate brings the keyspace to schemaVersion: a new store gets it at once; a
// store of version 1 gets the usage of every project counted first (idempotent, so
// a crash midway repeats it at the next start).
func (r *Registry) migrate(ctx context.Context) error {
	v, err := r.store.Get(ctx, keySchema)
	switch {
	case errors.Is(err, kvnode.ErrNotFound):
	case err != nil:
		return storeErr(err)
	case string(v) == schemaVersion:
		return nil
	case string(v) != "1":
		return fmt.Errorf("registry: metadata schema %q is newer than this Berth (%s)",
			v, schemaVersion)
	default:
		if err := r.countExistingUsage(ctx); err != nil {
			return fmt.Errorf("registry: migrate to schema %s: %w", schemaVersion, err)
		}
	}
	return r.update(ctx, func(tx kvnode.Txn) error {
		tx.Put(keySchema, []byte(schemaVersion))
		return nil
	})
}

// update runs a store transaction and maps store errors to domain errors.
func (r *Registry) update(ctx context.Context, fn func(tx kvnode.Txn) error) error {
	return storeErr(r.store.Update(ctx, fn))
}

// updateBatches runs fn for i from 0 to n-1 in transactions of at most
// maxEventBatch calls each, within etcd's default limit of operations per txn.
func (r *Registry) updateBatches(ctx context.Context, n int, fn func(tx kvnode.Txn, i int)) error {
	for start := 0; start < n; start += maxEventBatch {
		end := min(start+maxEventBatch, n)
		err := r.update(ctx, func(tx kvnode.Txn) error {
			for i := start; i < end; i++ {
				fn(tx, i)
			}
			return nil
		})
		if err != nil {
			return err
		}
	}
	return nil
}

// getJSON reads key into v; it returns kvnode.ErrNotFound when the key is missing.
func (r *Registry) getJSON(ctx context.Context, key string, v any) error {
	b, err := r.store.Get(ctx, key)
	if err != nil {
		return storeErr(err)
	}
	return json.Unmarshal(b, v)
}

func txGetJSON(tx kvnode.Txn, key string, v any) error {
	b, err := tx.Get(key)
	if err != nil {
		return err
	}
	return json.Unmarshal(b, v)
}

func txPutJSON(tx kvnode.Txn, key string, v any) {
	b, err := json.Marshal(v)
	if err != nil {
		panic(fmt.Sprintf("registry: marshal %T: %v", v, err)) // only our own types
	}
	tx.Put(key, b)
}

// storeErr maps metadata and storage failures to ErrUnavailable, keeping the rest.
func storeErr(err error) error {
	switch {
	case err == nil:
		return nil
	case errors.Is(err, kvnode.ErrNotFound):
		return err
	case errors.Is(err, kvnode.ErrUnavailable), errors.Is(err, kvnode.ErrConflict),
		errors.Is(err, context.DeadlineExceeded):
		return fmt.Errorf("%w: metadata: %v", ErrUnavailable, err)
	}
	return err
}

// newID returns a random 128-bit token in hex.
func newID() string {
	var b [16]byte
	if _, err := rand.Read(b[:]); err != nil {
		panic(err) // crypto/rand never fails on supported platforms
	}
	return hex.EncodeToString(b[:])
}
