package e2e

import (
	"fmt"
	"net/http"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"sync"
	"testing"
	"time"
)

// TestP2PSwarm has eight agents pull the same 64 MiB blob at once through their
// mirrors: all must receive the blob intact while the seed sends it about once.
func TestP2PSwarm(t *testing.T) {
	t.Parallel()
	s := startSeedServer(t, 4<<20)
	const size = 64 << 20
	blob := randomBytes(t, size)
	dig := s.pushBlob(t, "p2p/swarm", blob)
	blob = nil

	agents := make([]*agent, 8)
	for i := range agents {
		agents[i] = startAgent(t, s, fmt.Sprintf("agent%d", i))
	}
	results := make([]blobResult, len(agents))
	var wg sync.WaitGroup
	for i, a := range agents {
		wg.Go(func() { results[i] = getBlob(a.url("/v2/p2p/swarm/blobs/" + dig)) })
	}
	wg.Wait()
	for i, r := range results {
		if r.err != nil || r.status != http.StatusOK || r.size != size || r.digest != dig {
			t.Errorf("agent%d: status %d, %d bytes, digest %s, err %v; want 200, %d bytes, %s",
				i, r.status, r.size, r.digest, r.err, size, dig)
		}
	}
	seedSent := metric(t, s.url("/metrics"),
		"berth_p2p_upload_bytes_total", `blob="`+dig+`"`, `role="seed"`)
	var fromPeers float64
	for _, a := range agents {
		fromPeers += metric(t, a.url("/metrics"), "berth_p2p_download_bytes_total",
			`source="peer"`)
	}
	t.Logf("seed sent %.2f copies of the blob; agents took %.2f copies from each other",
		seedSent/size, fromPeers/size)
	if seedSent > 1.5*size {
		t.Errorf("seed sent %.0f bytes for a %d-byte blob (%.2fx), want at most 1.5x",
			seedSent, size, seedSent/size)
	}
}

// TestP2PCranePull pulls an image with crane through an agent: the manifest
// passes through, the layers come in pieces.
func TestP2PCranePull(t *testing.T) {
	crane := tool(t, "crane")
	t.Parallel()
	s := startSeedServer(t, 64<<10)
	img := newImage(t, platform{OS: "linux", Architecture: "amd64"})
	s.pushImage(t, "p2p/crane", "v1", img)
	a := startAgent(t, s, "agent")
	// crane finds credentials by the registry it talks to: the mirror
	storeCredentials(t, clientConfigDir(t), a.addr, adminUser, adminPassword)

	work := t.TempDir()
	ref := a.addr + "/p2p/crane:v1"
	got := strings.TrimSpace(run(t, work, crane, "--insecure", "digest", ref))
	if got != img.desc.Digest {
		t.Errorf("crane digest through the agent: %s, want %s", got, img.desc.Digest)
	}
	run(t, work, crane, "--insecure", "pull", "--format", "oci", ref, filepath.Join(work, "out"))
	layer := readFile(t, filepath.Join(work, "out", "blobs", "sha256",
		strings.TrimPrefix(img.layerDesc.Digest, "sha256:")))
	if string(layer) != string(img.layer) {
		t.Errorf("crane pulled a layer of %d bytes that differs from the %d pushed",
			len(layer), len(img.layer))
	}
	if n := metric(t, a.url("/metrics"), "berth_p2p_pieces_total", `source="seed"`); n == 0 {
		t.Errorf("the agent fetched no piece from the seed: the blobs bypassed the swarm")
	}
}

// TestP2PContainerd pulls an image with containerd's ctr through an agent that a
// hosts.toml names as the mirror of the registry.
func TestP2PContainerd(t *testing.T) {
	if os.Geteuid() != 0 {
		t.Skip("containerd needs root")
	}
	containerd := debianTool(t, "containerd", "containerd")
	ctr := debianTool(t, "ctr", "containerd")
	t.Parallel()
	s := startSeedServer(t, 64<<10)
	img := newImage(t, platform{OS: "linux", Architecture: runtime.GOARCH})
	s.pushImage(t, "p2p/ctr", "v1", img)
	a := startAgent(t, s, "agent")
	work := t.TempDir()

	hosts := filepath.Join(work, "certs.d")
	writeHostsToml(t, hosts, s.addr, a.addr)
	sock := startContainerd(t, containerd, ctr, work)
	ctrArgs := []string{"-a", sock, "-n", ctrNamespace}
	ref := s.ref("p2p/ctr:v1")
	run(t, work, ctr, append(ctrArgs, "images", "pull", "--hosts-dir", hosts,
		"--user", adminUser+":"+adminPassword, "--snapshotter", "native", ref)...)
	if got := ctrImageDigest(t, work, ctr, ctrArgs, ref); got != img.desc.Digest {
		t.Errorf("ctr images ls: %s has digest %q, want %s", ref, got, img.desc.Digest)
	}
	layer := run(t, work, ctr, append(ctrArgs, "content", "get", img.layerDesc.Digest)...)
	if layer != string(img.layer) {
		t.Errorf("containerd holds a layer that differs from the one pushed")
	}
	if n := metric(t, a.url("/metrics"), "berth_p2p_pieces_total", `source="seed"`); n == 0 {
		t.Errorf("the agent fetched no piece: containerd did not pull through it")
	}
}

// writeHostsToml writes the hosts.toml that makes containerd pull registry
// through the mirror, as docs/p2p.md documents it.
func writeHostsToml(t *testing.T, dir, registry, mirror string) {
	t.Helper()
	if err := os.MkdirAll(filepath.Join(dir, registry), 0o755); err != nil {
		t.Fatal(err)
	}
	text := fmt.Sprintf("server = \"http://%s\"\n\n[host.\"http://%s\"]\n"+
		"  capabilities = [\"pull\", \"resolve\"]\n", registry, mirror)
	writeFile(t, filepath.Join(dir, registry, "hosts.toml"), []byte(text))
}

// TestP2PResume kills an agent about halfway through a blob and starts it again:
// it finishes without fetching any piece it had verified before the kill.
func TestP2PResume(t *testing.T) {
	t.Parallel()
	const size, piece = 32 << 20, 512 << 10 // 64 pieces: p2p.PieceSizeFor keeps the size
	s := startSeedServer(t, piece)
	dig := s.pushBlob(t, "p2p/resume", randomBytes(t, size))
	a := startAgent(t, s, "agent", "--download-rate", "4MiB")
	url := a.url("/v2/p2p/resume/blobs/" + dig)

	go getBlob(url) // cut short by the kill
	deadline := time.Now().Add(2 * time.Minute)
	for metric(t, a.url("/metrics"), "berth_p2p_pieces_total", `source="seed"`) < size/piece/2 {
		if time.Now().After(deadline) {
			t.Fatalf("the agent did not fetch half the pieces within 2 minutes")
		}
		time.Sleep(50 * time.Millisecond)
	}
	a.kill9()
	bitmap := readFile(t, filepath.Join(a.cacheDir, "sha256",
		strings.TrimPrefix(dig, "sha256:"), "bitmap"))
	verified := strings.Count(string(bitmap), "\x01")
	if verified == 0 || verified == size/piece {
		t.Fatalf("after the kill the bitmap marks %d of %d pieces, want some but not all",
			verified, size/piece)
	}

	a.restart()
	if r := getBlob(url); r.err != nil || r.size != size || r.digest != dig {
		t.Fatalf("after the restart: %d bytes, digest %s, err %v; want %d bytes, %s",
			r.size, r.digest, r.err, size, dig)
	}
	m := a.url("/metrics")
	resumed := metric(t, m, "berth_p2p_pieces_total", `source="cache"`)
	fetched := metric(t, m, "berth_p2p_pieces_total", `source="seed"`) +
		metric(t, m, "berth_p2p_pieces_total", `source="peer"`)
	t.Logf("%d pieces verified before the kill; after it %v resumed, %v fetched",
		verified, resumed, fetched)
	if int(resumed) != verified || int(fetched) != size/piece-verified {
		t.Errorf("after the restart %v pieces came from the cache and %v were fetched; "+
			"want %d and %d", resumed, fetched, verified, size/piece-verified)
	}
}

// TestP2PPreheat has `berth preheat` fetch an image into an agent: it reports
// progress and completion, and a later pull takes every piece from the cache.
func TestP2PPreheat(t *testing.T) {
	t.Parallel()
	s := startSeedServer(t, 64<<10)
	img := newImage(t, platform{OS: "linux", Architecture: runtime.GOARCH})
	s.pushImage(t, "p2p/preheat", "v1", img)
	a := startAgent(t, s, "agent")

	env := append(os.Environ(), "BERTH_CONFIG_DIR="+t.TempDir(), "BERTH_URL="+s.url(""),
		"BERTH_USERNAME="+adminUser, "BERTH_PASSWORD="+adminPassword)
	out, errOut, err := runEnv(t, t.TempDir(), env, target.bin, "preheat", "p2p/preheat:v1",
		"--agents", a.url(""))
	if err != nil {
		t.Fatalf("berth preheat: %v\n%s%s", err, out, errOut)
	}
	for _, want := range []string{img.layerDesc.Digest + " 100%", img.configDesc.Digest,
		a.url("") + ": done"} {
		if !strings.Contains(out, want) {
			t.Errorf("berth preheat output lacks %q:\n%s", want, out)
		}
	}
	fetched := metric(t, a.url("/metrics"), "berth_p2p_pieces_total", `source="seed"`)
	if r := getBlob(a.url("/v2/p2p/preheat/blobs/" + img.layerDesc.Digest)); r.digest !=
		img.layerDesc.Digest {
		t.Fatalf("GET of the preheated layer: %+v", r)
	}
	after := metric(t, a.url("/metrics"), "berth_p2p_pieces_total", `source="seed"`)
	if fetched == 0 || after != fetched {
		t.Errorf("pieces fetched: %v by the preheat, %v more by the pull; want some, then none",
			fetched, after-fetched)
	}
}
