package policies

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"strings"
	"sync"

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

// decideIn asks the bindings of hook in scope of repo in t, at once when there are
// several (the call's latency is then the slowest plugin's, not their sum), and
// returns the verdict of the first in binding order that denies or fails.
func (e *Engine) decideIn(ctx context.Context, t *table, hook, repo string,
	subject plugins.Subject, req any) error {
	var todo []*bound
	for _, b := range t.bound {
		if b.Hook == hook && inScope(b.Scope, repo) {
			todo = append(todo, b)
		}
	}
	verdicts := make([]error, len(todo))
	if len(todo) == 1 {
		verdicts[0] = e.ask(ctx, todo[0], hook, repo, subject, req)
	} else {
		var wg sync.WaitGroup
		for i, b := range todo {
			wg.Go(func() { verdicts[i] = e.ask(ctx, b, hook, repo, subject, req) })
		}
		wg.Wait()
	}
	if slices.ContainsFunc(verdicts, func(err error) bool { return errors.Is(err, errStale) }) {
		return errStale
	}
	for _, v := range verdicts {
		if v != nil {
			return v
		}
	}
	return nil
}

// ask calls one binding and returns nil (allowed), a denial, or errStale.
func (e *Engine) ask(ctx context.Context, b *bound, hook, repo string,
	subject plugins.Subject, req any) error {
	var d sdk.Decision
	err := b.err
	if err == nil {
		err = b.b.Call(ctx, hook, subject, req, &d)
	}
	switch {
	case errors.Is(err, plugins.ErrClosed):
		return errStale
	case err != nil && b.FailOpen:
		e.log.Warn("policy failed; allowed (fail_open)", "id", b.ID, "plugin", b.Plugin,
			"hook", hook, "repository", repo, "err", err)
		return nil
	case err != nil:
		return fmt.Errorf("%w: policy %s failed, so the request is refused: %v",
			ErrDenied, b.Plugin, err)
	case !d.Allow:
		return fmt.Errorf("%w: %s: %s", ErrDenied, b.Plugin, d.Reason)
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
