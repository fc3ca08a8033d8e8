package e2e

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
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
	t       *testing.T
	dataDir string // survives restarts
	addr    string // host:port; kept across restarts
	logPath string // stdout and stderr of every run, appended

	mu       sync.Mutex // guards the fields below
	cmd      *exec.Cmd
	exited   chan struct{} // closed once cmd has exited
	intended bool          // reports whether the harness stopped cmd on purpose
}

// startServer starts a registry with an empty data directory and stops it
// when the test ends. It fails the test if the registry crashed meanwhile.
func startServer(t *testing.T) *server {
	t.Helper()
	if target.bin == "" {
		t.Skip("end-to-end tests do not run with -short")
	}
	work := t.TempDir()
	s := &server{
		t:       t,
		dataDir: filepath.Join(work, "data"),
		logPath: filepath.Join(work, "server.log"),
	}
	t.Cleanup(s.cleanup)
	var err error
	for attempt := 0; attempt < 3; attempt++ {
		s.addr = freeAddr(t)
		if err = s.start(); err == nil {
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
	log, err := os.OpenFile(s.logPath, os.O_CREATE|os.O_APPEND|os.O_WRONLY, 0o644)
	if err != nil {
		return err
	}
	defer log.Close()
	fmt.Fprintf(log, "==== %s start on %s at %s\n", target.kind, s.addr, time.Now().Format(time.RFC3339Nano))

	cmd, err := s.command()
	if err != nil {
		return err
	}
	cmd.Stdout, cmd.Stderr = log, log
	if err := cmd.Start(); err != nil {
		return err
	}
	exited := make(chan struct{})
	go func() {
		cmd.Wait()
		close(exited)
	}()
	s.mu.Lock()
	s.cmd, s.exited, s.intended = cmd, exited, false
	s.mu.Unlock()
	return s.waitReady(exited)
}

// command returns the command line of the target serving s.addr from s.dataDir.
func (s *server) command() (*exec.Cmd, error) {
	if target.kind == "berth" {
		return exec.Command(target.bin, "serve", "--addr", s.addr, "--data-dir", s.dataDir), nil
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

// kill9 sends SIGKILL and waits for the process to be gone.
func (s *server) kill9() {
	s.mu.Lock()
	cmd, exited := s.cmd, s.exited
	s.intended = true
	s.mu.Unlock()
	if cmd == nil {
		return
	}
	cmd.Process.Signal(syscall.SIGKILL)
	<-exited
}

// restart starts the registry again on the same address and data directory,
// after kill9 or stop.
func (s *server) restart() {
	s.t.Helper()
	if err := s.start(); err != nil {
		s.t.Fatalf("restarting %s: %v\n%s", target.kind, err, s.tail())
	}
}

// stop asks the process to exit with SIGTERM and kills it if it lingers.
func (s *server) stop() {
	s.mu.Lock()
	cmd, exited := s.cmd, s.exited
	crashed := !s.intended && isClosed(exited)
	s.intended = true
	s.mu.Unlock()
	if cmd == nil {
		return
	}
	if crashed {
		s.t.Errorf("%s exited during the test: %v", target.kind, cmd.ProcessState)
		return
	}
	cmd.Process.Signal(syscall.SIGTERM)
	select {
	case <-exited:
	case <-time.After(stopTimeout):
		s.t.Logf("%s ignored SIGTERM for %s; killing it", target.kind, stopTimeout)
		s.kill9()
	}
}

func (s *server) cleanup() {
	s.stop()
	if s.t.Failed() {
		s.t.Logf("last lines of the %s log (%s):\n%s", target.kind, s.addr, s.tail())
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

// tail returns the end of the server log.
func (s *server) tail() string {
	b, err := os.ReadFile(s.logPath)
	if err != nil {
		return err.Error()
	}
	if len(b) > logTail {
		b = b[len(b)-logTail:]
	}
	return string(b)
}

// url returns the http URL of path on the server.
func (s *server) url(path string) string {
	return "http://" + s.addr + path
}

// ref returns an image reference to repo (with a tag or digest if given) on the server.
func (s *server) ref(repoAndTag string) string {
	return s.addr + "/" + repoAndTag
}

// tool returns the path of a pinned client program in $BERTH_TOOLS. It skips
// the test when BERTH_TOOLS is unset, unless BERTH_REQUIRE_TOOLS=1, and fails
// it when the program is missing.
func tool(t *testing.T, name string) string {
	t.Helper()
	dir := os.Getenv("BERTH_TOOLS")
	if dir == "" {
		skipWithoutTools(t, name)
		t.Fatalf("BERTH_REQUIRE_TOOLS=1 but BERTH_TOOLS is unset; %s is needed", name)
	}
	path := filepath.Join(dir, name)
	if !isFile(path) {
		t.Fatalf("%s missing from BERTH_TOOLS=%s: run ./scripts/tools.sh", name, dir)
	}
	return path
}

func isFile(path string) bool {
	fi, err := os.Stat(path)
	return err == nil && fi.Mode().IsRegular()
}

// debianTool returns the path of a program that ./scripts/tools.sh installs with
// apt-get, looking in $BERTH_TOOLS and then in PATH. Without root the program
// cannot be installed, so a missing one skips the test.
func debianTool(t *testing.T, name, pkg string) string {
	t.Helper()
	if dir := os.Getenv("BERTH_TOOLS"); dir == "" {
		skipWithoutTools(t, name)
	} else if p := filepath.Join(dir, name); isFile(p) {
		return p
	}
	if p, err := exec.LookPath(name); err == nil {
		return p
	}
	if os.Geteuid() != 0 {
		t.Skipf("%s not installed and not root: apt-get install %s", name, pkg)
	}
	t.Fatalf("%s not found in BERTH_TOOLS or PATH: run ./scripts/tools.sh (apt-get install %s)",
		name, pkg)
	return ""
}

func skipWithoutTools(t *testing.T, name string) {
	t.Helper()
	if os.Getenv("BERTH_REQUIRE_TOOLS") == "1" {
		return
	}
	t.Skipf("BERTH_TOOLS is unset, so %s is not available: run ./scripts/test, "+
		"or ./scripts/tools.sh and export BERTH_TOOLS=$PWD/.tools/bin", name)
}

// run executes a client program in dir and returns its standard output.
// It fails the test, showing both outputs, when the program fails.
func run(t *testing.T, dir, prog string, args ...string) string {
	t.Helper()
	out, errOut, err := runErr(t, dir, prog, args...)
	if err != nil {
		t.Fatalf("%s %s: %v\nstdout:\n%s\nstderr:\n%s",
			filepath.Base(prog), strings.Join(args, " "), err, out, errOut)
	}
	return out
}

// runErr executes a client program in dir and returns its outputs and error.
func runErr(t *testing.T, dir, prog string, args ...string) (stdout, stderr string, err error) {
	t.Helper()
	env := append(os.Environ(), "DOCKER_CONFIG="+clientConfigDir(t))
	return runEnv(t, dir, env, prog, args...)
}

// runEnv executes a client program in dir with the environment env.
func runEnv(
	t *testing.T,
	dir string,
	env []string,
	prog string,
	args ...string,
) (stdout, stderr string, err error) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), toolTimeout)
	defer cancel()
	cmd := exec.CommandContext(ctx, prog, args...)
	cmd.Dir = dir
	cmd.Env = env
	var outBuf, errBuf bytes.Buffer
	cmd.Stdout, cmd.Stderr = &outBuf, &errBuf
	t.Logf("$ %s %s", filepath.Base(prog), strings.Join(args, " "))
	err = cmd.Run()
	if ctx.Err() != nil {
		err = fmt.Errorf("killed after %s: %w", toolTimeout, err)
	}
	return outBuf.String(), errBuf.String(), err
}

var clientConfig struct {
	once sync.Once
	dir  string
}

// clientConfigDir returns an empty directory for clients' credential files,
// so that a developer's own ~/.docker/config.json plays no part.
func clientConfigDir(t *testing.T) string {
	clientConfig.once.Do(func() {
		dir, err := os.MkdirTemp("", "berth-e2e-docker-")
		if err != nil {
			t.Fatal(err)
		}
		clientConfig.dir = dir
	})
	return clientConfig.dir
}

// reply is a registry response read in full.
type reply struct {
	status int
	header http.Header
	body   []byte
}

// do sends one request to the server. hdr holds header names and values in turn.
func (s *server) do(t *testing.T, method, pathOrURL string, body []byte, hdr ...string) reply {
	t.Helper()
	u := pathOrURL
	if strings.HasPrefix(u, "/") {
		u = s.url(u)
	}
	req, err := http.NewRequest(method, u, bytes.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	for i := 0; i+1 < len(hdr); i += 2 {
		req.Header.Set(hdr[i], hdr[i+1])
	}
	r, err := roundTrip(req)
	if err != nil {
		t.Fatalf("%s %s: %v", method, u, err)
	}
	return r
}

// roundTrip sends req like a Go client (no Expect: 100-continue) and reads the reply.
func roundTrip(req *http.Request) (reply, error) {
	client := &http.Client{Timeout: time.Minute}
	resp, err := client.Do(req)
	if err != nil {
		return reply{}, err
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		return reply{}, fmt.Errorf("reading body: %w", err)
	}
	return reply{status: resp.StatusCode, header: resp.Header, body: b}, nil
}

// errorCodes returns the codes of an OCI error body, or nil if it is not one.
func (r reply) errorCodes() []string {
	var body struct {
		Errors []struct {
			Code string `json:"code"`
		} `json:"errors"`
	}
	if json.Unmarshal(r.body, &body) != nil {
		return nil
	}
	codes := make([]string, 0, len(body.Errors))
	for _, e := range body.Errors {
		codes = append(codes, e.Code)
	}
	return codes
}

// String shows the reply in test failure messages.
func (r reply) String() string {
	b := r.body
	if len(b) > 2048 {
		b = b[:2048]
	}
	return fmt.Sprintf("%d %s %q", r.status, http.StatusText(r.status), b)
}

// location resolves the Location header of r against the server's base URL.
func (s *server) location(t *testing.T, r reply) string {
	t.Helper()
	loc := r.header.Get("Location")
	if loc == "" {
		t.Fatalf("reply has no Location header: %v", r)
	}
	u, err := url.Parse(s.url("/"))
	if err != nil {
		t.Fatal(err)
	}
	ref, err := url.Parse(loc)
	if err != nil {
		t.Fatalf("bad Location %q: %v", loc, err)
	}
	return u.ResolveReference(ref).String()
}
