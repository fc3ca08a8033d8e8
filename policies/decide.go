package policies

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"strings"

	"berth.dev/berth/plugins"
	"berth.dev/berth/sdk"
)

// Push decides a manifest push (one call per tag). subject, which may be nil,
// serves the documents that bindings grant plugins to read.
func (e *Engine) Push(ctx context.Context, req sdk.PushRequest, subject plugins.Subject) error {
	return e.decide(ctx, HookPush, req.Repository, subject, req)
}

// Pull decides a manifest GET.
func (e *Engine) Pull(ctx context.Context, req sdk.PullRequest, subject plugins.Subject) error {
	return e.decide(ctx, HookPull, req.Repository, subject, req)
}

// Delete decides a delete of a manifest or a tag.
func (e *Engine) Delete(ctx context.Context, req sdk.DeleteRequest,
	subject plugins.Subject) error {
	return e.decide(ctx, HookDelete, req.Repository, subject, req)
}

// Binds reports whether a binding of hook applies to repo, so that callers can
// skip preparing a request no plugin will see.
func (e *Engine) Binds(hook, repo string) bool {
	for _, b := range e.cur.Load().bound {
		if b.Hook == hook && inScope(b.Scope, repo) {
			return true
		}
	}
	return false
}

// decide asks every binding of hook in scope of repo; the first denial wins. A
// call that met a binding retired meanwhile is asked again of the newer bindings.
func (e *Engine) decide(ctx context.Context, hook, repo string, subject plugins.Subject,
	req any) error {
	for {
		t := e.cur.Load()
		err := e.decideIn(ctx, t, hook, repo, subject, req)
		if errors.Is(err, errStale) && e.cur.Load() != t {
			continue
		}
		return err
	}
}

func (e *Engine) decideIn(ctx context.Context, t *table, hook, repo string,
	subject plugins.Subject, req any) error {
	for _, b := range t.bound {
		if b.Hook != hook || !inScope(b.Scope, repo) {
			continue
		}
		var d sdk.Decision
		err := b.err
		if err == nil {
			err = b.b.Call(ctx, hook, subject, req, &d)
		}
		if errors.Is(err, plugins.ErrClosed) {
			return errStale
		}
		if err != nil {
			if b.FailOpen {
				e.log.Warn("policy failed; allowed (fail_open)", "id", b.ID, "plugin", b.Plugin,
					"hook", hook, "repository", repo, "err", err)
				continue
			}
			return fmt.Errorf("%w: policy %s failed, so the request is refused: %v",
				ErrDenied, b.Plugin, err)
		}
		if !d.Allow {
			return fmt.Errorf("%w: %s: %s", ErrDenied, b.Plugin, d.Reason)
		}
	}
	return nil
}

// AfterPush calls the after-push hook of every binding in scope of the event's
// repository, each under its own deadline (AfterPushTimeout). Failures are logged:
// the push is committed and cannot be refused any more.
func (e *Engine) AfterPush(ctx context.Context, ev sdk.PushEvent, subject plugins.Subject) {
	for {
		t := e.cur.Load()
		if !e.afterPushIn(ctx, t, ev, subject) || e.cur.Load() == t {
			return
		}
	}
}

// afterPushIn reports whether a binding was retired during the calls.
func (e *Engine) afterPushIn(ctx context.Context, t *table, ev sdk.PushEvent,
	subject plugins.Subject) (stale bool) {
	for _, b := range t.bound {
		if b.Hook != HookAfterPush || !inScope(b.Scope, ev.Repository) {
			continue
		}
		err := b.err
		if err == nil {
			err = b.b.Call(ctx, pluginHook(HookAfterPush), subject, ev, nil)
		}
		if errors.Is(err, plugins.ErrClosed) {
			stale = true
			continue
		}
		if err != nil {
			e.log.Warn("after-push hook failed", "id", b.ID, "plugin", b.Plugin,
				"repository", ev.Repository, "digest", ev.Digest, "err", err)
		}
	}
	return stale
}

// bindingKey identifies what a binding binds: equal keys can share a pool.
func bindingKey(dgst string, b Binding) string {
	b.Created = b.Created.UTC()
	j, _ := json.Marshal(b)
	return dgst + "|" + string(j)
}

// Reason returns the reason of a denial returned by Push, Pull or Delete: the
// message after ErrDenied.
func Reason(err error) string {
	return strings.TrimPrefix(err.Error(), ErrDenied.Error()+": ")
}
