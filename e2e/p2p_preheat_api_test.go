package e2e

import (
	"bytes"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"net/http"
	"os"
	"path/filepath"
	"runtime"
	"strconv"
	"strings"
	"testing"
	"time"

	"berth.dev/berth/p2p"
)

// TestP2PPreheatAPI preheats an image of a private project on three agents through
// the admin API with the real CLI: the agents poll the gateway, fetch the image and
// report; afterwards they serve it without the seed sending a byte more. A guest
// may not create a job, and a poll without the network key is refused.
func TestP2PPreheatAPI(t *testing.T) {
	t.Parallel()
	s := startSeedServer(t, 64<<10)
	img := bigImage(t, 1<<20) // 16 pieces
	s.pushImage(t, "p2p/warm", "v1", img)
	var agents []*agent
	for i := range 3 {
		a := startAgent(t, s, fmt.Sprintf("agent%d", i), "--preheat-poll", "500ms")
		agents = append(agents, a)
	}
	for _, a := range agents {
		waitMetric(t, a.url("/metrics"), "berth_p2p_preheat_polls_total", `result="ok"`)
	}

	// A guest of the private project may read it but not preheat it.
	mustAPI(t, s.addr, "POST", "/api/v1/users",
		map[string]any{"name": "visitor", "password": "visitor-pw-1"}, 201)
	mustAPI(t, s.addr, "PUT", "/api/v1/projects/p2p/members/visitor",
		map[string]any{"role": "guest"}, 200)
	r := apiCall(t, s.addr, "visitor", "visitor-pw-1", "POST", "/api/v1/preheats",
		[]byte(`{"image":"p2p/warm:v1"}`))
	if r.status != http.StatusForbidden || !strings.Contains(string(r.body), "DENIED") {
		t.Errorf("a guest creates a preheat job: %v, want 403 DENIED", r)
	}

	// The CLI creates the job and waits until the three agents are done.
	env := append(os.Environ(), "BERTH_CONFIG_DIR="+t.TempDir(), "BERTH_URL="+s.url(""),
		"BERTH_USERNAME="+adminUser, "BERTH_PASSWORD="+adminPassword)
	out, errOut, err := runEnv(t, t.TempDir(), env, target.bin, "preheat", "p2p/warm:v1")
	if err != nil {
		t.Fatalf("berth preheat: %v\n%s%s", err, out, errOut)
	}
	if !strings.Contains(out, "on 3 agents") || strings.Count(out, ": done (") != 3 {
		t.Fatalf("berth preheat output does not show 3 agents done:\n%s", out)
	}
	jobID := strings.Fields(out)[1]
	jobID = strings.TrimSuffix(jobID, ":")
	t.Logf("berth preheat:\n%s", out)

	// Every agent holds the image: pulls through the mirrors cost the seed nothing.
	seedSent := metric(t, s.url("/metrics"), "berth_p2p_upload_bytes_total", `role="seed"`)
	if seedSent == 0 {
		t.Fatal("the seed sent nothing during the preheat")
	}
	for _, a := range agents {
		for _, d := range []descriptor{img.configDesc, img.layerDesc} {
			if r := getBlob(a.url("/v2/p2p/warm/blobs/" + d.Digest)); r.digest != d.Digest {
				t.Fatalf("GET %s through %s: %+v", d.Digest, a.addr, r)
			}
		}
	}
	if after := metric(t, s.url("/metrics"), "berth_p2p_upload_bytes_total",
		`role="seed"`); after != seedSent {
		t.Errorf("the seed sent %v bytes more for pulls of preheated blobs, want 0",
			after-seedSent)
	}

	// The job reads back through the CLI, and audit records its creation.
	out, errOut, err = runEnv(t, t.TempDir(), env, target.bin, "preheat", "status", jobID)
	if err != nil || !strings.Contains(out, "3 expected, 3 done, 0 failed") {
		t.Errorf("berth preheat status: %v\n%s%s", err, out, errOut)
	}
	r = mustAPI(t, s.addr, "GET", "/api/v1/audit?project=p2p&action=admin:preheat.create",
		nil, 200)
	if !strings.Contains(string(r.body), img.desc.Digest) {
		t.Errorf("the audit log lacks the preheat: %s", r.body)
	}

	// A second job of the same image returns at once with --no-wait; the agents
	// finish it from their caches, without the seed.
	out, errOut, err = runEnv(t, t.TempDir(), env, target.bin, "preheat", "--no-wait",
		"p2p/warm@"+img.desc.Digest)
	if err != nil || len(strings.Fields(out)) != 1 {
		t.Fatalf("berth preheat --no-wait: %v, want the job ID alone\n%s%s", err, out, errOut)
	}
	waitJobDone(t, env, strings.TrimSpace(out))
	if after := metric(t, s.url("/metrics"), "berth_p2p_upload_bytes_total",
		`role="seed"`); after != seedSent {
		t.Errorf("the seed sent %v bytes for a preheat of cached blobs, want 0", after-seedSent)
	}

	testAgentAuth(t, s)

	// No process logged a token: JWTs start with the base64 of {"alg".
	for _, p := range []*proc{s.proc, agents[0].proc, agents[1].proc, agents[2].proc} {
		if b, err := os.ReadFile(p.logPath); err != nil || bytes.Contains(b, []byte("eyJhbGci")) {
			t.Errorf("the %s log holds a token (or cannot be read: %v)", p.name, err)
		}
	}
}

// testAgentAuth polls as an agent: with a wrong key the gateway answers 401; with
// the network key it answers the open jobs, each with a pull token for its
// repository only.
func testAgentAuth(t *testing.T, s seedServer) {
	t.Helper()
	const id = "12D3KooWBW75iBcAb7vP2GZ7jxxoh64PesiEBnmdkmerXgbD8qsL"
	now := strconv.FormatInt(time.Now().Unix(), 10)
	wrong := hex.EncodeToString(make([]byte, 32))
	r := s.do(t, "GET", p2p.PreheatPollPath, nil, p2p.HeaderPeerID, id,
		p2p.HeaderPeerTime, now, p2p.HeaderPeerAuth, wrong)
	if r.status != http.StatusUnauthorized {
		t.Errorf("poll with a wrong HMAC: %v, want 401", r)
	}

	key, err := p2p.LoadNetworkKey(s.keyFile, false)
	if err != nil {
		t.Fatal(err)
	}
	h := http.Header{}
	p2p.SignAgent(h, key, id, time.Now())
	r = s.do(t, "GET", p2p.PreheatPollPath, nil, "Authorization", "",
		p2p.HeaderPeerID, id, p2p.HeaderPeerTime, h.Get(p2p.HeaderPeerTime),
		p2p.HeaderPeerAuth, h.Get(p2p.HeaderPeerAuth))
	var ans p2p.PreheatPollAnswer
	if r.status != http.StatusOK || json.Unmarshal(r.body, &ans) != nil || len(ans.Jobs) != 2 {
		// The body holds tokens: show only how many jobs it lists.
		t.Fatalf("signed poll of an agent new to both jobs: HTTP %d with %d jobs, want 200 "+
			"with 2", r.status, len(ans.Jobs))
	}
	noteSecret(string(ans.Jobs[0].Token))
	bearer := "Bearer " + string(ans.Jobs[0].Token)
	for _, c := range []struct {
		repo string
		want int
	}{{"p2p/warm", http.StatusOK}, {"p2p/other", http.StatusUnauthorized}} {
		r := s.do(t, "GET", "/v2/"+c.repo+"/manifests/v1", nil, "Authorization", bearer,
			"Accept", mtManifest)
		if r.status != c.want {
			t.Errorf("GET %s with the job's token: HTTP %d, want %d", c.repo, r.status, c.want)
		}
	}
}

// waitJobDone waits up to a minute for `berth preheat --job ID` to show every
// expected agent done.
func waitJobDone(t *testing.T, env []string, id string) {
	t.Helper()
	var out string
	for deadline := time.Now().Add(time.Minute); time.Now().Before(deadline); {
		out, _, _ = runEnv(t, t.TempDir(), env, target.bin, "preheat", "--job", id)
		if strings.Contains(out, "3 expected, 3 done, 0 failed") {
			return
		}
		time.Sleep(500 * time.Millisecond)
	}
	t.Fatalf("job %s not done by the 3 agents:\n%s", id, out)
}

// bigImage is an image whose one layer is size random bytes.
func bigImage(t *testing.T, size int) image {
	t.Helper()
	img := newImage(t, platform{OS: "linux", Architecture: runtime.GOARCH})
	img.layer = randomBytes(t, size)
	img.layerDesc = descriptor{MediaType: mtLayerGz, Digest: sha256Digest(img.layer),
		Size: int64(size)}
	img.manifest = mustJSON(t, manifest{SchemaVersion: 2, MediaType: mtManifest,
		Config: &img.configDesc, Layers: []descriptor{img.layerDesc}})
	img.desc.Digest, img.desc.Size = sha256Digest(img.manifest), int64(len(img.manifest))
	return img
}

// waitMetric waits up to a minute for the metric to be positive.
func waitMetric(t *testing.T, url, name string, labels ...string) {
	t.Helper()
	for deadline := time.Now().Add(time.Minute); time.Now().Before(deadline); {
		if metric(t, url, name, labels...) > 0 {
			return
		}
		time.Sleep(100 * time.Millisecond)
	}
	t.Fatalf("%s at %s stayed 0", name, url)
}

// TestP2PPreheatOff asks a gateway with P2P off for a preheat job: 409 with a
// message that says how to turn P2P on.
func TestP2PPreheatOff(t *testing.T) {
	skipUnlessBerth(t)
	t.Parallel()
	conf := filepath.Join(t.TempDir(), "berth.yml")
	writeFile(t, conf, []byte("p2p:\n  enabled: false\n"))
	s := startServerWith(t, "--config", conf)
	createProject(t, s.addr, "cold", false)
	s.pushImage(t, "cold/app", "v1", newImage(t, platform{OS: "linux", Architecture: "amd64"}))
	r := apiCall(t, s.addr, adminUser, adminPassword, "POST", "/api/v1/preheats",
		[]byte(`{"image":"cold/app:v1"}`))
	if r.status != http.StatusConflict || !strings.Contains(string(r.body), "p2p.enabled") {
		t.Errorf("preheat with P2P off: %v, want 409 naming p2p.enabled", r)
	}
}
