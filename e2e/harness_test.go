package e2e

import (
	"errors"
	"flag"
	"fmt"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"testing"
	"time"
)

// Timeouts of the harness. They are generous because two cores may be busy
// compiling the unit tests while the end-to-end tests run.
const (
	readyTimeout = 2 * time.Minute  // berth serve: start to /readyz 200
	stopTimeout  = 15 * time.Second // SIGTERM to exit, then SIGKILL
	toolTimeout  = 3 * time.Minute  // one client command
	logTail      = 16 << 10         // bytes of server log shown when a test fails
)

// target is the registry program under test, chosen once by TestMain.
var target struct {
	kind string // "berth" or "distribution"
	bin  string // empty when the tests run with -short
}

func TestMain(m *testing.M) {
	flag.Parse()
	os.Exit(runMain(m))
}

func runMain(m *testing.M) int {
	if testing.Short() {
		return m.Run()
	}
	cleanup, err := chooseTarget()
	if err != nil {
		fmt.Fprintf(os.Stderr, "e2e: %v\n", err)
		return 1
	}
	defer cleanup()
	code := m.Run()
	if clientConfig.dir != "" {
		os.RemoveAll(clientConfig.dir)
	}
	return code
}

// chooseTarget sets target from BERTH_E2E_TARGET and BERTH_BIN, building berth
// when no binary is given. The returned func removes what it built.
func chooseTarget() (func(), error) {
	target.kind = os.Getenv("BERTH_E2E_TARGET")
	switch target.kind {
	case "", "berth":
		target.kind = "berth"
	case "distribution":
		target.bin = filepath.Join(os.Getenv("BERTH_TOOLS"), "registry")
		return func() {}, nil
	default:
		return nil, fmt.Errorf("BERTH_E2E_TARGET=%q: want berth or distribution", target.kind)
	}
	if bin := os.Getenv("BERTH_BIN"); bin != "" {
		target.bin = bin
		return func() {}, nil
	}
	dir, err := os.MkdirTemp("", "berth-e2e-bin-")
	if err != nil {
		return nil, err
	}
	target.bin = filepath.Join(dir, "berth")
	if err := buildBerth(target.bin); err != nil {
		os.RemoveAll(dir)
		return nil, err
	}
	return func() { os.RemoveAll(dir) }, nil
}

// buildBerth compiles berth.dev/berth/cmd/berth into bin.
func buildBerth(bin string) error {
	start := time.Now()
	fmt.Fprintf(os.Stderr, "e2e: building berth.dev/berth/cmd/berth\n")
	cmd := exec.Command("go", "build", "-o", bin, "berth.dev/berth/cmd/berth")
	out, err := cmd.CombinedOutput()
	if err != nil {
		return fmt.Errorf("go build ./cmd/berth: %v\n%s", err, out)
	}
	fmt.Fprintf(os.Stderr, "e2e: built berth in %s\n", time.Since(start).Round(time.Second))
	return nil
}

// server is one registry process under test, listening on a loopback port.
type server struct {
	*proc
	dataDir string   // survives restarts
	addr    string   // host:port; kept across restarts
	extra   []string // more arguments of `berth serve`
}

// startServer starts a registry with an empty data directory and stops it
// when the test ends. It fails the test if the registry crashed meanwhile.
func startServer(t *testing.T) *server {
	t.Helper()
	return startServerWith(t)
}

// startServerWith is startServer with more arguments of `berth serve`.
func startServerWith(t *testing.T, extra ...string) *server {
	t.Helper()
	if target.bin == "" {
		t.Skip("end-to-end tests do not run with -short")
	}
	work := t.TempDir()
	s := &server{dataDir: filepath.Join(work, "data"), extra: extra}
	s.proc = &proc{t: t, name: target.kind, logPath: filepath.Join(work, "server.log"),
		command: s.command}
	t.Cleanup(s.cleanup)
	var err error
	for attempt := 0; attempt < 3; attempt++ {
		s.addr = freeAddr(t)
		if err = s.start(); err == nil {
			prepareRegistry(t, s.addr)
			return s
		}
	}
	t.Fatalf("starting %s: %v\n%s", target.kind, err, s.tail())
	return nil
}

// freeAddr returns a loopback address whose port was free a moment ago.
func freeAddr(t *testing.T) string {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	return l.Addr().String()
}

// start runs the registry on s.addr and s.dataDir and waits until it is ready.
func (s *server) start() error {
	if err := s.proc.start(); err != nil {
		return err
	}
	return s.waitReady(s.running())
}

// command returns the command line of the target serving s.addr from s.dataDir.
func (s *server) command() (*exec.Cmd, error) {
	if target.kind == "berth" {
		args := append([]string{"serve", "--addr", s.addr, "--data-dir", s.dataDir}, s.extra...)
		cmd := exec.Command(target.bin, args...)
		cmd.Env = append(os.Environ(), authEnv()...)
		return cmd, nil
	}
	conf := filepath.Join(filepath.Dir(s.logPath), "distribution.yml")
	text := fmt.Sprintf(distributionConfig, s.dataDir, s.addr)
	if err := os.WriteFile(conf, []byte(text), 0o644); err != nil {
		return nil, err
	}
	return exec.Command(target.bin, "serve", conf), nil
}

// distributionConfig configures CNCF Distribution like `berth serve`:
// filesystem storage, deletes allowed, plain HTTP.
const distributionConfig = `version: 0.1
log:
  level: warn
storage:
  filesystem:
    rootdirectory: %s
  delete:
    enabled: true
http:
  addr: %s
`

// waitReady polls the readiness endpoint until it answers 200 or the process exits.
func (s *server) waitReady(exited <-chan struct{}) error {
	path := "/readyz"
	if target.kind == "distribution" {
		path = "/v2/"
	}
	client := &http.Client{Timeout: 2 * time.Second}
	deadline := time.Now().Add(readyTimeout)
	for time.Now().Before(deadline) {
		select {
		case <-exited:
			return errors.New("process exited before it was ready")
		case <-time.After(100 * time.Millisecond):
		}
		resp, err := client.Get(s.url(path))
		if err != nil {
			continue
		}
		resp.Body.Close()
		if resp.StatusCode == http.StatusOK {
			return nil
		}
	}
	s.kill9()
	return fmt.Errorf("GET %s did not answer 200 within %s", path, readyTimeout)
}

// restart starts the registry again on the same address and data directory,
// after kill9 or stop.
func (s *server) restart() {
	s.t.Helper()
	if err := s.start(); err != nil {
		s.t.Fatalf("restarting %s: %v\n%s", target.kind, err, s.tail())
	}
}

func isClosed(c <-chan struct{}) bool {
	select {
	case <-c:
		return true
	default:
		return false
	}
}

// url returns the http URL of path on the server.
func (s *server) url(path string) string {
	return "http://" + s.addr + path
}

// ref returns an image reference to repo (with a tag or digest if given) on the server.
func (s *server) ref(repoAndTag string) string {
	return s.addr + "/" + repoAndTag
}
