package e2e

import (
	"bufio"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"io"
	"net/http"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"
)

// Helpers of the P2P tests: berth serve with its seed on loopback, peer agents,
// and metrics read from /metrics.

const agentReadyLine = "registry mirror serving"

// seedServer is berth serve with its seed on loopback.
type seedServer struct {
	*server
	keyFile string // the private-network key agents need
}

// startSeedServer starts berth serve whose seed listens on loopback and cuts
// blobs in pieces of pieceSize bytes.
func startSeedServer(t *testing.T, pieceSize int) seedServer {
	t.Helper()
	if target.kind != "berth" {
		t.Skipf("P2P tests need berth, not %s", target.kind)
	}
	conf := filepath.Join(t.TempDir(), "berth.yml")
	writeFile(t, conf, fmt.Appendf(nil,
		"p2p:\n  listen: /ip4/127.0.0.1/tcp/0\n  piece_size: %d\n", pieceSize))
	s := startServerWith(t, "--config", conf)
	createProject(t, s.addr, "p2p", false)
	return seedServer{server: s, keyFile: filepath.Join(s.dataDir, "p2p-network.key")}
}

// agent is one `berth peer` process.
type agent struct {
	*proc
	addr     string // the mirror's host:port
	cacheDir string
}

// startAgent starts an agent of s with more flags and waits until its mirror serves.
func startAgent(t *testing.T, s seedServer, name string, extra ...string) *agent {
	t.Helper()
	a := &agent{addr: freeAddr(t), cacheDir: filepath.Join(t.TempDir(), "cache")}
	args := append([]string{"peer", "--gateway", s.url(""), "--listen", a.addr,
		"--p2p-listen", "/ip4/127.0.0.1/tcp/0", "--network-key-file", s.keyFile,
		"--cache-dir", a.cacheDir}, extra...)
	a.proc = newProc(t, name, nil, args...)
	a.restart()
	return a
}

// restart starts the agent (again) and waits for its mirror.
func (a *agent) restart() {
	a.t.Helper()
	if err := a.start(); err != nil {
		a.t.Fatal(err)
	}
	if err := a.waitLog(agentReadyLine, time.Minute); err != nil {
		a.t.Fatalf("%v\n%s", err, a.tail())
	}
}

func (a *agent) url(path string) string { return "http://" + a.addr + path }

// blobResult is what a client read from a blob GET.
type blobResult struct {
	status int
	size   int64
	digest string // sha256 of the body read
	err    error
}

// getBlob reads a blob through url with the admin's credentials and hashes it as
// it arrives.
func getBlob(url string) blobResult {
	req, err := http.NewRequest(http.MethodGet, url, nil)
	if err != nil {
		return blobResult{err: err}
	}
	withAdmin(req)
	resp, err := (&http.Client{Timeout: toolTimeout}).Do(req)
	if err != nil {
		return blobResult{err: err}
	}
	defer resp.Body.Close()
	h := sha256.New()
	n, err := io.Copy(h, resp.Body)
	return blobResult{status: resp.StatusCode, size: n,
		digest: "sha256:" + hex.EncodeToString(h.Sum(nil)), err: err}
}

// metric returns the sum of the samples of the metric name whose labels include
// every one of labels (each written k="v"); 0 when there is none.
func metric(t *testing.T, url, name string, labels ...string) float64 {
	t.Helper()
	resp, err := http.Get(url)
	if err != nil {
		t.Fatalf("GET %s: %v", url, err)
	}
	defer resp.Body.Close()
	sum := 0.0
	sc := bufio.NewScanner(resp.Body)
	for sc.Scan() {
		series, value, ok := strings.Cut(sc.Text(), " ")
		if !ok || !matchSeries(series, name, labels) {
			continue
		}
		v, err := strconv.ParseFloat(value, 64)
		if err != nil {
			t.Fatalf("metric %s: %v", series, err)
		}
		sum += v
	}
	return sum
}

// matchSeries reports whether series (name{labels}) is name with every label.
func matchSeries(series, name string, labels []string) bool {
	n, rest, _ := strings.Cut(series, "{")
	if n != name {
		return false
	}
	have := strings.Split(strings.TrimSuffix(rest, "}"), ",")
	for _, l := range labels {
		if !slices.Contains(have, l) {
			return false
		}
	}
	return true
}
