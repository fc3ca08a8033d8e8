package e2e

import (
	"bufio"
	"encoding/json"
	"net/http"
	"os"
	"strings"
	"testing"
)

// roleTable reads the published role-by-action table from docs/roles.md:
// action -> role -> allowed.
func roleTable(t *testing.T) (roles []string, table map[string]map[string]bool) {
	t.Helper()
	f, err := os.Open("../docs/roles.md")
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	table = map[string]map[string]bool{}
	in := false
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		line := sc.Text()
		switch {
		case strings.HasPrefix(line, "<!-- BEGIN ROLE TABLE"):
			in = true
			continue
		case strings.HasPrefix(line, "<!-- END ROLE TABLE"):
			in = false
		}
		if !in || !strings.HasPrefix(line, "|") {
			continue
		}
		cells := strings.Split(strings.Trim(line, "|"), "|")
		for i := range cells {
			cells[i] = strings.TrimSpace(cells[i])
		}
		switch {
		case cells[0] == "action":
			roles = cells[1:]
		case strings.HasPrefix(cells[0], "---"):
		default:
			table[cells[0]] = map[string]bool{}
			for i, r := range roles {
				table[cells[0]][r] = cells[i+1] == "yes"
			}
		}
	}
	if len(roles) == 0 || len(table) == 0 {
		t.Fatal("docs/roles.md: no role table between the BEGIN and END markers")
	}
	return roles, table
}

// TestRoleMatrix tries every role of the published table on every action that has an
// HTTP endpoint, with a user holding that role in a private project, and checks the
// answer against the table.
func TestRoleMatrix(t *testing.T) {
	skipUnlessBerth(t)
	t.Parallel()
	roles, table := roleTable(t)
	s := startServer(t)
	createProject(t, s.addr, "matrix", false)
	img := newImage(t, platform{OS: "linux", Architecture: "amd64"})
	s.pushImage(t, "matrix/app", "v1", img)
	mustAPI(t, s.addr, "POST", "/api/v1/users", map[string]any{
		"name": "bystander", "password": "bystander-pw-1"}, 201)

	actions := map[string]func(user, pw, role string) int{
		"pull": func(u, pw, _ string) int {
			return s.do(t, "GET", "/v2/matrix/app/manifests/v1", nil, "Accept", mtManifest,
				"Authorization", basic(u, pw)).status
		},
		"push": func(u, pw, role string) int {
			m := roleManifest(t, img, "push-"+role)
			return s.do(t, "PUT", "/v2/matrix/app/manifests/push-"+role, m,
				"Content-Type", mtManifest, "Authorization", basic(u, pw)).status
		},
		"delete-artifact": func(u, pw, role string) int {
			m := roleManifest(t, img, "delete-"+role)
			s.pushManifest(t, "matrix/app", "delete-"+role, mtManifest, m)
			return s.do(t, "DELETE", "/v2/matrix/app/manifests/"+sha256Digest(m), nil,
				"Authorization", basic(u, pw)).status
		},
		"delete-repository": func(u, pw, role string) int {
			s.pushImage(t, "matrix/del-"+role, "v1", img)
			return apiCall(t, s.addr, u, pw, "DELETE",
				"/api/v1/projects/matrix/repositories/del-"+role, nil).status
		},
		"manage-members": func(u, pw, _ string) int {
			return apiCall(t, s.addr, u, pw, "PUT", "/api/v1/projects/matrix/members/bystander",
				[]byte(`{"role":"guest"}`)).status
		},
		"manage-policies": func(u, pw, role string) int {
			return apiCall(t, s.addr, u, pw, "POST", "/api/v1/policies", []byte(
				`{"plugin":"deny-tags","hook":"push","scope":"matrix",`+
					`"config":{"patterns":["nope-`+role+`"]}}`)).status
		},
		"preheat": func(u, pw, _ string) int {
			return apiCall(t, s.addr, u, pw, "POST", "/api/v1/preheats",
				[]byte(`{"image":"matrix/app:v1"}`)).status
		},
		"read-audit-log": func(u, pw, _ string) int {
			return apiCall(t, s.addr, u, pw, "GET", "/api/v1/audit?project=matrix", nil).status
		},
	}
	for action, allowed := range table {
		try := actions[action]
		if try == nil {
			t.Logf("%s: no HTTP endpoint in this build; covered by auth's unit tests", action)
			continue
		}
		for _, role := range roles {
			user, pw := "u-"+role, "pw-of-"+role+"-1"
			ensureMember(t, s.addr, user, pw, role)
			got := try(user, pw, role)
			ok := got >= 200 && got < 300
			if ok != allowed[role] || (!ok && got != http.StatusForbidden) {
				t.Errorf("%s as %s: HTTP %d, the table says allowed=%v (refusals are 403)",
					action, role, got, allowed[role])
			}
		}
	}
}

// ensureMember creates user with role in project matrix, once.
func ensureMember(t *testing.T, addr, user, pw, role string) {
	t.Helper()
	r := apiCall(t, addr, adminUser, adminPassword, "POST", "/api/v1/users",
		mustJSON(t, map[string]any{"name": user, "password": pw}))
	if r.status == http.StatusConflict {
		return
	}
	if r.status != http.StatusCreated {
		t.Fatalf("create user %s: %v", user, r)
	}
	mustAPI(t, addr, "PUT", "/api/v1/projects/matrix/members/"+user,
		map[string]any{"role": role}, 200)
}

// roleManifest is img's manifest made distinct by an annotation.
func roleManifest(t *testing.T, img image, note string) []byte {
	t.Helper()
	var m manifest
	if err := json.Unmarshal(img.manifest, &m); err != nil {
		t.Fatal(err)
	}
	m.Annotations = map[string]string{"berth.e2e/note": note}
	return mustJSON(t, m)
}

// mustAPI sends an admin API request as the admin and checks its status.
func mustAPI(t *testing.T, addr, method, path string, in any, want int) reply {
	t.Helper()
	r := apiCall(t, addr, adminUser, adminPassword, method, path, mustJSON(t, in))
	if r.status != want {
		t.Fatalf("%s %s: %v, want %d", method, path, r, want)
	}
	return r
}

func basic(user, pw string) string {
	return "Basic " + b64(user+":"+pw)
}
