package e2e

import (
	"bytes"
	"crypto/rand"
	"encoding/base64"
	"encoding/json"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
)

// Credentials of the tests. Every berth process starts with BERTH_ADMIN_PASSWORD set
// to adminPassword, so the tests know the admin's password; it is random per run,
// so that TestNoSecretsInLogs can look for it in every log.
var (
	adminUser     = "admin"
	adminPassword = randomToken(18)
)

func randomToken(n int) string {
	b := make([]byte, n)
	if _, err := rand.Read(b); err != nil {
		panic(err)
	}
	return base64.RawURLEncoding.EncodeToString(b)
}

// authEnv is the environment that gives a berth process the tests' admin password.
// Debug logging (a line per request) widens what checkLogSecrets searches.
func authEnv() []string {
	return []string{"BERTH_ADMIN_PASSWORD=" + adminPassword, "BERTH_LOG_LEVEL=debug"}
}

// testProjects are the projects the tests push to; prepareRegistry creates them
// private, except where the test needs anonymous pulls.
var testProjects = []string{
	"conformance", "crane", "oras", "skopeo", "ctr", "team", "other", "e2e", "bad",
	"uploads", "cluster", "load", "bench", "policy", "backup", "leader", "minority", "crash",
	"probes",
}

// prepareRegistry makes a fresh berth at addr ready for the tests: it creates the
// test projects and stores the admin's credentials for addr in the clients' shared
// credential file.
func prepareRegistry(t *testing.T, addr string) {
	t.Helper()
	if target.kind != "berth" {
		return
	}
	for _, p := range testProjects {
		createProject(t, addr, p, false)
	}
	storeCredentials(t, clientConfigDir(t), addr, adminUser, adminPassword)
}

// createProject creates a project through the admin API; one that exists is kept.
func createProject(t *testing.T, addr, name string, public bool) {
	t.Helper()
	body, _ := json.Marshal(map[string]any{"name": name, "public": public})
	r := apiCall(t, addr, adminUser, adminPassword, "POST", "/api/v1/projects", body)
	if r.status != http.StatusCreated && r.status != http.StatusConflict {
		t.Fatalf("create project %s: %v", name, r)
	}
}

// apiCall sends one admin API request with Basic credentials (none when user is "").
func apiCall(t *testing.T, addr, user, pw, method, path string, body []byte) reply {
	t.Helper()
	req, err := http.NewRequest(method, "http://"+addr+path, bytes.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	if user != "" {
		req.SetBasicAuth(user, pw)
	} else {
		req.Header["Authorization"] = []string{""} // anonymous: withAdmin adds nothing
	}
	req.Header.Set("Content-Type", "application/json")
	r, err := roundTrip(req)
	if err != nil {
		t.Fatalf("%s %s: %v", method, path, err)
	}
	return r
}

// credentialsMu serializes writes of the shared credential file.
var credentialsMu sync.Mutex

// storeCredentials adds user's credentials for addr to dir/config.json, the file
// that crane, oras (DOCKER_CONFIG) and skopeo (REGISTRY_AUTH_FILE) read.
func storeCredentials(t *testing.T, dir, addr, user, pw string) {
	t.Helper()
	credentialsMu.Lock()
	defer credentialsMu.Unlock()
	path := filepath.Join(dir, "config.json")
	conf := map[string]map[string]map[string]string{}
	if b, err := os.ReadFile(path); err == nil {
		if err := json.Unmarshal(b, &conf); err != nil {
			t.Fatalf("%s: %v", path, err)
		}
	}
	if conf["auths"] == nil {
		conf["auths"] = map[string]map[string]string{}
	}
	conf["auths"][addr] = map[string]string{
		"auth": base64.StdEncoding.EncodeToString([]byte(user + ":" + pw)),
	}
	b, _ := json.MarshalIndent(conf, "", "  ")
	if err := os.WriteFile(path, b, 0o600); err != nil {
		t.Fatal(err)
	}
}

// basicAuth is the Authorization header value of the admin's credentials.
func basicAuth() string { return basic(adminUser, adminPassword) }

func b64(s string) string { return base64.StdEncoding.EncodeToString([]byte(s)) }

// withAdmin sets the admin's credentials on req unless it carries an Authorization
// header already; an empty one means "send none" (anonymous).
func withAdmin(req *http.Request) {
	if _, set := req.Header["Authorization"]; set {
		if req.Header.Get("Authorization") == "" {
			req.Header.Del("Authorization")
		}
		return
	}
	if target.kind == "berth" {
		req.Header.Set("Authorization", basicAuth())
	}
}

// secrets are every password, token and robot secret the tests used; no process log
// may contain any of them (checkLogSecrets).
var secrets struct {
	mu   sync.Mutex
	list []string // guarded by mu
}

// noteSecret adds s to the secrets that logs must not contain.
func noteSecret(s string) {
	secrets.mu.Lock()
	defer secrets.mu.Unlock()
	secrets.list = append(secrets.list, s)
}

func knownSecrets() []string {
	secrets.mu.Lock()
	defer secrets.mu.Unlock()
	return append([]string{adminPassword}, secrets.list...)
}

// checkLogSecrets fails the test if the log at path holds a secret. It runs when
// each process of the suite is cleaned up, before its log is removed.
func checkLogSecrets(t *testing.T, name, path string) {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		return
	}
	for _, s := range knownSecrets() {
		if bytes.Contains(b, []byte(s)) {
			t.Errorf("the %s log contains a secret the tests used (%d bytes long)", name, len(s))
		}
	}
}

// redact hides the known secrets in a command line shown in the test's output.
func redact(s string) string {
	for _, sec := range knownSecrets() {
		s = strings.ReplaceAll(s, sec, "***")
	}
	return s
}
