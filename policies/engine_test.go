package policies_test

import (
	"context"
	"errors"
	"io"
	"log/slog"
	"strings"
	"testing"

	"berth.dev/berth/policies"
	"berth.dev/berth/sdk"
)

func TestEngine(t *testing.T) {
	ctx := context.Background()
	quiet := slog.New(slog.NewTextHandler(io.Discard, nil))
	e, err := policies.NewEngine(ctx, newHost(t), []policies.BindingSpec{{
		Plugin: "deny-tags", Hook: policies.HookPush, Scope: "team",
		Config: map[string]any{"patterns": []string{"latest"}},
	}}, nil, quiet)
	if err != nil {
		t.Fatal(err)
	}
	defer e.Close(ctx)
	tests := []struct {
		name, repo, tag string
		denied          bool
	}{
		{"versioned tag", "team/app", "v1", false},
		{"denied tag", "team/app", "latest", true},
		{"out of scope", "other/app", "latest", false},
		{"scope is a whole component", "teamwork/app", "latest", false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			err := e.Push(ctx, sdk.PushRequest{Repository: tt.repo, Tag: tt.tag}, nil)
			if got := errors.Is(err, policies.ErrDenied); got != tt.denied {
				t.Fatalf("Push(%s:%s) = %v, want denied %v", tt.repo, tt.tag, err, tt.denied)
			}
			if tt.denied && !strings.Contains(err.Error(), `"latest"`) {
				t.Errorf("denial %q does not give the policy's reason", err)
			}
		})
	}
	if err := e.Pull(ctx, sdk.PullRequest{Repository: "team/app"}, nil); err != nil {
		t.Errorf("pull with only a push binding: %v", err)
	}
}

func TestEngineRefusesBadSpecs(t *testing.T) {
	ctx := context.Background()
	quiet := slog.New(slog.NewTextHandler(io.Discard, nil))
	for _, spec := range []policies.BindingSpec{
		{Plugin: "no-such-policy", Hook: policies.HookPush},
		{Plugin: "deny-tags", Hook: "upload"},
		{Plugin: "deny-tags", Hook: policies.HookPull}, // deny-tags has no pull hook
		{Plugin: "deny-tags", Hook: policies.HookPush, Config: map[string]any{"patterns": "x"}},
	} {
		e, err := policies.NewEngine(ctx, newHost(t), []policies.BindingSpec{spec}, nil, quiet)
		if err == nil {
			e.Close(ctx)
			t.Errorf("NewEngine(%+v) succeeded", spec)
		}
	}
}

func TestSummarize(t *testing.T) {
	index := `{"schemaVersion":2,"mediaType":"application/vnd.oci.image.index.v1+json",` +
		`"manifests":[{"mediaType":"application/vnd.oci.image.manifest.v1+json",` +
		`"digest":"sha256:` + strings.Repeat("a", 64) + `","size":10,` +
		`"platform":{"os":"linux","architecture":"arm64","variant":"v8"}}]}`
	s := policies.Summarize([]byte(index))
	if len(s.Manifests) != 1 || len(s.Platforms) != 1 || s.Platforms[0].Variant != "v8" {
		t.Fatalf("index summary = %+v", s)
	}
	image := `{"schemaVersion":2,"config":{"mediaType":"c","digest":"sha256:` +
		strings.Repeat("b", 64) + `","size":3},"layers":[{"mediaType":"l","digest":"sha256:` +
		strings.Repeat("c", 64) + `","size":4}],"annotations":{"k":"v"}}`
	s = policies.Summarize([]byte(image))
	if s.TotalSize != 7 || s.Config == nil || len(s.Layers) != 1 || s.Annotations["k"] != "v" {
		t.Fatalf("image summary = %+v", s)
	}
}
