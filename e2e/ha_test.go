package e2e

import (
	"encoding/json"
	"fmt"
	"net/http"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"berth.dev/berth/storage/miniotest"
)

// rawManifest returns an OCI image manifest naming config and layer.
func rawManifest(t *testing.T, config, layer []byte) []byte {
	t.Helper()
	m := manifest{SchemaVersion: 2, MediaType: mtManifest,
		Config: &descriptor{MediaType: mtConfig, Digest: sha256Digest(config),
			Size: int64(len(config))},
		Layers: []descriptor{{MediaType: mtLayer, Digest: sha256Digest(layer),
			Size: int64(len(layer))}},
	}
	b, err := json.Marshal(m)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// servedByHeader names the gateway that answered, set by the load balancer.
const servedByHeader = "X-Served-By"

// balancer is haproxy in front of gateways, in round-robin, one request at a time.
type balancer struct {
	*proc
	addr string
}

// haproxyConfig closes the gateway connection after each request, so that
// round-robin applies to requests, not connections.
const haproxyConfig = `global
  maxconn 512
defaults
  mode http
  timeout connect 2s
  timeout client 3m
  timeout server 3m
  retries 3
  option redispatch
  option http-server-close
frontend registry
  bind %s
  default_backend gateways
backend gateways
  balance roundrobin
  http-response set-header ` + servedByHeader + ` %%[srv_name]
%s`

// startBalancer runs haproxy on a free port in front of gws.
func startBalancer(t *testing.T, gws []*gatewayProc) *balancer {
	t.Helper()
	bin := debianTool(t, "haproxy", "haproxy")
	var servers strings.Builder
	for i, g := range gws {
		fmt.Fprintf(&servers, "  server g%d %s check inter 300ms fall 2 rise 2\n", i, g.addr)
	}
	b := &balancer{addr: freeAddr(t)}
	conf := filepath.Join(t.TempDir(), "haproxy.cfg")
	text := fmt.Sprintf(haproxyConfig, b.addr, servers.String())
	if err := os.WriteFile(conf, []byte(text), 0o644); err != nil {
		t.Fatal(err)
	}
	b.proc = newProc(t, "haproxy", nil)
	b.proc.command = func() (*exec.Cmd, error) { return exec.Command(bin, "-db", "-f", conf), nil }
	if err := b.start(); err != nil {
		t.Fatalf("start haproxy: %v", err)
	}
	waitUntil(t, "haproxy serves", time.Minute, func() bool {
		r, err := newRegClient(b.addr, 2*time.Second).do("GET", "/v2/", nil)
		return err == nil && r.status == http.StatusOK
	})
	return b
}

// haCluster is MinIO, one kvnode, three gateways on both, and haproxy before them.
type haCluster struct {
	minio *miniotest.Server
	gws   []*gatewayProc
	lb    *balancer
}

func startHACluster(t *testing.T) *haCluster {
	t.Helper()
	h := &haCluster{minio: miniotest.Start(t)}
	kv := startCluster(t, 1)
	env := s3Settings{endpoint: h.minio.Endpoint, bucket: "ha-registry"}.env()
	for range 3 {
		h.gws = append(h.gws, startGateway(t, kv, t.TempDir(), env...))
	}
	h.lb = startBalancer(t, h.gws)
	createProject(t, h.gws[0].addr, "ha", false)
	return h
}

// pushChunked uploads b to repo in PATCHes of chunk bytes and returns the
// gateways that served the PATCHes.
func pushChunked(c *regClient, repo string, b []byte, chunk int) ([]string, error) {
	r, err := c.expect(http.StatusAccepted, "POST", "/v2/"+repo+"/blobs/uploads/", nil)
	if err != nil {
		return nil, err
	}
	var served []string
	loc := r.header.Get("Location")
	for off := 0; off < len(b); off += chunk {
		end := min(off+chunk, len(b))
		r, err = c.expect(http.StatusAccepted, "PATCH", loc, b[off:end],
			"Content-Type", "application/octet-stream",
			"Content-Range", fmt.Sprintf("%d-%d", off, end-1))
		if err != nil {
			return served, err
		}
		served = append(served, r.header.Get(servedByHeader))
		loc = r.header.Get("Location")
	}
	u, err := url.Parse(loc)
	if err != nil {
		return served, err
	}
	q := u.Query()
	q.Set("digest", sha256Digest(b))
	u.RawQuery = q.Encode()
	_, err = c.expect(http.StatusCreated, "PUT", u.String(), nil)
	return served, err
}

// pushChunkedImage pushes a config and a chunked layer, then the manifest as tag,
// and returns the manifest digest and the gateways that served the layer's PATCHes.
func pushChunkedImage(
	c *regClient, repo, tag string, cfg, layer []byte, chunk int, manifest []byte,
) (string, []string, error) {
	if err := c.pushBlob(repo, cfg); err != nil {
		return "", nil, err
	}
	served, err := pushChunked(c, repo, layer, chunk)
	if err != nil {
		return "", served, err
	}
	r, err := c.expect(http.StatusCreated, "PUT", "/v2/"+repo+"/manifests/"+tag, manifest,
		"Content-Type", mtManifest)
	if err != nil {
		return "", served, err
	}
	return r.header.Get("Docker-Content-Digest"), served, nil
}

// TestHAChunkedPushes pushes chunked layers through haproxy over three gateways:
// PATCHes of one upload land on different gateways and the pushes succeed, and
// pulls through the balancer return the digests pushed.
func TestHAChunkedPushes(t *testing.T) {
	t.Parallel()
	h := startHACluster(t)
	c := newRegClient(h.lb.addr, time.Minute)
	repo := "ha/chunked"
	spread := false
	for i := range 3 {
		cfg, layer := randomBytes(t, 200), randomBytes(t, 12<<20+1234)
		m := rawManifest(t, cfg, layer)
		tag := fmt.Sprintf("v%d", i)
		// 6 MiB chunks become parts S3 composes; 1 MiB chunks are re-streamed.
		chunk := []int{6 << 20, 1 << 20, 6 << 20}[i]
		dg, served, err := pushChunkedImage(c, repo, tag, cfg, layer, chunk, m)
		if err != nil {
			t.Fatalf("push %s: %v", tag, err)
		}
		if distinct(served) > 1 {
			spread = true
		}
		t.Logf("push %s: PATCHes served by %v", tag, served)
		if got, err := c.pulledDigest(repo, tag); err != nil || got != dg || dg != sha256Digest(m) {
			t.Fatalf("pull %s: %s, %v; want %s", tag, got, err, sha256Digest(m))
		}
		r, err := c.expect(http.StatusOK, "GET", "/v2/"+repo+"/blobs/"+sha256Digest(layer), nil)
		if err != nil || sha256Digest(r.body) != sha256Digest(layer) {
			t.Fatalf("pull layer of %s: %v", tag, err)
		}
	}
	if !spread {
		t.Fatal("no upload had its PATCHes served by more than one gateway")
	}
}

func distinct(names []string) int {
	seen := map[string]bool{}
	for _, n := range names {
		seen[n] = true
	}
	return len(seen)
}

// TestHAGatewayKilled kills one gateway with SIGKILL while pushers run through the
// balancer. Every push either completes (then it pulls back whole) or fails
// visibly; no tag names a manifest whose blobs are missing.
func TestHAGatewayKilled(t *testing.T) {
	t.Parallel()
	h := startHACluster(t)
	c := newRegClient(h.lb.addr, time.Minute)
	repo := "ha/killed"
	var (
		mu     sync.Mutex
		acked  []pushed
		failed int
		wg     sync.WaitGroup
	)
	for w := range 3 {
		wg.Go(func() {
			for i := range 6 {
				cfg, layer := randomBytes(t, 100), randomBytes(t, 3<<20)
				m := rawManifest(t, cfg, layer)
				tag := fmt.Sprintf("w%d-%d", w, i)
				dg, _, err := pushChunkedImage(c, repo, tag, cfg, layer, 1<<20, m)
				mu.Lock()
				if err != nil {
					failed++
					t.Logf("push %s failed visibly: %v", tag, err)
				} else {
					acked = append(acked, pushed{repo: repo, tag: tag, digest: dg})
				}
				mu.Unlock()
			}
		})
	}
	time.Sleep(2 * time.Second) // pushes are under way; not an assertion
	h.gws[1].kill9()
	wg.Wait()
	t.Logf("%d pushes acknowledged, %d failed visibly", len(acked), failed)
	for _, err := range checkPulls(c, acked) {
		t.Error(err)
	}
	checkNoDanglingTags(t, c, repo)
}

// checkNoDanglingTags fails t for any tag of repo whose manifest or blobs do not
// read back whole.
func checkNoDanglingTags(t *testing.T, c *regClient, repo string) {
	t.Helper()
	tags, err := c.tags(repo)
	if err != nil {
		t.Fatal(err)
	}
	for _, tag := range tags {
		r, err := c.expect(http.StatusOK, "GET", "/v2/"+repo+"/manifests/"+tag, nil,
			"Accept", mtManifest)
		if err != nil {
			t.Errorf("tag %s: %v", tag, err)
			continue
		}
		var m manifest
		if err := json.Unmarshal(r.body, &m); err != nil {
			t.Errorf("tag %s: %v", tag, err)
			continue
		}
		for _, d := range append([]descriptor{*m.Config}, m.Layers...) {
			b, err := c.expect(http.StatusOK, "GET", "/v2/"+repo+"/blobs/"+d.Digest, nil)
			if err != nil || sha256Digest(b.body) != d.Digest {
				t.Errorf("tag %s names blob %s that does not read back: %v", tag, d.Digest, err)
			}
		}
	}
}
