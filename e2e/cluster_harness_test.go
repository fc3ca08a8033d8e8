package e2e

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	clientv3 "go.etcd.io/etcd/client/v3"
	"go.uber.org/zap"
)

// Helpers for the cluster tests: berth processes other than `berth serve` (kvnode
// members and gateways), a 3-member metadata cluster on loopback, and a registry
// client that goroutines can share because it returns errors instead of failing
// the test.

const (
	memberReadyTimeout = time.Minute // kvnode start to "kvnode member ready"
	memberReadyLine    = "kvnode member ready"
	adminTimeout       = 30 * time.Second // one `berth kv` or `berth kvnode member` command
)

// proc is one berth process under test. It can be killed, stopped, continued and
// started again with the same arguments; its output of every run goes to one log.
type proc struct {
	t       *testing.T
	name    string   // shown in failure messages
	args    []string // berth's arguments
	env     []string // added to the test's environment
	logPath string
	// command, when set, builds the command line instead of berth with args and env.
	command func() (*exec.Cmd, error)

	mu       sync.Mutex // guards the fields below
	cmd      *exec.Cmd
	exited   chan struct{} // closed once cmd has exited
	intended bool          // reports whether the harness ended cmd on purpose
	logStart int64         // size of the log when cmd started
}

// newProc returns a process that is not started yet; it is stopped when the test ends.
func newProc(t *testing.T, name string, env []string, args ...string) *proc {
	t.Helper()
	if target.bin == "" {
		t.Skip("end-to-end tests do not run with -short")
	}
	if target.kind != "berth" {
		t.Skipf("cluster tests need berth's kvnode and gateway, not %s", target.kind)
	}
	p := &proc{t: t, name: name, args: args, env: env,
		logPath: filepath.Join(t.TempDir(), name+".log")}
	t.Cleanup(p.cleanup)
	return p
}

// start runs the process without waiting for it to be ready.
func (p *proc) start() error {
	log, err := os.OpenFile(p.logPath, os.O_CREATE|os.O_APPEND|os.O_WRONLY, 0o644)
	if err != nil {
		return err
	}
	defer log.Close()
	fi, err := log.Stat()
	if err != nil {
		return err
	}
	cmd, err := p.cmdLine()
	if err != nil {
		return err
	}
	fmt.Fprintf(log, "==== %s start at %s: %s\n",
		p.name, time.Now().Format(time.RFC3339Nano), strings.Join(cmd.Args, " "))
	cmd.Stdout, cmd.Stderr = log, log
	if err := cmd.Start(); err != nil {
		return err
	}
	exited := make(chan struct{})
	go func() {
		cmd.Wait()
		close(exited)
	}()
	p.mu.Lock()
	p.cmd, p.exited, p.intended, p.logStart = cmd, exited, false, fi.Size()
	p.mu.Unlock()
	return nil
}

// cmdLine returns the command of the next run.
func (p *proc) cmdLine() (*exec.Cmd, error) {
	if p.command != nil {
		return p.command()
	}
	cmd := exec.Command(target.bin, p.args...)
	cmd.Env = append(append(os.Environ(), authEnv()...), p.env...)
	return cmd, nil
}

// running returns the channel closed when the current run exits.
func (p *proc) running() <-chan struct{} {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.exited
}

// waitLog waits until the current run has logged a line holding want.
func (p *proc) waitLog(want string, timeout time.Duration) error {
	p.mu.Lock()
	exited, from := p.exited, p.logStart
	p.mu.Unlock()
	deadline := time.Now().Add(timeout)
	for time.Now().Before(deadline) {
		if b, err := os.ReadFile(p.logPath); err == nil && int64(len(b)) > from &&
			bytes.Contains(b[from:], []byte(want)) {
			return nil
		}
		select {
		case <-exited:
			return fmt.Errorf("%s exited before logging %q", p.name, want)
		case <-time.After(50 * time.Millisecond):
		}
	}
	return fmt.Errorf("%s did not log %q within %s", p.name, want, timeout)
}

// signal sends sig to the running process, for example SIGSTOP or SIGCONT.
func (p *proc) signal(sig syscall.Signal) {
	p.t.Helper()
	p.mu.Lock()
	cmd := p.cmd
	p.mu.Unlock()
	if err := cmd.Process.Signal(sig); err != nil {
		p.t.Fatalf("%s: signal %v: %v", p.name, sig, err)
	}
}

// kill9 sends SIGKILL and waits for the process to be gone.
func (p *proc) kill9() {
	p.mu.Lock()
	cmd, exited := p.cmd, p.exited
	p.intended = true
	p.mu.Unlock()
	if cmd == nil {
		return
	}
	cmd.Process.Signal(syscall.SIGKILL)
	<-exited
}

// stop continues a stopped process, asks it to exit with SIGTERM and kills it if
// it lingers. A process that died on its own fails the test.
func (p *proc) stop() {
	p.mu.Lock()
	cmd, exited := p.cmd, p.exited
	crashed := !p.intended && isClosed(exited)
	p.intended = true
	p.mu.Unlock()
	if cmd == nil {
		return
	}
	if crashed {
		p.t.Errorf("%s exited during the test: %v", p.name, cmd.ProcessState)
		return
	}
	cmd.Process.Signal(syscall.SIGCONT)
	cmd.Process.Signal(syscall.SIGTERM)
	select {
	case <-exited:
	case <-time.After(stopTimeout):
		p.t.Logf("%s ignored SIGTERM for %s; killing it", p.name, stopTimeout)
		p.kill9()
	}
}

func (p *proc) cleanup() {
	p.stop()
	checkLogSecrets(p.t, p.name, p.logPath)
	if p.t.Failed() {
		p.t.Logf("last lines of the %s log:\n%s", p.name, p.tail())
	}
}

// tail returns the end of the process log.
func (p *proc) tail() string {
	b, err := os.ReadFile(p.logPath)
	if err != nil {
		return err.Error()
	}
	if len(b) > logTail {
		b = b[len(b)-logTail:]
	}
	return string(b)
}

// member is one `berth kvnode` process.
type member struct {
	*proc
	name, dir          string
	clientURL, peerURL string
}

// kvCluster is a metadata cluster of kvnode members on loopback.
type kvCluster struct {
	t       *testing.T
	members []*member
	initial string // --initial-cluster
}

// startCluster starts n kvnode members that form a new cluster and waits until
// every one of them serves.
func startCluster(t *testing.T, n int) *kvCluster {
	t.Helper()
	c := &kvCluster{t: t}
	var initial []string
	for i := range n {
		name := fmt.Sprintf("m%d", i)
		m := &member{name: name, dir: filepath.Join(t.TempDir(), name),
			clientURL: "http://" + freeAddr(t), peerURL: "http://" + freeAddr(t)}
		c.members = append(c.members, m)
		initial = append(initial, name+"="+m.peerURL)
	}
	c.initial = strings.Join(initial, ",")
	for _, m := range c.members {
		m.proc = newProc(t, "kvnode-"+m.name, nil, "kvnode", "--name", m.name,
			"--data-dir", m.dir, "--listen-client", m.clientURL, "--listen-peer", m.peerURL,
			"--initial-cluster", c.initial, "--initial-cluster-state", "new")
	}
	c.startAll()
	return c
}

// startAll starts every member at once (none is ready before a quorum runs) and
// waits until each serves.
func (c *kvCluster) startAll() {
	c.t.Helper()
	for _, m := range c.members {
		if err := m.start(); err != nil {
			c.t.Fatalf("start %s: %v", m.name, err)
		}
	}
	for _, m := range c.members {
		m.waitReady()
	}
}

// waitReady fails the test unless the member's current run becomes ready.
func (m *member) waitReady() {
	m.t.Helper()
	if err := m.waitLog(memberReadyLine, memberReadyTimeout); err != nil {
		m.t.Fatalf("%v\n%s", err, m.tail())
	}
}

// restart starts a member again on its data directory and waits until it serves.
func (m *member) restart() {
	m.t.Helper()
	if err := m.start(); err != nil {
		m.t.Fatalf("restart %s: %v", m.name, err)
	}
	m.waitReady()
}

// endpoints returns the client URLs of every member, comma-separated.
func (c *kvCluster) endpoints() string {
	urls := make([]string, len(c.members))
	for i, m := range c.members {
		urls[i] = m.clientURL
	}
	return strings.Join(urls, ",")
}

// client returns an etcd client on the given members, closed when the test ends.
func (c *kvCluster) client(ms ...*member) *clientv3.Client {
	c.t.Helper()
	var eps []string
	for _, m := range ms {
		eps = append(eps, m.clientURL)
	}
	cli, err := clientv3.New(clientv3.Config{
		Endpoints: eps, DialTimeout: 5 * time.Second, Logger: zap.NewNop(),
	})
	if err != nil {
		c.t.Fatal(err)
	}
	c.t.Cleanup(func() { cli.Close() })
	return cli
}

// leader returns the member that every reachable member names as leader.
func (c *kvCluster) leader(cli *clientv3.Client) (*member, error) {
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	for _, m := range c.members {
		st, err := cli.Status(ctx, m.clientURL)
		if err != nil {
			continue
		}
		if st.Leader != 0 && st.Leader == st.Header.MemberId {
			return m, nil
		}
	}
	return nil, errors.New("no member reports itself as leader")
}

// others returns the members except m.
func (c *kvCluster) others(m *member) []*member {
	var out []*member
	for _, o := range c.members {
		if o != m {
			out = append(out, o)
		}
	}
	return out
}

// berthAdmin runs a short berth command such as `kv backup` and returns its output.
func berthAdmin(t *testing.T, args ...string) string {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), adminTimeout)
	defer cancel()
	t.Logf("$ berth %s", strings.Join(args, " "))
	out, err := exec.CommandContext(ctx, target.bin, args...).CombinedOutput()
	if err != nil {
		t.Fatalf("berth %s: %v\n%s", strings.Join(args, " "), err, out)
	}
	return string(out)
}

// gatewayProc is one `berth gateway` process on a cluster.
type gatewayProc struct {
	*proc
	addr    string
	dataDir string // blobs
}

// startGateway runs a gateway on c with blobs under dataDir and waits for /readyz.
// env adds variables such as BERTH_KV_REQUEST_TIMEOUT.
func startGateway(t *testing.T, c *kvCluster, dataDir string, env ...string) *gatewayProc {
	t.Helper()
	g := &gatewayProc{addr: freeAddr(t), dataDir: dataDir}
	g.proc = newProc(t, "gateway", env, "gateway", "--addr", g.addr,
		"--data-dir", dataDir, "--kv-endpoints", c.endpoints())
	if err := g.start(); err != nil {
		t.Fatalf("start gateway: %v", err)
	}
	if err := g.waitReady(); err != nil {
		t.Fatalf("%v\n%s", err, g.tail())
	}
	prepareRegistry(t, g.addr)
	return g
}

// waitReady polls /readyz until it answers 200 or the process exits.
func (g *gatewayProc) waitReady() error {
	g.mu.Lock()
	exited := g.exited
	g.mu.Unlock()
	client := &http.Client{Timeout: 2 * time.Second}
	deadline := time.Now().Add(readyTimeout)
	for time.Now().Before(deadline) {
		select {
		case <-exited:
			return errors.New("gateway exited before it was ready")
		case <-time.After(100 * time.Millisecond):
		}
		resp, err := client.Get("http://" + g.addr + "/readyz")
		if err != nil {
			continue
		}
		resp.Body.Close()
		if resp.StatusCode == http.StatusOK {
			return nil
		}
	}
	return fmt.Errorf("gateway: /readyz did not answer 200 within %s", readyTimeout)
}
