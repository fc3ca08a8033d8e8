package main

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"path/filepath"
	"sync"
	"time"

	"berth.dev/berth/kvnode"
	"berth.dev/berth/plugins"
	"berth.dev/berth/policies"
	"berth.dev/berth/registry"
	"berth.dev/berth/sdk"
	"berth.dev/berth/storage"
)

// admission asks the policy engine on behalf of the registry core.
type admission struct {
	e     *policies.Engine
	reg   *registry.Registry // set once the registry exists, before it serves
	blobs storage.Driver
}

func (a *admission) AdmitPush(ctx context.Context, p registry.PushInfo) error {
	if !a.e.Binds(policies.HookPush, p.Repository) {
		return nil
	}
	s := &subject{a: a, repo: p.Repository, digest: p.Digest, manifest: p.Manifest}
	return denied(a.e.Push(ctx, sdk.PushRequest{
		Repository: p.Repository, Tag: p.Tag, Digest: p.Digest.String(),
		MediaType: p.MediaType, Manifest: policies.Summarize(p.Manifest),
		TagState: sdkTagState(p.TagState),
	}, s))
}

// sdkTagState is the registry's view of a pushed tag as ABI 1.1 carries it; the
// registry commits the push only if the tag still names the same thing.
func sdkTagState(t *registry.TagState) *sdk.TagState {
	if t == nil {
		return nil
	}
	st := &sdk.TagState{Exists: t.Exists}
	if t.Exists {
		st.Digest = t.Digest.String()
	}
	return st
}

func (a *admission) AdmitPull(ctx context.Context, p registry.PullInfo) error {
	if !a.e.Binds(policies.HookPull, p.Repository) {
		return nil
	}
	s := &subject{a: a, repo: p.Repository, digest: p.Digest}
	return denied(a.e.Pull(ctx, sdk.PullRequest{
		Repository: p.Repository, Reference: p.Reference, Digest: p.Digest.String(),
		MediaType: p.MediaType,
	}, s))
}

func (a *admission) AdmitDelete(ctx context.Context, d registry.DeleteInfo) error {
	var s plugins.Subject
	if d.Digest != "" {
		s = &subject{a: a, repo: d.Repository, digest: d.Digest}
	}
	return denied(a.e.Delete(ctx, sdk.DeleteRequest{
		Repository: d.Repository, Tag: d.Tag, Digest: d.Digest.String(),
	}, s))
}

// denied turns a policy's denial into the registry's, keeping the reason.
func denied(err error) error {
	if !errors.Is(err, policies.ErrDenied) {
		return err
	}
	return fmt.Errorf("%w: %s", registry.ErrDenied, policies.Reason(err))
}

// policyRuntime is the plugin host, the catalog and the engine of a gateway,
// with the goroutines that keep the engine current and call after-push hooks.
type policyRuntime struct {
	host    *plugins.Host
	catalog *policies.Catalog
	engine  *policies.Engine
	cancel  context.CancelFunc
	wg      sync.WaitGroup
}

// startPolicies binds the configured and stored policies and follows the stored
// ones. Call run once the registry exists, and stop at shutdown.
func startPolicies(ctx context.Context, specs []policies.BindingSpec, dataDir string,
	store kvnode.Store, blobs storage.Driver, log *slog.Logger) (*policyRuntime, error) {
	host, err := plugins.NewHost(ctx, log,
		plugins.Config{CacheDir: filepath.Join(dataDir, "plugins-cache")})
	if err != nil {
		return nil, err
	}
	cat := policies.NewCatalog(store, blobs, host)
	e, err := policies.NewEngine(ctx, host, specs, cat, log)
	if err != nil {
		host.Close(ctx)
		return nil, err
	}
	return &policyRuntime{host: host, catalog: cat, engine: e}, nil
}

// run starts following the catalog and the after-push consumer of reg's events.
func (p *policyRuntime) run(ctx context.Context, store kvnode.Store, a *admission,
	log *slog.Logger) {
	ctx, p.cancel = context.WithCancel(context.WithoutCancel(ctx))
	p.wg.Add(2)
	go func() { defer p.wg.Done(); p.engine.Follow(ctx) }()
	ap := newAfterPush(store, a, log)
	go func() { defer p.wg.Done(); ap.run(ctx) }()
}

// halt ends the goroutines started by run and waits for them.
func (p *policyRuntime) halt() {
	if p.cancel != nil {
		p.cancel()
	}
	p.wg.Wait()
}

// stop halts, then releases the engine and the host.
func (p *policyRuntime) stop() {
	p.halt()
	ctx := context.Background()
	p.engine.Close(ctx)
	p.host.Close(ctx)
}

// appliedCatalog is the catalog as the admin API serves it: an attach or detach
// answers once this gateway's engine applies it, so that a client's next push
// through the same gateway already meets the policy. Other replicas follow through
// their watch, within milliseconds.
type appliedCatalog struct {
	policies.Admin
	e *policies.Engine
}

// applyWait bounds how long an attach or detach waits for the local engine.
const applyWait = 10 * time.Second

// Attach stores the binding, then reloads this gateway's engine.
func (c appliedCatalog) Attach(ctx context.Context, b policies.Binding) (policies.Binding, error) {
	b, err := c.Admin.Attach(ctx, b)
	if err != nil {
		return b, err
	}
	c.apply(ctx)
	return b, nil
}

// Detach removes the binding, then reloads this gateway's engine.
func (c appliedCatalog) Detach(ctx context.Context, id string) error {
	if err := c.Admin.Detach(ctx, id); err != nil {
		return err
	}
	c.apply(ctx)
	return nil
}

// apply reloads the engine. A failed reload is not the caller's failure: the change
// is stored, and Follow applies it (and logs why it could not) soon after.
func (c appliedCatalog) apply(ctx context.Context) {
	ctx, cancel := context.WithTimeout(ctx, applyWait)
	defer cancel()
	_ = c.e.Reload(ctx)
}
