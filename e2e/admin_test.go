package e2e

import (
	"encoding/json"
	"net/http"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"
)

// berthCLI runs an admin command of the berth binary with its own credential
// directory and returns stdout, stderr and the error.
func berthCLI(t *testing.T, confDir, stdin string, args ...string) (string, string, error) {
	t.Helper()
	env := append(os.Environ(), "BERTH_CONFIG_DIR="+confDir)
	return runInput(t, confDir, env, stdin, target.bin, args...)
}

// TestAdminWorkflow is the operator's guide as a test: an admin logs in with the
// CLI, creates a project with a quota, a user and a robot for CI; the robot pushes
// with crane until the quota refuses a push that leaves nothing behind; disabling the
// robot locks it out at once; the audit log names who did what, from where.
func TestAdminWorkflow(t *testing.T) {
	skipUnlessBerth(t)
	crane := tool(t, "crane")
	t.Parallel()
	s := startServer(t)
	conf := t.TempDir()
	cli := func(stdin string, args ...string) string {
		t.Helper()
		out, errOut, err := berthCLI(t, conf, stdin, args...)
		if err != nil {
			t.Fatalf("berth %s: %v\n%s%s", strings.Join(args, " "), err, out, errOut)
		}
		return out
	}
	cli(adminPassword+"\n", "login", "http://"+s.addr, "--username", "admin", "--password-stdin")
	cli("", "project", "create", "ci", "--quota", "300KiB")
	_, errOut, err := berthCLI(t, conf, "", "project", "create", "ci")
	if err == nil || !strings.Contains(errOut, "already exists") ||
		strings.Count(strings.TrimSpace(errOut), "\n") != 0 {
		t.Errorf("creating ci twice: err %v, stderr %q; want one line saying it exists", err, errOut)
	}
	cli("dev-password-1\n", "user", "create", "dev", "--password-stdin")
	cli("", "project", "member", "set", "ci", "dev", "developer")
	if out := cli("", "project", "member", "list", "ci"); !strings.Contains(out, "developer") {
		t.Errorf("member list: %q", out)
	}
	out := cli("", "robot", "create", "builder", "--project", "ci", "--perm", "ci:pull,push")
	m := regexp.MustCompile(`(?m)^robot: (\S+)\nsecret: (\S+)$`).FindStringSubmatch(out)
	if m == nil {
		t.Fatalf("robot create printed %q; want robot: and secret: lines", out)
	}
	robotName, secret := m[1], m[2]
	noteSecret(secret)

	// The robot logs in with crane and pushes within the quota.
	craneConf := t.TempDir()
	craneEnv := append(os.Environ(), "DOCKER_CONFIG="+craneConf)
	work := t.TempDir()
	runCrane := func(args ...string) (string, error) {
		o, e, err := runInput(t, work, craneEnv, secret+"\n", crane, args...)
		return o + e, err
	}
	if o, err := runCrane("auth", "login", s.addr, "-u", robotName, "--password-stdin"); err != nil {
		t.Fatalf("crane auth login as %s: %v\n%s", robotName, err, o)
	}
	writeFile(t, filepath.Join(work, "small.tar"), tarFile(t, "small.bin", randomBytes(t, 64<<10)))
	if o, err := runCrane("--insecure", "append", "--oci-empty-base", "-f", "small.tar",
		"-t", s.ref("ci/app:v1")); err != nil {
		t.Fatalf("robot push within quota: %v\n%s", err, o)
	}
	before := projectUsage(t, s.addr, "ci")
	if before < 64<<10 || before > 300<<10 {
		t.Errorf("usage after a 64 KiB push: %d bytes", before)
	}
	if out := cli("", "project", "show", "ci"); !strings.Contains(out, "300.0KiB") {
		t.Errorf("project show: %q, want the quota", out)
	}

	// Over the quota: denied, nothing visible, usage unchanged.
	big := randomBytes(t, 400<<10)
	writeFile(t, filepath.Join(work, "big.tar"), tarFile(t, "big.bin", big))
	o, err := runCrane("--insecure", "append", "--oci-empty-base", "-f", "big.tar",
		"-t", s.ref("ci/app:v2"))
	if err == nil || !strings.Contains(o, "DENIED") || !strings.Contains(o, "quota") {
		t.Errorf("push over quota: err %v, output %q; want DENIED naming the quota", err, o)
	}
	if got := s.manifestStatus(t, "ci/app", "v2"); got != http.StatusNotFound {
		t.Errorf("tag of the refused push: GET %d, want 404", got)
	}
	// crane uploaded the image's small config before the refused layer; that blob
	// fits, so it is stored and counted (docs/api.md, "Quotas").
	after := settledUsage(t, s.addr, "ci")
	if after < before || after > before+1024 {
		t.Errorf("usage after the refused push: %d, want %d plus at most the config", after, before)
	}
	// One upload over the quota, as the registry sees it: refused, nothing visible, usage
	// exactly unchanged.
	loc := s.startUpload(t, "ci/app")
	r := s.do(t, "PUT", withQuery(t, loc, "digest", sha256Digest(big)), big,
		"Content-Type", "application/octet-stream")
	wantError(t, "blob upload over quota", r, http.StatusForbidden, "DENIED")
	if got := s.blobStatus(t, "ci/app", sha256Digest(big)); got != http.StatusNotFound {
		t.Errorf("blob refused over quota: HEAD %d, want 404", got)
	}
	if got := projectUsage(t, s.addr, "ci"); got != after {
		t.Errorf("usage after a refused upload: %d, want unchanged %d", got, after)
	}

	// Disabled: refused at once, even with the credentials crane stored.
	cli("", "robot", "disable", robotName)
	if o, err := runCrane("--insecure", "manifest", s.ref("ci/app:v1")); err == nil {
		t.Errorf("disabled robot pulled:\n%s", o)
	}
	checkAudit(t, s.addr, robotName)
	if out := cli("", "audit", "--project", "ci", "--action", "push"); !strings.Contains(out,
		robotName) || !strings.Contains(out, "ci/app") {
		t.Errorf("berth audit --project ci --action push:\n%s", out)
	}
	cli("", "robot", "delete", robotName)
	if out := cli("", "robot", "list", "--project", "ci"); strings.Contains(out, robotName) {
		t.Errorf("robot list after delete: %q", out)
	}
}

// settledUsage reads a project's usage once two reads 300 ms apart agree: a client
// that gave up may still have an upload in flight that completes.
func settledUsage(t *testing.T, addr, project string) int64 {
	t.Helper()
	last := projectUsage(t, addr, project)
	for range 20 {
		time.Sleep(300 * time.Millisecond)
		now := projectUsage(t, addr, project)
		if now == last {
			return now
		}
		last = now
	}
	t.Fatalf("usage of %s never settled", project)
	return 0
}

// projectUsage reads a project's usage through the admin API.
func projectUsage(t *testing.T, addr, project string) int64 {
	t.Helper()
	r := apiCall(t, addr, adminUser, adminPassword, "GET", "/api/v1/projects/"+project, nil)
	var p struct {
		UsageBytes int64 `json:"usage_bytes"`
	}
	if r.status != http.StatusOK || json.Unmarshal(r.body, &p) != nil {
		t.Fatalf("GET project %s: %v", project, r)
	}
	return p.UsageBytes
}

// checkAudit reads the audit log of project ci one entry per page and checks that the
// robot's push and the admin's changes are there with actor and address.
func checkAudit(t *testing.T, addr, robotName string) {
	t.Helper()
	seen := map[string]bool{}
	ids := map[string]bool{}
	after := ""
	for page := 0; page < 200; page++ {
		r := apiCall(t, addr, adminUser, adminPassword, "GET",
			"/api/v1/audit?project=ci&limit=1&after="+after, nil)
		var body struct {
			Items []struct {
				ID     string `json:"id"`
				Action string `json:"action"`
				Actor  string `json:"actor"`
				Addr   string `json:"addr"`
			} `json:"items"`
			Next string `json:"next"`
		}
		if r.status != http.StatusOK || json.Unmarshal(r.body, &body) != nil {
			t.Fatalf("audit: %v", r)
		}
		for _, e := range body.Items {
			if ids[e.ID] {
				t.Errorf("audit entry %s on two pages", e.ID)
			}
			ids[e.ID] = true
			if e.Addr != "127.0.0.1" {
				t.Errorf("audit entry %s %s: addr %q, want 127.0.0.1", e.Action, e.Actor, e.Addr)
			}
			seen[e.Action+" by "+e.Actor] = true
		}
		if body.Next == "" {
			break
		}
		after = body.Next
	}
	for _, want := range []string{"push by " + robotName, "admin:project.create by admin",
		"admin:robot.create by admin", "admin:member.set by admin"} {
		if !seen[want] {
			t.Errorf("audit log of ci has no %q; has %v", want, keys(seen))
		}
	}
}

func keys(m map[string]bool) []string {
	var out []string
	for k := range m {
		out = append(out, k)
	}
	return out
}

// TestClientLogins logs in with each client's own login command, then uses the stored
// credentials on a private project.
func TestClientLogins(t *testing.T) {
	skipUnlessBerth(t)
	crane, oras := tool(t, "crane"), tool(t, "oras")
	skopeo := debianTool(t, "skopeo", "skopeo")
	t.Parallel()
	s := startServer(t)
	work, conf := t.TempDir(), t.TempDir()
	authFile := filepath.Join(conf, "config.json")
	env := append(os.Environ(), "DOCKER_CONFIG="+conf, "REGISTRY_AUTH_FILE="+authFile)
	login := func(prog string, args ...string) {
		t.Helper()
		o, e, err := runInput(t, work, env, adminPassword+"\n", prog, args...)
		if err != nil {
			t.Fatalf("%s login: %v\n%s%s", filepath.Base(prog), err, o, e)
		}
	}
	use := func(prog string, args ...string) {
		t.Helper()
		if o, e, err := runEnv(t, work, env, prog, args...); err != nil {
			t.Fatalf("%s after login: %v\n%s%s", filepath.Base(prog), err, o, e)
		}
	}
	login(crane, "auth", "login", s.addr, "-u", adminUser, "--password-stdin")
	writeFile(t, filepath.Join(work, "l.tar"), tarFile(t, "f", randomBytes(t, 1024)))
	use(crane, "--insecure", "append", "--oci-empty-base", "-f", "l.tar",
		"-t", s.ref("team/logins:v1"))
	os.Remove(authFile)

	login(oras, "login", "--plain-http", "-u", adminUser, "--password-stdin", s.addr)
	writeFile(t, filepath.Join(work, "a.txt"), []byte("artifact"))
	use(oras, "push", "--plain-http", s.ref("team/logins:oras"), "a.txt")
	os.Remove(authFile)

	login(skopeo, "login", "--tls-verify=false", "-u", adminUser, "--password-stdin", s.addr)
	use(skopeo, "inspect", "--tls-verify=false", "docker://"+s.ref("team/logins:v1"))
	if b, err := os.ReadFile(authFile); err != nil || !strings.Contains(string(b), s.addr) {
		t.Errorf("skopeo login stored no credentials for %s in %s: %v", s.addr, authFile, err)
	}
	if got := s.manifestStatus(t, "team/logins", "oras"); got != http.StatusOK {
		t.Errorf("artifact pushed by oras after its login: GET %d", got)
	}
}
