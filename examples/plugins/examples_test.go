// Package examples holds only this test: it builds every example plugin to
// WebAssembly and runs it in Berth's real plugin host, with a fake Subject serving
// the documents the plugins read through their capabilities.
package examples

import (
	"context"
	"errors"
	"strings"
	"testing"
	"time"

	"berth.dev/berth/plugins"
	"berth.dev/berth/sdk"
)

// call is one hook call and the subject it is about.
type call struct {
	req     any
	subject plugins.Subject
}

// exampleCase runs one example: bound with config and caps, allow must be
// allowed and deny denied with a reason containing wantReason.
type exampleCase struct {
	dir        string
	config     string
	caps       []plugins.Capability
	hook       string
	allow      []call
	deny       call
	wantReason string
}

const bundle = "application/vnd.dev.sigstore.bundle.v0.3+json"

var imageConfig = &sdk.Descriptor{MediaType: "application/vnd.oci.image.config.v1+json",
	Digest: "sha256:c", Size: 2}

func imagePush(repo string, annotations map[string]string) sdk.PushRequest {
	return sdk.PushRequest{Repository: repo, Tag: "v1", Digest: "sha256:i",
		Manifest: sdk.ManifestSummary{Config: imageConfig, Annotations: annotations}}
}

func pullTag(ref string) sdk.PullRequest {
	return sdk.PullRequest{Repository: "team/app", Reference: ref, Digest: "sha256:i"}
}

var exampleCases = []exampleCase{
	{dir: "require-signature-referrer", config: `{"artifact_type":"` + bundle + `"}`,
		caps: []plugins.Capability{plugins.CapReferrers}, hook: sdk.HookPull,
		allow: []call{
			{pullTag("v1"), subject{referrers: `{"manifests":[{"artifactType":"` +
				bundle + `"}]}`}},
			{pullTag("sha256:i"), subject{}},
		},
		deny:       call{pullTag("v1"), subject{}},
		wantReason: "has no referrer of type " + bundle},
	{dir: "label-team", hook: sdk.HookPush,
		allow: []call{{imagePush("payments/api",
			map[string]string{"dev.berth.team": "payments"}), nil}},
		deny: call{imagePush("payments/api",
			map[string]string{"dev.berth.team": "search"}), nil},
		wantReason: "belongs to team payments"},
	{dir: "deny-root-user", config: `{"exempt":["infra/*"]}`,
		caps: []plugins.Capability{plugins.CapConfig}, hook: sdk.HookPush,
		allow: []call{
			{imagePush("team/app", nil), subject{config: `{"config":{"User":"app"}}`}},
			{imagePush("infra/proxy", nil), subject{config: `{"config":{}}`}},
		},
		deny:       call{imagePush("team/app", nil), subject{config: `{"config":{}}`}},
		wantReason: "runs as root"},
}

func TestExamplesInHost(t *testing.T) {
	h := newHost(t)
	for _, tc := range exampleCases {
		t.Run(tc.dir, func(t *testing.T) {
			t.Parallel()
			m := load(t, h, tc.dir, compile(t, tc.dir))
			b := bind(t, m, tc)
			for _, c := range tc.allow {
				if d, err := decide(b, tc.hook, c); err != nil || !d.Allow {
					t.Errorf("%+v: %+v, %v, want allowed", c.req, d, err)
				}
			}
			d, err := decide(b, tc.hook, tc.deny)
			if err != nil || d.Allow || !strings.Contains(d.Reason, tc.wantReason) {
				t.Errorf("%+v: %+v, %v, want denied for %q", tc.deny.req, d, err, tc.wantReason)
			}
		})
	}
}

// bind binds m as tc says, after checking that a binding without tc's
// capabilities is refused.
func bind(t *testing.T, m *plugins.Module, tc exampleCase) *plugins.Binding {
	t.Helper()
	cfg := plugins.BindingConfig{Config: []byte(tc.config),
		Limits: plugins.Limits{Timeout: 10 * time.Second}}
	if tc.config == "" {
		cfg.Config = nil
	}
	if len(tc.caps) > 0 {
		_, err := m.Bind(context.Background(), cfg)
		if !errors.Is(err, plugins.ErrCapabilityNotGranted) {
			t.Errorf("Bind without capabilities: %v, want ErrCapabilityNotGranted", err)
		}
	}
	cfg.Capabilities = tc.caps
	b, err := m.Bind(context.Background(), cfg)
	if err != nil {
		t.Fatalf("Bind: %v", err)
	}
	t.Cleanup(func() { b.Close(context.Background()) })
	return b
}

func decide(b *plugins.Binding, hook string, c call) (sdk.Decision, error) {
	var d sdk.Decision
	err := b.Call(context.Background(), hook, c.subject, c.req, &d)
	return d, err
}

// subject is a fake plugins.Subject serving fixed documents; an empty one is
// unavailable.
type subject struct{ manifest, config, referrers string }

func (s subject) Manifest(context.Context) ([]byte, error)  { return doc(s.manifest) }
func (s subject) Config(context.Context) ([]byte, error)    { return doc(s.config) }
func (s subject) Referrers(context.Context) ([]byte, error) { return doc(s.referrers) }

func doc(s string) ([]byte, error) {
	if s == "" {
		return nil, plugins.ErrNoDocument
	}
	return []byte(s), nil
}
