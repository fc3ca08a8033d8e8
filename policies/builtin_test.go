package policies_test

import (
	"context"
	"errors"
	"os"
	"slices"
	"strings"
	"testing"

	"berth.dev/berth/plugins"
	"berth.dev/berth/sdk"
)

// builtinCase exercises one built-in through the real host: a configuration, a
// push it allows, a push it denies and a configuration it refuses.
type builtinCase struct {
	name       string
	config     string
	allow      sdk.PushRequest
	deny       sdk.PushRequest
	wantReason string // a part of the denial's reason
	badConfig  string
}

func push(tag string, m sdk.ManifestSummary) sdk.PushRequest {
	return sdk.PushRequest{Repository: "team/app", Tag: tag, Digest: "sha256:new",
		MediaType: "application/vnd.oci.image.manifest.v1+json", Manifest: m}
}

// moved pushes tag, which names digest before the push (ABI 1.1's tag_state).
func moved(tag, digest string) sdk.PushRequest {
	r := push(tag, image(1, nil))
	r.TagState = &sdk.TagState{Exists: true, Digest: digest}
	return r
}

func image(size int64, annotations map[string]string) sdk.ManifestSummary {
	return sdk.ManifestSummary{
		Config:      &sdk.Descriptor{Digest: "sha256:c", Size: 100},
		Layers:      []sdk.Descriptor{{Digest: "sha256:l", Size: size}},
		TotalSize:   100 + size,
		Annotations: annotations,
	}
}

func index(platforms ...sdk.Platform) sdk.ManifestSummary {
	return sdk.ManifestSummary{Platforms: platforms}
}

var (
	amd64 = sdk.Platform{OS: "linux", Architecture: "amd64"}
	s390x = sdk.Platform{OS: "linux", Architecture: "s390x"}
	src   = map[string]string{"org.opencontainers.image.source": "https://git.example/app"}
)

var builtinCases = []builtinCase{
	{name: "tag-immutability", config: `{"patterns":["v*","release-*"]}`,
		allow: push("dev", image(1, nil)), deny: moved("v1", "sha256:old"),
		wantReason: "immutable", badConfig: `{"patterns":["v[1"]}`},
	{name: "deny-tags", config: `{"patterns":["latest"]}`,
		allow: push("v1", image(1, nil)), deny: push("latest", image(1, nil)),
		wantReason: `tag "latest" may not be pushed`, badConfig: `{"patterns":[]}`},
	{name: "max-image-size", config: `{"max_bytes":1000}`,
		allow: push("v1", image(900, nil)), deny: push("v1", image(901, nil)),
		wantReason: "1001 bytes", badConfig: `{"max_bytes":0}`},
	{name: "required-annotations", config: `{"keys":["org.opencontainers.image.source"]}`,
		allow: push("v1", image(1, src)), deny: push("v1", image(1, nil)),
		wantReason: "org.opencontainers.image.source", badConfig: `{"keys":[""]}`},
	{name: "allowed-platforms", config: `{"platforms":["linux/amd64","linux/arm64"]}`,
		allow: push("v1", index(amd64)), deny: push("v1", index(amd64, s390x)),
		wantReason: "linux/s390x", badConfig: `{"platforms":["linux"]}`},
}

// TestBuiltinsCovered fails when a built-in has no case above.
func TestBuiltinsCovered(t *testing.T) {
	entries, err := os.ReadDir("builtin")
	if err != nil {
		t.Fatal(err)
	}
	for _, e := range entries {
		if !slices.ContainsFunc(builtinCases, func(c builtinCase) bool {
			return c.name == e.Name()
		}) {
			t.Errorf("built-in %s has no case in builtinCases", e.Name())
		}
	}
}

// TestBuiltinsInHost compiles every built-in from source and runs it in the host.
func TestBuiltinsInHost(t *testing.T) {
	h := newHost(t)
	for _, tc := range builtinCases {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			m := load(t, h, tc.name, compile(t, tc.name))
			if _, err := bind(m, tc.badConfig); !errors.Is(err, plugins.ErrInvalidConfig) {
				t.Errorf("config %s: %v, want ErrInvalidConfig", tc.badConfig, err)
			}
			b, err := bind(m, tc.config)
			if err != nil {
				t.Fatalf("Bind: %v", err)
			}
			defer b.Close(context.Background())
			checkAllow(t, b, tc.allow)
			checkDeny(t, b, tc)
		})
	}
}

func checkAllow(t *testing.T, b *plugins.Binding, req sdk.PushRequest) {
	t.Helper()
	var d sdk.Decision
	if err := b.Call(context.Background(), sdk.HookPush, nil, req, &d); err != nil || !d.Allow {
		t.Errorf("push %s: %+v, %v, want allowed", req.Tag, d, err)
	}
}

func checkDeny(t *testing.T, b *plugins.Binding, tc builtinCase) {
	t.Helper()
	var d sdk.Decision
	err := b.Call(context.Background(), sdk.HookPush, nil, tc.deny, &d)
	if err != nil || d.Allow || !strings.Contains(d.Reason, tc.wantReason) {
		t.Errorf("push %s: %+v, %v, want denied for %q", tc.deny.Tag, d, err, tc.wantReason)
	}
}
