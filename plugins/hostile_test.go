package plugins

import (
	"context"
	"errors"
	"strings"
	"sync"
	"testing"
	"time"
)

// hostile binds testdata/hostile, whose push misbehaves as its tag says.
func hostile(t *testing.T, limits Limits) *Binding {
	t.Helper()
	if limits.MaxInstances == 0 {
		limits.MaxInstances = 4
	}
	return bind(t, newHost(t), "hostile", BindingConfig{Limits: limits})
}

// afterHostile checks that b still answers, that the hostile instances were
// discarded (want of them) and that none leaked.
func afterHostile(t *testing.T, b *Binding, wantDiscarded uint64) {
	t.Helper()
	if d, err := call(t, b, nil, "ok"); err != nil || !d.Allow {
		t.Errorf("next call: %+v, %v", d, err)
	}
	if s := checkPool(t, b); s.Discarded != wantDiscarded {
		t.Errorf("discarded %d instances, want %d", s.Discarded, wantDiscarded)
	}
}

// meanwhile calls hostile's tag through b while eight well-behaved calls run
// beside it, checks that those are answered, and returns the hostile call's error.
func meanwhile(t *testing.T, b *Binding, subject Subject, tag string) error {
	t.Helper()
	var wg sync.WaitGroup
	var err error
	wg.Go(func() { _, err = call(t, b, subject, tag) })
	for range 8 {
		wg.Go(func() {
			if d, err := call(t, b, nil, "ok"); err != nil || !d.Allow {
				t.Errorf("call beside %s: %+v, %v", tag, d, err)
			}
		})
	}
	wg.Wait()
	return err
}

func TestEndlessLoop(t *testing.T) {
	// The deadline leaves the other calls room to instantiate their instances, which
	// under the race detector on a loaded machine takes hundreds of milliseconds.
	b := hostile(t, Limits{Timeout: 3 * time.Second})
	loopDone := make(chan error, 1)
	go func() {
		_, err := call(t, b, nil, "loop")
		loopDone <- err
	}()

	// Meanwhile, other instances answer.
	var wg sync.WaitGroup
	for range 8 {
		wg.Go(func() {
			if d, err := call(t, b, nil, "ok"); err != nil || !d.Allow {
				t.Errorf("concurrent call: %+v, %v", d, err)
			}
		})
	}
	wg.Wait()
	select {
	case err := <-loopDone:
		t.Fatalf("loop ended before the other calls finished: %v", err)
	default:
	}
	if err := <-loopDone; !errors.Is(err, ErrTimeout) {
		t.Fatalf("loop: %v, want ErrTimeout", err)
	}
	afterHostile(t, b, 1)
}

func TestMemoryBomb(t *testing.T) {
	b := hostile(t, Limits{MemoryPages: 160})
	err := meanwhile(t, b, nil, "bomb")
	if !errors.Is(err, ErrMemoryLimit) {
		t.Fatalf("bomb: %v, want ErrMemoryLimit", err)
	}
	afterHostile(t, b, 1)
}

func TestPanic(t *testing.T) {
	b := hostile(t, Limits{})
	err := meanwhile(t, b, nil, "panic")
	var pe *PluginError
	if !errors.As(err, &pe) || pe.Message != "panic: handler panicked" {
		t.Fatalf("panic: %v, want the recovered panic as a plugin error", err)
	}
	afterHostile(t, b, 0) // the SDK recovered: the instance is sound
}

func TestCrash(t *testing.T) {
	b := hostile(t, Limits{})
	err := meanwhile(t, b, nil, "crash")
	if !errors.Is(err, ErrTrapped) {
		t.Fatalf("crash: %v, want ErrTrapped", err)
	}
	afterHostile(t, b, 1)
}

func TestHugeOutput(t *testing.T) {
	b := hostile(t, Limits{MaxOutputBytes: 64 << 10})
	err := meanwhile(t, b, nil, "huge")
	if !errors.Is(err, ErrOutputTooLarge) {
		t.Fatalf("huge: %v, want ErrOutputTooLarge", err)
	}
	afterHostile(t, b, 1)
}

func TestCapabilityNotGranted(t *testing.T) {
	t.Run("used", func(t *testing.T) {
		b := hostile(t, Limits{})
		err := meanwhile(t, b, fakeSubject{manifest: []byte("{}")}, "manifest")
		if !errors.Is(err, ErrCapabilityNotGranted) || !strings.Contains(err.Error(), "manifest") {
			t.Fatalf("manifest: %v, want ErrCapabilityNotGranted naming it", err)
		}
		afterHostile(t, b, 1)
	})
	t.Run("requested", func(t *testing.T) {
		h := newHost(t)
		m, err := h.Load(context.Background(), "denylatest", plugin(t, "denylatest"))
		if err != nil {
			t.Fatal(err)
		}
		defer m.Close(context.Background())
		_, err = m.Bind(context.Background(), BindingConfig{Capabilities: []Capability{CapLog}})
		if !errors.Is(err, ErrCapabilityNotGranted) {
			t.Fatalf("bind without manifest: %v, want ErrCapabilityNotGranted", err)
		}
		_, err = m.Bind(context.Background(), BindingConfig{Capabilities: []Capability{"net"}})
		if !errors.Is(err, ErrUnknownCapability) {
			t.Fatalf("bind with net: %v, want ErrUnknownCapability", err)
		}
	})
}

func TestWrongABI(t *testing.T) {
	h := newHost(t)
	tests := []struct {
		name string
		wasm []byte
		want error
	}{
		{"major 2", plugin(t, "badabi"), ErrABIVersion},
		{"not wasm", []byte("\x00asm garbage"), nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := h.Load(context.Background(), tt.name, tt.wasm)
			if err == nil || (tt.want != nil && !errors.Is(err, tt.want)) {
				t.Fatalf("Load: %v, want %v", err, tt.want)
			}
		})
	}
	if n := h.LiveInstances(); n != 0 {
		t.Errorf("%d instances live", n)
	}
}

// TestHostileAtBind misbehaves while a binding validates its configuration: Bind
// fails, leaves no instance, and the same module binds and answers afterwards.
func TestHostileAtBind(t *testing.T) {
	h := newHost(t)
	m, err := h.Load(context.Background(), "hostile", plugin(t, "hostile"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { m.Close(context.Background()) })
	tests := []struct {
		misdeed string
		want    error
	}{
		{"bomb", ErrMemoryLimit},
		{"crash", ErrTrapped},
		{"panic", ErrInvalidConfig},
		{"manifest", ErrCapabilityNotGranted},
	}
	for _, tt := range tests {
		t.Run(tt.misdeed, func(t *testing.T) {
			_, err := m.Bind(context.Background(), BindingConfig{
				Config: []byte(`{"at_init":"` + tt.misdeed + `"}`),
				Limits: Limits{MemoryPages: 160},
			})
			if !errors.Is(err, tt.want) {
				t.Fatalf("Bind: %v, want %v", err, tt.want)
			}
			if n := h.LiveInstances(); n != 0 {
				t.Errorf("%d instances live after the failed Bind", n)
			}
		})
	}
	b, err := m.Bind(context.Background(), BindingConfig{})
	if err != nil {
		t.Fatal(err)
	}
	defer b.Close(context.Background())
	afterHostile(t, b, 0)
}
