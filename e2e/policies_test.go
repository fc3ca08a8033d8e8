package e2e

import (
	"context"
	"encoding/json"
	"errors"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"berth.dev/berth/plugins/wasmbuild"
)

// followTimeout bounds how long a gateway may take to apply a binding change
// made through the admin API (a Watch event, then binding the plugin).
const followTimeout = time.Minute

// berth runs a berth admin command against s's admin API as the tests' admin
// and returns its combined output and error.
func berth(t *testing.T, s *server, args ...string) (string, error) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), toolTimeout)
	defer cancel()
	cmd := exec.CommandContext(ctx, target.bin, args...)
	cmd.Env = append(os.Environ(), "BERTH_CONFIG_DIR="+t.TempDir(),
		"BERTH_URL=http://"+s.addr, "BERTH_USERNAME="+adminUser,
		"BERTH_PASSWORD="+adminPassword)
	t.Logf("$ berth %s", strings.Join(args, " "))
	out, err := cmd.CombinedOutput()
	return string(out), err
}

// mustBerth is berth that fails the test when the command fails.
func mustBerth(t *testing.T, s *server, args ...string) string {
	t.Helper()
	out, err := berth(t, s, args...)
	if err != nil {
		t.Fatalf("berth %s: %v\n%s", strings.Join(args, " "), err, out)
	}
	return out
}

// attach attaches a policy and returns its ID.
func attach(t *testing.T, s *server, args ...string) string {
	t.Helper()
	out := mustBerth(t, s, append([]string{"policy", "attach"}, args...)...)
	id, _, ok := strings.Cut(strings.TrimPrefix(out, "attached "), ":")
	if !ok {
		t.Fatalf("attach printed %q, want the binding's ID", out)
	}
	return id
}

// eventually runs try until it returns nil or followTimeout passes; it returns
// the last error.
func eventually(try func() error) error {
	deadline := time.Now().Add(followTimeout)
	for {
		err := try()
		if err == nil || time.Now().After(deadline) {
			return err
		}
		time.Sleep(200 * time.Millisecond)
	}
}

// TestPolicyDeniesPush binds the built-in deny-tags and tag-immutability policies
// to pushes in the configuration of `berth serve`: crane pushes v1, its push of
// latest and its push of other content to v1 are refused with the policies'
// reasons, and nothing of the refused pushes is visible.
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
  - plugin: tag-immutability
    hook: push
    scope: team
    config: {patterns: ["v*"]}
`))
	s := startServerWith(t, "--config", config)
	push := func(ref string) (string, error) {
		writeFile(t, filepath.Join(work, "layer.tar"),
			tarFile(t, "berth/policy.bin", randomBytes(t, 4<<10)))
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
	v1 := run(t, work, crane, "--insecure", "digest", s.ref("team/app:v1"))
	out, err = push("team/app:v1")
	if err == nil || !strings.Contains(out, "DENIED") || !strings.Contains(out, "immutable") {
		t.Errorf("moving v1: %v, want DENIED by tag-immutability:\n%s", err, out)
	}
	if now := run(t, work, crane, "--insecure", "digest", s.ref("team/app:v1")); now != v1 {
		t.Errorf("v1 moved from %s to %s", v1, now)
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

// TestPoliciesThroughTheAPI attaches a push policy (built in) and a pull policy
// (an example plugin installed through the API) with the berth CLI, sees crane's
// push and pull refused with the plugins' reasons, detaches both and sees both
// work again.
func TestPoliciesThroughTheAPI(t *testing.T) {
	if target.kind != "berth" {
		t.Skipf("policies are Berth's, not %s's", target.kind)
	}
	crane := tool(t, "crane")
	t.Parallel()
	work := t.TempDir()
	module := filepath.Join(work, "signed.wasm")
	if err := wasmbuild.Build(context.Background(),
		"../examples/plugins/require-signature-referrer", module); err != nil {
		t.Fatal(err)
	}
	s := startServer(t)
	push := func() error {
		// New content each time: crane skips a push of a manifest the tag already has.
		writeFile(t, filepath.Join(work, "layer.tar"),
			tarFile(t, "berth/policy.bin", randomBytes(t, 4<<10)))
		out, errOut, err := runErr(t, work, crane, "--insecure", "append", "--oci-empty-base",
			"-f", "layer.tar", "-t", s.ref("team/app:latest"))
		return outcome(err, out+errOut)
	}
	pull := func() error {
		out, errOut, err := runErr(t, work, crane, "--insecure", "manifest",
			s.ref("team/app:latest"))
		return outcome(err, out+errOut)
	}
	if err := push(); err != nil {
		t.Fatalf("push before any policy: %v", err)
	}

	out := mustBerth(t, s, "plugin", "install", "--name", "signed", module)
	if !strings.Contains(out, "installed signed sha256:") {
		t.Errorf("install printed %q", out)
	}
	pushID := attach(t, s, "--plugin", "deny-tags", "--hook", "push", "--scope", "team",
		"--config", `{"patterns":["latest"]}`)
	pullID := attach(t, s, "--plugin", "signed", "--hook", "pull", "--scope", "team",
		"--grant", "referrers", "--config", `{"artifact_type":"application/vnd.example.sig"}`)
	list := mustBerth(t, s, "policy", "list")
	if !strings.Contains(list, pushID) || !strings.Contains(list, pullID) {
		t.Errorf("policy list does not show both bindings:\n%s", list)
	}

	wantDenied(t, "push", push, "deny-tags", `tag "latest" may not be pushed`)
	wantDenied(t, "pull", pull, "signed", "sign it first")

	mustBerth(t, s, "policy", "detach", pushID)
	mustBerth(t, s, "policy", "detach", pullID)
	if err := eventually(push); err != nil {
		t.Errorf("push after detaching: %v", err)
	}
	if err := eventually(pull); err != nil {
		t.Errorf("pull after detaching: %v", err)
	}
}

// TestPolicyAttachRefusals checks the one-line refusals of the CLI: a module of
// another ABI major at install, a configuration the plugin refuses at attach.
func TestPolicyAttachRefusals(t *testing.T) {
	if target.kind != "berth" {
		t.Skipf("policies are Berth's, not %s's", target.kind)
	}
	t.Parallel()
	work := t.TempDir()
	module := filepath.Join(work, "badabi.wasm")
	if err := wasmbuild.Build(context.Background(), "../plugins/testdata/badabi",
		module); err != nil {
		t.Fatal(err)
	}
	s := startServer(t)
	tests := []struct {
		name string
		args []string
		want string
	}{
		{"wrong ABI", []string{"plugin", "install", "--name", "bad", module},
			"unsupported plugin ABI version: module speaks ABI major 2"},
		{"refused config", []string{"policy", "attach", "--plugin", "deny-tags", "--hook", "push",
			"--config", `{"patterns":[]}`}, "patterns"},
		{"no such hook", []string{"policy", "attach", "--plugin", "deny-tags", "--hook", "pull",
			"--config", `{"patterns":["x"]}`}, "has no pull hook"},
	}
	for _, tt := range tests {
		out, err := berth(t, s, tt.args...)
		if err == nil || !strings.Contains(out, tt.want) {
			t.Errorf("%s: %v, output %q, want an error showing %q", tt.name, err, out, tt.want)
		}
		if n := strings.Count(strings.TrimSpace(out), "\n"); n > 0 {
			t.Errorf("%s: %d lines, want one:\n%s", tt.name, n+1, out)
		}
	}
	if list := mustBerth(t, s, "policy", "list"); strings.Count(list, "\n") != 1 {
		t.Errorf("refused attaches left bindings:\n%s", list)
	}
}

// outcome is nil when a client succeeded, or its error with its output.
func outcome(err error, out string) error {
	if err != nil {
		return errors.New(out)
	}
	return nil
}

// wantDenied waits until op is refused (the gateway follows the binding), then
// checks that the refusal is DENIED and shows each of want.
func wantDenied(t *testing.T, what string, op func() error, want ...string) {
	t.Helper()
	var denial error
	err := eventually(func() error {
		if denial = op(); denial == nil {
			return errors.New("allowed")
		}
		return nil
	})
	if err != nil {
		t.Fatalf("%s: still allowed %s after the policy was attached", what, followTimeout)
	}
	for _, w := range append([]string{"DENIED"}, want...) {
		if !strings.Contains(denial.Error(), w) {
			t.Errorf("%s: refusal does not show %q:\n%s", what, w, denial)
		}
	}
}

// TestAfterPushHook installs the log-pushes example, attaches it to the
// after-push hook and waits for its record of a push in the server's log.
func TestAfterPushHook(t *testing.T) {
	if target.kind != "berth" {
		t.Skipf("policies are Berth's, not %s's", target.kind)
	}
	crane := tool(t, "crane")
	t.Parallel()
	work := t.TempDir()
	module := filepath.Join(work, "log-pushes.wasm")
	if err := wasmbuild.Build(context.Background(), "../examples/plugins/log-pushes",
		module); err != nil {
		t.Fatal(err)
	}
	s := startServer(t)
	mustBerth(t, s, "plugin", "install", "--name", "log-pushes", module)
	if out, err := berth(t, s, "policy", "attach", "--plugin", "log-pushes", "--hook",
		"after-push", "--config", "{}"); err == nil {
		t.Errorf("attach without granting log succeeded: %s", out)
	}
	attach(t, s, "--plugin", "log-pushes", "--hook", "after-push", "--grant", "log",
		"--config", "{}")
	writeFile(t, filepath.Join(work, "layer.tar"),
		tarFile(t, "berth/policy.bin", randomBytes(t, 4<<10)))
	run(t, work, crane, "--insecure", "append", "--oci-empty-base", "-f", "layer.tar",
		"-t", s.ref("team/app:v1"))
	if err := s.waitLog("pushed team/app:v1@sha256:", followTimeout); err != nil {
		t.Fatal(err)
	}
}

// TestPluginTestCommand runs a built-in policy's module with `berth plugin test`,
// without a server: one line out, and the exit status says the decision.
func TestPluginTestCommand(t *testing.T) {
	if target.kind != "berth" || target.bin == "" {
		t.Skip("berth plugin test is Berth's")
	}
	t.Parallel()
	work := t.TempDir()
	req := func(tag string) string {
		p := filepath.Join(work, tag+".json")
		writeFile(t, p, []byte(`{"repository":"team/app","tag":"`+tag+`","digest":"sha256:d"}`))
		return p
	}
	module := "../policies/wasm/deny-tags.wasm"
	tests := []struct {
		name, request, config string
		code                  int
		want                  string
	}{
		{"allowed", req("v1"), `{"patterns":["latest"]}`, 0, "allowed"},
		{"denied", req("latest"), `{"patterns":["latest"]}`, 1,
			`denied: tag "latest" may not be pushed to team/app`},
		{"config refused", req("v1"), `{"patterns":[]}`, 2, "error: "},
		{"request not JSON", module, `{"patterns":["x"]}`, 2, "error: " + module + " is not"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			cmd := exec.Command(target.bin, "plugin", "test", module, "--hook", "push",
				"--request", tt.request, "--config", tt.config)
			out, err := cmd.Output()
			code := 0
			var exit *exec.ExitError
			if errors.As(err, &exit) {
				code = exit.ExitCode()
			} else if err != nil {
				t.Fatal(err)
			}
			line := strings.TrimSuffix(string(out), "\n")
			if code != tt.code || !strings.HasPrefix(line, tt.want) ||
				strings.Contains(line, "\n") {
				t.Errorf("exit %d, output %q; want exit %d and one line starting %q", code, line,
					tt.code, tt.want)
			}
		})
	}
}

// TestPolicyScopes checks who may attach where: a maintainer of team may attach and
// detach in team's scope, not in the system's, and lists only team's bindings.
func TestPolicyScopes(t *testing.T) {
	if target.kind != "berth" {
		t.Skipf("policies are Berth's, not %s's", target.kind)
	}
	t.Parallel()
	s := startServer(t)
	mustAPI(t, s.addr, "POST", "/api/v1/users",
		map[string]any{"name": "keeper", "password": "keeper-pw-1"}, 201)
	mustAPI(t, s.addr, "PUT", "/api/v1/projects/team/members/keeper",
		map[string]any{"role": "maintainer"}, 200)
	attachAs := func(user, pw, scope string) reply {
		return apiCall(t, s.addr, user, pw, "POST", "/api/v1/policies", []byte(
			`{"plugin":"deny-tags","hook":"push","scope":"`+scope+
				`","config":{"patterns":["latest"]}}`))
	}
	if r := attachAs("keeper", "keeper-pw-1", "system"); r.status != 403 {
		t.Errorf("maintainer attaching in the system scope: %v, want 403", r)
	}
	if r := attachAs("keeper", "keeper-pw-1", "other"); r.status != 403 {
		t.Errorf("maintainer of team attaching in other: %v, want 403", r)
	}
	attachAs(adminUser, adminPassword, "system")
	r := attachAs("keeper", "keeper-pw-1", "team")
	var b struct{ ID, Scope string }
	if r.status != 201 || json.Unmarshal(r.body, &b) != nil || b.Scope != "team" {
		t.Fatalf("maintainer attaching in team: %v", r)
	}
	list := apiCall(t, s.addr, "keeper", "keeper-pw-1", "GET", "/api/v1/policies", nil)
	if n := strings.Count(string(list.body), `"id"`); n != 1 {
		t.Errorf("maintainer sees %d bindings, want team's one: %s", n, list.body)
	}
	del := apiCall(t, s.addr, "keeper", "keeper-pw-1", "DELETE", "/api/v1/policies/"+b.ID, nil)
	if del.status != 204 {
		t.Errorf("maintainer detaching team's binding: %v", del)
	}
}
