package policies_test

import (
	"context"
	"io"
	"log/slog"
	"testing"

	"berth.dev/berth/policies"
	"berth.dev/berth/sdk"
)

// BenchmarkEnginePush measures one push decision with 1 and 3 built-in policies
// bound, all allowing, on warm pools.
func BenchmarkEnginePush(b *testing.B) {
	specs := []policies.BindingSpec{
		{Plugin: "deny-tags", Hook: "push", Config: map[string]any{"patterns": []string{"x"}}},
		{Plugin: "max-image-size", Hook: "push", Config: map[string]any{"max_bytes": 1 << 30}},
		{Plugin: "required-annotations", Hook: "push",
			Config: map[string]any{"keys": []string{"k"}}},
	}
	req := sdk.PushRequest{Repository: "team/app", Tag: "v1", Digest: "sha256:d",
		Manifest: image(1000, map[string]string{"k": "v"})}
	for _, n := range []int{1, 3} {
		b.Run(string(rune('0'+n)), func(b *testing.B) {
			ctx := context.Background()
			quiet := slog.New(slog.NewTextHandler(io.Discard, nil))
			e, err := policies.NewEngine(ctx, newHost(b), specs[:n], nil, quiet)
			if err != nil {
				b.Fatal(err)
			}
			defer e.Close(ctx)
			for b.Loop() {
				if err := e.Push(ctx, req, nil); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}
