package e2e

import (
	"encoding/json"
	"fmt"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"
)

// Tests of access control: tokens, roles, robots, quotas, the audit log and the
// clients' logins. Every test here needs Berth (Distribution has none of it).

func skipUnlessBerth(t *testing.T) {
	t.Helper()
	if target.kind != "berth" {
		t.Skipf("access control is Berth's, not %s's", target.kind)
	}
}

// token asks the token endpoint at addr for scopes, as user (anonymous when "").
func token(t *testing.T, addr, user, pw string, scopes ...string) string {
	t.Helper()
	q := url.Values{"service": {"berth-registry"}, "scope": scopes}
	r := apiCall(t, addr, user, pw, "GET", "/service/token?"+q.Encode(), nil)
	if r.status != http.StatusOK {
		t.Fatalf("token for %v: %v", scopes, r)
	}
	var body struct {
		Token string `json:"token"`
	}
	if err := json.Unmarshal(r.body, &body); err != nil || body.Token == "" {
		t.Fatalf("token answer %v: %v", r, err)
	}
	noteSecret(body.Token)
	return body.Token
}

// bearer sends a /v2 request with a bearer token (or none when tok is "").
func bearer(t *testing.T, addr, tok, method, path string, body []byte, hdr ...string) reply {
	t.Helper()
	auth := ""
	if tok != "" {
		auth = "Bearer " + tok
	}
	s := &server{addr: addr}
	return s.do(t, method, path, body, append(hdr, "Authorization", auth)...)
}

func wantStatus(t *testing.T, what string, r reply, status int) {
	t.Helper()
	if r.status != status {
		t.Errorf("%s: got %v, want %d", what, r, status)
	}
}

// TestTokens checks the token service across two gateways sharing one metadata
// cluster: scopes bound what a token allows, tampered and expired tokens are refused,
// and a token of one gateway is accepted by the other.
func TestTokens(t *testing.T) {
	skipUnlessBerth(t)
	t.Parallel()
	c := startCluster(t, 1)
	blobs := t.TempDir()
	g1 := startGateway(t, c, blobs)
	g2 := startGateway(t, c, blobs, "BERTH_AUTH_TOKEN_TTL=1s")
	s1 := &server{addr: g1.addr}
	img := newImage(t, platform{OS: "linux", Architecture: "amd64"})
	s1.pushImage(t, "cluster/a", "v1", img)
	s1.pushImage(t, "cluster/b", "v1", img)
	get := func(addr, tok, repo string) reply {
		return bearer(t, addr, tok, "GET", "/v2/"+repo+"/manifests/v1", nil, "Accept", mtManifest)
	}

	pull := token(t, g1.addr, adminUser, adminPassword, "repository:cluster/a:pull")
	wantStatus(t, "pull token, GET cluster/a on the issuing gateway",
		get(g1.addr, pull, "cluster/a"), 200)
	wantStatus(t, "pull token, GET cluster/a on the other gateway",
		get(g2.addr, pull, "cluster/a"), 200)
	r := get(g1.addr, pull, "cluster/b")
	wantStatus(t, "token for cluster/a, GET cluster/b", r, 401)
	r = bearer(t, g1.addr, pull, "PUT", "/v2/cluster/a/manifests/v2", img.manifest,
		"Content-Type", mtManifest)
	wantStatus(t, "pull token, PUT manifest", r, 401)
	if h := r.header.Get("WWW-Authenticate"); !strings.Contains(h, `error="insufficient_scope"`) ||
		!strings.Contains(h, `scope="repository:cluster/a:pull,push"`) {
		t.Errorf("pull token, PUT manifest: WWW-Authenticate %q, want insufficient_scope "+
			"and the push scope", h)
	}
	r = bearer(t, g1.addr, pull, "POST", "/v2/cluster/a/blobs/uploads/", nil)
	wantStatus(t, "pull token, POST upload", r, 401)
	if got := s1.manifestStatus(t, "cluster/a", "v2"); got != 404 {
		t.Errorf("manifest pushed with a pull token: GET %d, want 404", got)
	}

	push := token(t, g2.addr, adminUser, adminPassword, "repository:cluster/a:pull,push")
	r = bearer(t, g1.addr, push, "PUT", "/v2/cluster/a/manifests/v2", img.manifest,
		"Content-Type", mtManifest)
	wantStatus(t, "push token of gateway 2, PUT manifest on gateway 1", r, 201)

	tampered := pull[:len(pull)-2] + flip(pull[len(pull)-2]) + pull[len(pull)-1:]
	r = get(g1.addr, tampered, "cluster/a")
	wantStatus(t, "tampered token", r, 401)
	if h := r.header.Get("WWW-Authenticate"); !strings.Contains(h, `error="invalid_token"`) {
		t.Errorf("tampered token: WWW-Authenticate %q, want invalid_token", h)
	}
	short := token(t, g2.addr, adminUser, adminPassword, "repository:cluster/a:pull")
	wantStatus(t, "1-second token while valid", get(g1.addr, short, "cluster/a"), 200)
	time.Sleep(2100 * time.Millisecond)
	wantStatus(t, "1-second token 2 s later", get(g1.addr, short, "cluster/a"), 401)

	bad := apiCall(t, g1.addr, adminUser, "wrong-password", "GET",
		"/service/token?scope=repository:cluster/a:pull", nil)
	wantStatus(t, "token with a wrong password", bad, 401)
}

// flip returns another base64url character than c.
func flip(c byte) string {
	if c == 'A' {
		return "B"
	}
	return "A"
}

// TestAnonymous checks what callers without credentials get: pulls of public
// projects, and a challenge naming the token service for anything else.
func TestAnonymous(t *testing.T) {
	skipUnlessBerth(t)
	t.Parallel()
	s := startServer(t)
	img := newImage(t, platform{OS: "linux", Architecture: "amd64"})
	s.pushImage(t, "library/pub", "v1", img)
	s.pushImage(t, "team/priv", "v1", img)
	anon := func(method, path string, body []byte, hdr ...string) reply {
		return s.do(t, method, path, body, append(hdr, "Authorization", "")...)
	}
	wantStatus(t, "anonymous GET public manifest",
		anon("GET", "/v2/library/pub/manifests/v1", nil, "Accept", mtManifest), 200)
	wantStatus(t, "anonymous GET public blob",
		anon("GET", "/v2/library/pub/blobs/"+img.layerDesc.Digest, nil), 200)
	r := anon("GET", "/v2/team/priv/manifests/v1", nil, "Accept", mtManifest)
	wantStatus(t, "anonymous GET private manifest", r, 401)
	h := r.header.Get("WWW-Authenticate")
	for _, want := range []string{`Bearer realm="http://` + s.addr + `/service/token"`,
		`service="berth-registry"`, `scope="repository:team/priv:pull"`} {
		if !strings.Contains(h, want) {
			t.Errorf("challenge %q does not contain %s", h, want)
		}
	}
	wantStatus(t, "anonymous push to a public project",
		anon("POST", "/v2/library/pub/blobs/uploads/", nil), 401)
	wantStatus(t, "anonymous GET /v2/", anon("GET", "/v2/", nil), 401)
	wantStatus(t, "anonymous catalog", anon("GET", "/v2/_catalog", nil), 401)
	tok := token(t, s.addr, "", "", "repository:library/pub:pull,push",
		"repository:team/priv:pull")
	r = bearer(t, s.addr, tok, "GET", "/v2/library/pub/manifests/v1", nil, "Accept", mtManifest)
	wantStatus(t, "anonymous token, public pull", r, 200)
	r = bearer(t, s.addr, tok, "GET", "/v2/team/priv/manifests/v1", nil, "Accept", mtManifest)
	wantStatus(t, "anonymous token, private pull", r, 401)
	r = bearer(t, s.addr, tok, "POST", "/v2/library/pub/blobs/uploads/", nil)
	wantStatus(t, "anonymous token, public push", r, 401)
	testThrottle(t, s)
}

// testThrottle guesses a password until the registry locks the name out: then even
// the right password is refused with 429, on /v2 and at the token endpoint. It locks
// s's loopback address out, so it comes last.
func testThrottle(t *testing.T, s *server) {
	t.Helper()
	mustAPI(t, s.addr, "POST", "/api/v1/users", map[string]any{
		"name": "victim", "password": "victim-password-1"}, 201)
	locked := false
	for i := 0; i < 20 && !locked; i++ {
		r := s.do(t, "GET", "/v2/", nil, "Authorization", basic("victim", fmt.Sprint("guess", i)))
		switch r.status {
		case http.StatusUnauthorized:
		case http.StatusTooManyRequests:
			locked = true
		default:
			t.Fatalf("wrong password %d: %v", i, r)
		}
	}
	if !locked {
		t.Fatal("20 wrong passwords in a row were never throttled")
	}
	r := s.do(t, "GET", "/v2/", nil, "Authorization", basic("victim", "victim-password-1"))
	wantStatus(t, "right password while locked out", r, http.StatusTooManyRequests)
	r = apiCall(t, s.addr, "victim", "victim-password-1", "GET", "/service/token", nil)
	wantStatus(t, "token endpoint while locked out", r, http.StatusTooManyRequests)
}
