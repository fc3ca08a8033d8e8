package policies_test

import (
	"context"
	"slices"
	"testing"

	"berth.dev/berth/policies"
	"berth.dev/berth/sdk"
)

// TestEmbedded loads every embedded module in the host: the ABI check passes, the
// module describes itself under its file's name and implements push.
func TestEmbedded(t *testing.T) {
	mods := policies.Builtin()
	if len(mods) != len(builtinCases) {
		t.Errorf("%d embedded modules, %d built-ins", len(mods), len(builtinCases))
	}
	h := newHost(t)
	for _, tc := range builtinCases {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			wasm, ok := mods[tc.name]
			if !ok {
				t.Fatalf("no embedded module %s", tc.name)
			}
			m := load(t, h, tc.name, wasm)
			d := m.Description()
			if d.Name != tc.name || !slices.Equal(d.Hooks, []string{sdk.HookPush}) ||
				len(d.Capabilities) != 0 {
				t.Errorf("description %+v", d)
			}
			b, err := bind(m, tc.config)
			if err != nil {
				t.Fatalf("Bind: %v", err)
			}
			defer b.Close(context.Background())
			checkAllow(t, b, tc.allow)
		})
	}
}
