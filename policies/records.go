package policies

import (
	"encoding/json"
	"errors"
	"fmt"
	"time"

	"berth.dev/berth/plugins"
)

// Keys of plugins and bindings in metadata; docs/keyspace.md describes them.
const (
	prefixAll     = "plugins/"
	prefixModule  = "plugins/module/"
	prefixBinding = "plugins/binding/"
)

// Hooks that a binding can attach to.
const (
	HookPush      = "push"
	HookPull      = "pull"
	HookDelete    = "delete"
	HookAfterPush = "after-push" // asynchronous, after a push committed
)

// ScopeSystem is the scope of a binding that applies to every repository.
const ScopeSystem = "system"

// Errors of the plugin and binding catalog. Callers compare with errors.Is.
var (
	// ErrDenied is wrapped by every denial; the message after it is the reason.
	ErrDenied = errors.New("denied by policy")
	// ErrInvalid reports a request the catalog refuses: a bad name, hook, scope or
	// configuration. The message says which.
	ErrInvalid = errors.New("policies: invalid request")
	// ErrNoPlugin reports a plugin that is neither built in nor installed.
	ErrNoPlugin = errors.New("policies: no such plugin")
	// ErrNoBinding reports a binding ID that does not exist.
	ErrNoBinding = errors.New("policies: no such binding")
	// ErrInUse reports a plugin that bindings still use.
	ErrInUse = errors.New("policies: plugin is in use")
	// ErrBadModule reports a module refused at install: not WebAssembly, a wrong
	// ABI version, a module that fails to compile or to describe itself.
	ErrBadModule = errors.New("policies: plugin module refused")
	// ErrBuiltin reports an attempt to install or remove a built-in plugin's name.
	ErrBuiltin = errors.New("policies: name of a built-in plugin")
)

// PluginRecord is a plugin as the catalog lists it: installed plugins are stored
// under plugins/module/<name>; built-in ones are listed with Builtin set.
type PluginRecord struct {
	Name         string               `json:"name"`
	Digest       string               `json:"digest"` // sha256 of the module
	Size         int64                `json:"size"`
	ABI          string               `json:"abi"` // "1.<minor>" the module needs
	Hooks        []string             `json:"hooks"`
	Capabilities []plugins.Capability `json:"capabilities,omitempty"`
	Version      string               `json:"version,omitempty"` // the plugin's own
	Builtin      bool                 `json:"builtin,omitempty"`
	Installed    time.Time            `json:"installed,omitzero"`
}

// Binding attaches a plugin to a hook within a scope. Stored bindings live under
// plugins/binding/<id>; bindings from the configuration file have IDs "config-<n>".
type Binding struct {
	ID     string          `json:"id"`
	Plugin string          `json:"plugin"`
	Hook   string          `json:"hook"`  // push, pull, delete or after-push
	Scope  string          `json:"scope"` // "system" or a project name
	Config json.RawMessage `json:"config,omitempty"`
	// FailOpen allows the operation when the plugin fails; false denies it.
	FailOpen bool `json:"fail_open"`
	// Grant lists the capabilities the binding grants the plugin.
	Grant   []plugins.Capability `json:"grant,omitempty"`
	Created time.Time            `json:"created,omitzero"`
}

// BindingSpec attaches a built-in or installed plugin to a hook, as `berth serve`
// reads it from its configuration file (key `policies`).
type BindingSpec struct {
	// Plugin names a plugin, such as "deny-tags".
	Plugin string `yaml:"plugin" json:"plugin"`
	// Hook is push, pull, delete or after-push.
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

// binding returns the spec as the n-th binding of the configuration file.
func (s BindingSpec) binding(n int) (Binding, error) {
	cfg, err := json.Marshal(s.Config)
	if err != nil {
		return Binding{}, fmt.Errorf("%w: config: %v", ErrInvalid, err)
	}
	return Binding{ID: fmt.Sprintf("config-%d", n), Plugin: s.Plugin, Hook: s.Hook,
		Scope: s.Scope, Config: cfg, FailOpen: s.FailOpen}, nil
}

// normalize checks b's hook, scope and grants, and fills defaults.
func (b *Binding) normalize() error {
	switch b.Hook {
	case HookPush, HookPull, HookDelete, HookAfterPush:
	default:
		return fmt.Errorf("%w: hook %q must be push, pull, delete or after-push",
			ErrInvalid, b.Hook)
	}
	if b.Scope == "" {
		b.Scope = ScopeSystem
	}
	if b.Scope != ScopeSystem && !validName(b.Scope) {
		return fmt.Errorf("%w: scope %q must be system or a project name", ErrInvalid, b.Scope)
	}
	for _, c := range b.Grant {
		if !c.Valid() {
			return fmt.Errorf("%w: unknown capability %q", ErrInvalid, c)
		}
	}
	if len(b.Config) == 0 {
		b.Config = json.RawMessage("null")
	}
	if !json.Valid(b.Config) {
		return fmt.Errorf("%w: config is not valid JSON", ErrInvalid)
	}
	return nil
}

// pluginHook returns the ABI's name of a binding hook ("after-push" is exported
// as berth_hook_after_push).
func pluginHook(hook string) string {
	if hook == HookAfterPush {
		return "after_push"
	}
	return hook
}

// validName reports whether s can name a plugin or a project: 1 to 64 of
// lower-case letters, digits, '-', '_' and '.', starting with a letter or digit.
func validName(s string) bool {
	if s == "" || len(s) > 64 {
		return false
	}
	for i, c := range s {
		alnum := c >= 'a' && c <= 'z' || c >= '0' && c <= '9'
		if !alnum && (i == 0 || c != '-' && c != '_' && c != '.') {
			return false
		}
	}
	return true
}

// inScope reports whether repo lies in scope ("" or "system" for all).
func inScope(scope, repo string) bool {
	return scope == "" || scope == ScopeSystem || len(repo) > len(scope) &&
		repo[len(scope)] == '/' && repo[:len(scope)] == scope
}
