package e2e

import (
	"path/filepath"
	"strings"
	"testing"
)

// TestPolicyDeniesPush binds the built-in deny-tags policy to pushes in the
// configuration of `berth serve`: crane pushes v1, its push of latest is refused
// with the policy's reason, and nothing of the refused push is visible.
func TestPolicyDeniesPush(t *testing.T) {
	if target.kind != "berth" {
		t.Skipf("policies are Berth's, not %s's", target.kind)
	}
	crane := tool(t, "crane")
	t.Parallel()
	work := t.TempDir()
	config := filepath.Join(work, "berth.yaml")
	writeFile(t, config, []byte(`policies:
  - plugin: deny-tags
    hook: push
    scope: team
    config: {patterns: ["latest"]}
`))
	s := startServerWith(t, "--config", config)
	writeFile(t, filepath.Join(work, "layer.tar"),
		tarFile(t, "berth/policy.bin", randomBytes(t, 4<<10)))
	push := func(ref string) (string, error) {
		out, errOut, err := runErr(t, work, crane, "--insecure", "append", "--oci-empty-base",
			"-f", "layer.tar", "-t", s.ref(ref))
		return out + errOut, err
	}

	if out, err := push("team/app:v1"); err != nil {
		t.Fatalf("push of v1: %v\n%s", err, out)
	}
	out, err := push("team/app:latest")
	if err == nil {
		t.Fatal("push of latest succeeded; the policy should refuse it")
	}
	for _, want := range []string{"DENIED", "deny-tags", `"latest"`} {
		if !strings.Contains(out, want) {
			t.Errorf("crane's error does not show %q:\n%s", want, out)
		}
	}
	tags := run(t, work, crane, "--insecure", "ls", s.ref("team/app"))
	if strings.TrimSpace(tags) != "v1" {
		t.Errorf("tags after the refused push: %q, want only v1", tags)
	}
	// Out of the binding's scope, latest is fine.
	if out, err := push("other/app:latest"); err != nil {
		t.Errorf("push of latest outside the policy's scope: %v\n%s", err, out)
	}
}
