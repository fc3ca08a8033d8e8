package main

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"strings"
	"time"

	"berth.dev/berth/kvnode"
	"berth.dev/berth/policies"
	"berth.dev/berth/registry"
	"berth.dev/berth/sdk"
)

// The after-push consumer: one gateway at a time (the holder of a lease) reads the
// push events that the registry commits with each push and calls the after-push
// hooks, so that a push never waits for them and each event is handled by one
// gateway. Keys are in docs/keyspace.md.
const (
	keyAfterPushLease  = "hooks/after-push/lease"
	keyAfterPushCursor = "hooks/after-push/cursor" // key of the last event handled
	afterPushLeaseTTL  = 30 * time.Second
	afterPushPoll      = time.Second
	// afterPushSettle keeps the consumer behind the newest events, so that an event
	// whose transaction commits a little after its timestamp is not skipped.
	afterPushSettle = 2 * time.Second
	afterPushBatch  = 100
)

type afterPush struct {
	kv    kvnode.Store
	a     *admission
	log   *slog.Logger
	owner string
}

func newAfterPush(kv kvnode.Store, a *admission, log *slog.Logger) *afterPush {
	host, _ := os.Hostname()
	var b [4]byte
	rand.Read(b[:])
	return &afterPush{kv: kv, a: a, log: log, owner: host + "-" + hex.EncodeToString(b[:])}
}

// run handles events while it holds the lease, until ctx ends.
func (p *afterPush) run(ctx context.Context) {
	t := time.NewTicker(afterPushPoll)
	defer t.Stop()
	var held time.Time
	for {
		if time.Since(held) > afterPushLeaseTTL/3 {
			_, err := kvnode.AcquireLease(ctx, p.kv, keyAfterPushLease, p.owner, afterPushLeaseTTL)
			if err == nil {
				held = time.Now()
			} else if !errors.Is(err, kvnode.ErrLeaseHeld) && ctx.Err() == nil {
				p.log.Warn("after-push: lease", "err", err)
			}
		}
		if !held.IsZero() && time.Since(held) < afterPushLeaseTTL/2 {
			if err := p.handle(ctx); err != nil && ctx.Err() == nil {
				p.log.Warn("after-push: reading events", "err", err)
			}
		}
		select {
		case <-ctx.Done():
			kvnode.ReleaseLease(context.WithoutCancel(ctx), p.kv, keyAfterPushLease, p.owner)
			return
		case <-t.C:
		}
	}
}

// handle calls the hooks for the settled events after the cursor.
func (p *afterPush) handle(ctx context.Context) error {
	cursor, err := p.cursor(ctx)
	if err != nil {
		return err
	}
	until := eventKeyAt(time.Now().Add(-afterPushSettle))
	for {
		kvs, err := p.kv.Range(ctx, "event/", cursor, afterPushBatch)
		if err != nil {
			return err
		}
		for _, kv := range kvs {
			if kv.Key >= until {
				return nil
			}
			p.dispatch(ctx, kv)
			cursor = kv.Key
			if err := p.kv.Put(ctx, keyAfterPushCursor, []byte(cursor)); err != nil {
				return err
			}
		}
		if len(kvs) < afterPushBatch {
			return nil
		}
	}
}

// cursor returns the key of the last event handled; the first time, now.
func (p *afterPush) cursor(ctx context.Context) (string, error) {
	b, err := p.kv.Get(ctx, keyAfterPushCursor)
	if errors.Is(err, kvnode.ErrNotFound) {
		c := eventKeyAt(time.Now().Add(-afterPushSettle))
		return c, p.kv.Put(ctx, keyAfterPushCursor, []byte(c))
	}
	return string(b), err
}

// dispatch calls the after-push hooks for a push event, once per tag.
func (p *afterPush) dispatch(ctx context.Context, kv kvnode.KV) {
	ev, err := registry.DecodeEvent(kv.Value)
	if err != nil || ev.Action != registry.ActionPush {
		return
	}
	s := &subject{a: p.a, repo: ev.Repository, digest: ev.Digest}
	manifest, err := s.Manifest(ctx)
	if err != nil {
		p.log.Warn("after-push: manifest unreadable", "repository", ev.Repository,
			"digest", ev.Digest, "err", err)
	}
	for _, tag := range strings.Split(ev.Tag, ",") {
		p.a.e.AfterPush(ctx, sdk.PushEvent{Time: ev.Time, PushRequest: sdk.PushRequest{
			Repository: ev.Repository, Tag: tag, Digest: ev.Digest.String(),
			MediaType: ev.MediaType, Manifest: policies.Summarize(manifest),
		}}, s)
	}
}

// eventKeyAt is the key of the registry's events at time t (docs/keyspace.md).
func eventKeyAt(t time.Time) string { return fmt.Sprintf("event/%020d-", t.UnixNano()) }
