package plugins

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"sync"
	"testing"
)

var grantAll = []Capability{CapLog, CapManifest}

func TestDenyLatest(t *testing.T) {
	h := newHost(t)
	b := bind(t, h, "denylatest", BindingConfig{Capabilities: grantAll})
	tests := []struct {
		name, tag  string
		wantAllow  bool
		wantReason string
	}{
		{"version", "v1", true, ""},
		{"latest", "latest", false, `tag "latest" may not be pushed to team/app`},
		{"digest only", "", true, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			d, err := call(t, b, nil, tt.tag)
			if err != nil {
				t.Fatal(err)
			}
			if d.Allow != tt.wantAllow || d.Reason != tt.wantReason {
				t.Errorf("got %+v, want allow=%v reason=%q", d, tt.wantAllow, tt.wantReason)
			}
		})
	}
	checkPool(t, b)
}

func TestDescription(t *testing.T) {
	h := newHost(t)
	m, err := h.Load(context.Background(), "denylatest", plugin(t, "denylatest"))
	if err != nil {
		t.Fatal(err)
	}
	defer m.Close(context.Background())
	d := m.Description()
	if d.Name != "deny-latest" || fmt.Sprint(d.Hooks) != "[push]" ||
		fmt.Sprint(d.Capabilities) != "[log manifest]" {
		t.Errorf("description %+v", d)
	}
	if !strings.HasPrefix(m.Digest(), "sha256:") || m.Implements("pull") {
		t.Errorf("digest %s, implements pull %v", m.Digest(), m.Implements("pull"))
	}
	b, err := m.Bind(context.Background(), BindingConfig{Capabilities: grantAll})
	if err != nil {
		t.Fatal(err)
	}
	defer b.Close(context.Background())
	err = b.Call(context.Background(), "pull", nil, push("v1"), nil)
	if !errors.Is(err, ErrHookNotImplemented) {
		t.Errorf("pull: %v, want ErrHookNotImplemented", err)
	}
}

func TestInvalidConfig(t *testing.T) {
	h := newHost(t)
	m, err := h.Load(context.Background(), "denylatest", plugin(t, "denylatest"))
	if err != nil {
		t.Fatal(err)
	}
	defer m.Close(context.Background())
	for _, cfg := range []string{`{"deny_tags":[""]}`, `{"max_layers":-1}`, `{"typo":1}`} {
		_, err := m.Bind(context.Background(), BindingConfig{
			Config: json.RawMessage(cfg), Capabilities: grantAll,
		})
		if !errors.Is(err, ErrInvalidConfig) || !errors.Is(err, ErrPluginFailed) {
			t.Errorf("config %s: %v, want ErrInvalidConfig", cfg, err)
		}
	}
	if n := h.LiveInstances(); n != 0 {
		t.Errorf("%d instances live after refused bindings", n)
	}
}

func TestSubjectCapability(t *testing.T) {
	h := newHost(t)
	b := bind(t, h, "denylatest", BindingConfig{
		Config: json.RawMessage(`{"max_layers":1}`), Capabilities: grantAll,
	})
	two := fakeSubject{manifest: []byte(`{"layers":[{},{}]}`)}
	d, err := call(t, b, two, "v1")
	if err != nil || d.Allow || d.Reason != "2 layers, at most 1" {
		t.Errorf("two layers: %+v, %v", d, err)
	}
	one := fakeSubject{manifest: []byte(`{"layers":[{}]}`)}
	if d, err := call(t, b, one, "v1"); err != nil || !d.Allow {
		t.Errorf("one layer: %+v, %v", d, err)
	}
	_, err = call(t, b, nil, "v1")
	var pe *PluginError
	if !errors.As(err, &pe) || !strings.Contains(pe.Message, "unavailable") {
		t.Errorf("no subject: %v, want a plugin error saying unavailable", err)
	}
	checkPool(t, b)
}

func TestConcurrentCalls(t *testing.T) {
	h := newHost(t)
	b := bind(t, h, "denylatest", BindingConfig{Capabilities: grantAll,
		Limits: Limits{MaxInstances: 4}})
	var wg sync.WaitGroup
	for i := range 64 {
		wg.Go(func() {
			tag := fmt.Sprintf("v%d", i)
			if i%2 == 0 {
				tag = "latest"
			}
			d, err := call(t, b, nil, tag)
			if err != nil || d.Allow != (tag != "latest") {
				t.Errorf("call %d (%s): %+v, %v", i, tag, d, err)
			}
		})
	}
	wg.Wait()
	s := checkPool(t, b)
	if s.Discarded != 0 || s.Created > 4 {
		t.Errorf("stats %+v", s)
	}
}

// TestABI10Module loads a module that needs ABI 1.0 into this 1.1 host: it loads,
// binds and answers, and the fields 1.1 added reach it as unknown members.
func TestABI10Module(t *testing.T) {
	h := newHost(t)
	m, err := h.Load(context.Background(), "abi10", plugin(t, "abi10"))
	if err != nil {
		t.Fatal(err)
	}
	defer m.Close(context.Background())
	if m.Minor() != 0 {
		t.Errorf("minor %d, want 0", m.Minor())
	}
	b, err := m.Bind(context.Background(), BindingConfig{})
	if err != nil {
		t.Fatal(err)
	}
	defer b.Close(context.Background())
	req := map[string]any{"repository": "team/app", "tag": "v1",
		"tag_state": map[string]any{"exists": true, "digest": "sha256:old"}}
	var d decision
	if err := b.Call(context.Background(), "push", nil, req, &d); err != nil {
		t.Fatal(err)
	}
	if want := `tag_state={"digest":"sha256:old","exists":true}`; d.Reason != want {
		t.Errorf("reason %q, want %q", d.Reason, want)
	}
	checkPool(t, b)
}
