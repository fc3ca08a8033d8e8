package policies

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"strings"

	"berth.dev/berth/plugins"
	"berth.dev/berth/sdk"
)

// Hooks that a binding can attach to.
const (
	HookPush   = "push"
	HookPull   = "pull"
	HookDelete = "delete"
)

// BindingSpec attaches a built-in policy to a hook, as `berth serve` reads it from
// its configuration file (key `policies`).
type BindingSpec struct {
	// Plugin names a built-in policy, such as "deny-tags".
	Plugin string `yaml:"plugin" json:"plugin"`
	// Hook is push, pull or delete.
	Hook string `yaml:"hook" json:"hook"`
	// Scope is "system" (every repository) or a project: the first component of
	// repository names. Empty means system.
	Scope string `yaml:"scope" json:"scope"`
	// Config is the policy's own configuration (its README describes it).
	Config map[string]any `yaml:"config" json:"config"`
	// FailOpen allows the operation when the plugin fails (times out, crashes);
	// false (the default) denies it: admission fails closed.
	FailOpen bool `yaml:"fail_open" json:"fail_open"`
}

// Engine makes admission decisions with the bound policies. It is safe for
// concurrent use.
type Engine struct {
	log      *slog.Logger
	bindings []bound
}

type bound struct {
	spec BindingSpec
	b    *plugins.Binding
}

// NewEngine loads and binds every spec's policy in host. Specs is usually short;
// an empty list gives an engine that allows everything.
func NewEngine(ctx context.Context, host *plugins.Host, specs []BindingSpec,
	log *slog.Logger) (*Engine, error) {
	e := &Engine{log: log}
	mods := Builtin()
	for i, spec := range specs {
		b, err := bind(ctx, host, mods, spec)
		if err != nil {
			e.Close(ctx)
			return nil, fmt.Errorf("policies[%d] (%s on %s): %w", i, spec.Plugin, spec.Hook, err)
		}
		e.bindings = append(e.bindings, bound{spec: spec, b: b})
		log.Info("policy bound", "plugin", spec.Plugin, "hook", spec.Hook,
			"scope", cmpOr(spec.Scope, "system"), "fail_open", spec.FailOpen)
	}
	return e, nil
}

func bind(ctx context.Context, host *plugins.Host, mods map[string][]byte,
	spec BindingSpec) (*plugins.Binding, error) {
	wasm, ok := mods[spec.Plugin]
	if !ok {
		return nil, fmt.Errorf("no built-in policy named %q", spec.Plugin)
	}
	switch spec.Hook {
	case HookPush, HookPull, HookDelete:
	default:
		return nil, fmt.Errorf("hook %q must be push, pull or delete", spec.Hook)
	}
	mod, err := host.Load(ctx, spec.Plugin, wasm)
	if err != nil {
		return nil, err
	}
	if !mod.Implements(spec.Hook) {
		return nil, fmt.Errorf("policy %s has no %s hook", spec.Plugin, spec.Hook)
	}
	cfg, err := json.Marshal(spec.Config)
	if err != nil {
		return nil, err
	}
	return mod.Bind(ctx, plugins.BindingConfig{Config: cfg})
}

// ErrDenied is wrapped by every denial; the message after it is the policy's reason.
var ErrDenied = errors.New("denied by policy")

// Push decides a manifest push of repository (one call per tag).
func (e *Engine) Push(ctx context.Context, req sdk.PushRequest) error {
	return e.decide(ctx, HookPush, req.Repository, req)
}

// Pull decides a manifest GET.
func (e *Engine) Pull(ctx context.Context, req sdk.PullRequest) error {
	return e.decide(ctx, HookPull, req.Repository, req)
}

// Delete decides a delete of a manifest or a tag.
func (e *Engine) Delete(ctx context.Context, req sdk.DeleteRequest) error {
	return e.decide(ctx, HookDelete, req.Repository, req)
}

// decide asks every binding of hook in scope of repo; the first denial wins.
func (e *Engine) decide(ctx context.Context, hook, repo string, req any) error {
	for _, b := range e.bindings {
		if b.spec.Hook != hook || !inScope(b.spec.Scope, repo) {
			continue
		}
		var d sdk.Decision
		err := b.b.Call(ctx, hook, nil, req, &d)
		if err != nil {
			if b.spec.FailOpen {
				e.log.Warn("policy failed; allowed (fail_open)", "plugin", b.spec.Plugin,
					"hook", hook, "repository", repo, "err", err)
				continue
			}
			return fmt.Errorf("%w: policy %s failed, so the request is refused: %v",
				ErrDenied, b.spec.Plugin, err)
		}
		if !d.Allow {
			return fmt.Errorf("%w: %s: %s", ErrDenied, b.spec.Plugin, d.Reason)
		}
	}
	return nil
}

// inScope reports whether repo lies in scope ("" or "system" for all).
func inScope(scope, repo string) bool {
	return scope == "" || scope == "system" || strings.HasPrefix(repo, scope+"/")
}

// Close releases every binding.
func (e *Engine) Close(ctx context.Context) {
	for _, b := range e.bindings {
		b.b.Close(ctx)
	}
}

func cmpOr(a, b string) string {
	if a != "" {
		return a
	}
	return b
}
