package sdk

import (
	"encoding/json"
	"errors"
	"strings"
	"testing"
)

type testConfig struct {
	Deny string `json:"deny"`
}

func register(t *testing.T) {
	t.Helper()
	registered = nil
	t.Cleanup(func() { registered = nil; clear(granted) })
	Register(Plugin[testConfig]{
		Name:         "t",
		Capabilities: []string{CapLog},
		Validate: func(c *testConfig) error {
			if c.Deny == "" {
				return errors.New("deny: required")
			}
			return nil
		},
		Push: func(c *testConfig, r *PushRequest) (Decision, error) {
			switch r.Tag {
			case c.Deny:
				return Deny("no " + r.Tag), nil
			case "boom":
				panic("boom")
			case "err":
				return Decision{}, errors.New("broken")
			}
			return Allow(), nil
		},
	})
}

func TestDescribe(t *testing.T) {
	register(t)
	want := `{"name":"t","hooks":["push"],"capabilities":["log"]}`
	if got := string(describeMessage()); got != want {
		t.Errorf("describe %s, want %s", got, want)
	}
}

func TestInit(t *testing.T) {
	register(t)
	tests := []struct{ name, msg, want string }{
		{"valid", `{"abi":"1.0","config":{"deny":"latest"},"capabilities":["log"]}`,
			`{"result":{}}`},
		{"refused", `{"config":{}}`, `{"error":"deny: required"}`},
		{"unknown field", `{"config":{"deny":"x","other":1}}`,
			`{"error":"config: json: unknown field \"other\""}`},
		{"garbage", `{`, `{"error":"sdk: decode init: unexpected end of JSON input"}`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := string(initMessage([]byte(tt.msg))); got != tt.want {
				t.Errorf("got %s, want %s", got, tt.want)
			}
		})
	}
}

func TestHook(t *testing.T) {
	register(t)
	initMessage([]byte(`{"config":{"deny":"latest"},"capabilities":["log"]}`))
	if !granted[CapLog] || granted[CapManifest] {
		t.Errorf("granted %v", granted)
	}
	tests := []struct{ name, hook, tag, want string }{
		{"allow", HookPush, "v1", `{"result":{"allow":true}}`},
		{"deny", HookPush, "latest", `{"result":{"allow":false,"reason":"no latest"}}`},
		{"error", HookPush, "err", `{"error":"broken"}`},
		{"panic", HookPush, "boom", `{"error":"panic: boom"}`},
		{"unimplemented", HookPull, "v1", `{"error":"sdk: hook \"pull\" not implemented"}`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			req, _ := json.Marshal(PushRequest{Repository: "r", Tag: tt.tag})
			if got := string(hookMessage(tt.hook, req)); got != tt.want {
				t.Errorf("got %s, want %s", got, tt.want)
			}
		})
	}
}

func TestDocumentsNotGranted(t *testing.T) {
	register(t)
	if _, err := Manifest(); !errors.Is(err, ErrNotGranted) {
		t.Errorf("Manifest: %v, want ErrNotGranted", err)
	}
	initMessage([]byte(`{"config":{"deny":"x"},"capabilities":["manifest"]}`))
	if _, err := Manifest(); !errors.Is(err, ErrUnavailable) ||
		!strings.Contains(err.Error(), "manifest") {
		t.Errorf("Manifest off wasm: %v, want ErrUnavailable", err)
	}
}
