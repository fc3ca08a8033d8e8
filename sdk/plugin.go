package sdk

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
)

// Plugin declares a plugin: its configuration type C, its handlers and the
// capabilities it uses. Nil handlers are hooks the plugin does not implement.
type Plugin[C any] struct {
	Name         string   // the plugin's name for itself, shown by Berth
	Version      string   // the plugin's version, shown by Berth
	Capabilities []string // capabilities used (CapLog, ...); bindings must grant them

	// Validate checks a decoded configuration when the plugin is bound. The JSON
	// configuration is decoded into C first, refusing unknown fields.
	Validate func(cfg *C) error

	Push      func(cfg *C, req *PushRequest) (Decision, error)
	Pull      func(cfg *C, req *PullRequest) (Decision, error)
	Delete    func(cfg *C, req *DeleteRequest) (Decision, error)
	AfterPush func(cfg *C, ev *PushEvent) error
}

// handler decodes a hook's request and returns its result.
type handler func(req []byte) (any, error)

// registration is the type-erased registered plugin.
type registration struct {
	description []byte
	configure   func(raw json.RawMessage) error
	hooks       map[string]handler
}

var (
	registered *registration
	granted    = map[string]bool{} // capabilities granted by the binding
)

// Register installs p as the module's plugin. Call it once, from an init function.
func Register[C any](p Plugin[C]) {
	if registered != nil {
		panic("sdk: Register called twice")
	}
	cfg := new(C)
	r := &registration{hooks: map[string]handler{}}
	r.configure = func(raw json.RawMessage) error { return configure(p.Validate, raw, cfg) }
	addAdmission(r, HookPush, p.Push, cfg, decodePush)
	addAdmission(r, HookPull, p.Pull, cfg, decodePull)
	addAdmission(r, HookDelete, p.Delete, cfg, decodeDelete)
	if p.AfterPush != nil {
		r.hooks[HookAfterPush] = func(b []byte) (any, error) {
			var ev PushEvent
			if err := json.Unmarshal(b, &ev); err != nil {
				return nil, fmt.Errorf("decode event: %w", err)
			}
			return struct{}{}, p.AfterPush(cfg, &ev)
		}
	}
	r.description = describe(p.Name, p.Version, p.Capabilities, r.hooks)
	registered = r
}

// addAdmission registers h for hook; decode is the request type's lean decoder
// (wire.go).
func addAdmission[C, R any](r *registration, hook string,
	h func(*C, *R) (Decision, error), cfg *C, decode func([]byte, *R) error) {
	if h == nil {
		return
	}
	r.hooks[hook] = func(b []byte) (any, error) {
		req := new(R)
		if err := decode(b, req); err != nil {
			return nil, fmt.Errorf("decode request: %w", err)
		}
		return h(cfg, req)
	}
}

// configure decodes raw into a fresh C, validates it and installs it in cfg.
func configure[C any](validate func(*C) error, raw json.RawMessage, cfg *C) error {
	c := new(C)
	if len(raw) > 0 && !bytes.Equal(raw, []byte("null")) {
		dec := json.NewDecoder(bytes.NewReader(raw))
		dec.DisallowUnknownFields()
		if err := dec.Decode(c); err != nil {
			return fmt.Errorf("config: %w", err)
		}
	}
	if validate != nil {
		if err := validate(c); err != nil {
			return err
		}
	}
	*cfg = *c
	return nil
}

func describe(name, version string, caps []string, hooks map[string]handler) []byte {
	d := struct {
		Name         string   `json:"name,omitempty"`
		Version      string   `json:"version,omitempty"`
		Hooks        []string `json:"hooks"`
		Capabilities []string `json:"capabilities,omitempty"`
	}{Name: name, Version: version, Capabilities: caps, Hooks: []string{}}
	for _, h := range []string{HookPush, HookPull, HookDelete, HookAfterPush} {
		if hooks[h] != nil {
			d.Hooks = append(d.Hooks, h)
		}
	}
	b, _ := json.Marshal(d)
	return b
}

var errNotRegistered = errors.New("sdk: no plugin registered (call sdk.Register from init)")
