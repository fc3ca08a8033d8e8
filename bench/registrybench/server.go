package main

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"time"
)

// readyTimeout bounds how long a server may take to answer its readiness probe.
const readyTimeout = 90 * time.Second

// serverSpec says how to launch one registry implementation.
type serverSpec struct {
	name      string
	bin       string
	readyPath string   // GET path that answers 200 once the server is ready
	env       []string // added to the benchmark's environment
	// user and password, when set, go with every request as Basic credentials.
	user, password string
	// args returns the command-line arguments for a server on addr storing under dir.
	args func(addr, dir string) ([]string, error)
}

// server is one running registry process.
type server struct {
	name    string
	url     string // base URL, e.g. http://127.0.0.1:5000
	addr    string // host:port of url
	user    string // Basic credentials of the benchmark's requests; "" sends none
	pass    string
	dir     string // data directory, removed by stop
	logPath string
	cmd     *exec.Cmd
	exited  chan struct{} // closed when the process has exited
	waitErr error         // set before exited is closed
}

// startServer launches spec with a fresh data directory under work and waits until
// it is ready. The error is one line naming the server and its last log line.
func startServer(ctx context.Context, spec serverSpec, work string) (*server, error) {
	addr, err := freeAddr()
	if err != nil {
		return nil, err
	}
	dir, err := os.MkdirTemp(work, spec.name+"-")
	if err != nil {
		return nil, err
	}
	s := &server{name: spec.name, url: "http://" + addr, addr: addr, dir: dir,
		user: spec.user, pass: spec.password}
	if err := s.launch(spec, addr); err != nil {
		os.RemoveAll(dir)
		return nil, err
	}
	if err := s.waitReady(ctx, spec.readyPath); err != nil {
		s.stop()
		return nil, err
	}
	return s, nil
}

func (s *server) launch(spec serverSpec, addr string) error {
	args, err := spec.args(addr, s.dir)
	if err != nil {
		return fmt.Errorf("%s: %w", s.name, err)
	}
	s.logPath = filepath.Join(s.dir, "server.log")
	logf, err := os.Create(s.logPath)
	if err != nil {
		return err
	}
	s.cmd = exec.Command(spec.bin, args...)
	s.cmd.Env = append(os.Environ(), spec.env...)
	s.cmd.Stdout, s.cmd.Stderr = logf, logf
	// The server dies with the benchmark even if the benchmark is killed.
	s.cmd.SysProcAttr = &syscall.SysProcAttr{Pdeathsig: syscall.SIGKILL}
	if err := s.cmd.Start(); err != nil {
		logf.Close()
		return fmt.Errorf("%s failed to start: %w", s.name, err)
	}
	s.exited = make(chan struct{})
	go func() {
		s.waitErr = s.cmd.Wait()
		logf.Close()
		close(s.exited)
	}()
	return nil
}

// waitReady polls readyPath until it answers 200, the process exits or time runs out.
func (s *server) waitReady(ctx context.Context, readyPath string) error {
	ctx, cancel := context.WithTimeout(ctx, readyTimeout)
	defer cancel()
	tick := time.NewTicker(100 * time.Millisecond)
	defer tick.Stop()
	for {
		if probe(ctx, s.url+readyPath) {
			return nil
		}
		select {
		case <-s.exited:
			return fmt.Errorf("%s failed to start (%v): %s", s.name, s.waitErr, s.lastLog())
		case <-ctx.Done():
			return fmt.Errorf("%s not ready after %v: %s", s.name, readyTimeout, s.lastLog())
		case <-tick.C:
		}
	}
}

func probe(ctx context.Context, url string) bool {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, url, nil)
	if err != nil {
		return false
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return false
	}
	resp.Body.Close()
	return resp.StatusCode == http.StatusOK
}

// lastLog returns the last non-empty line of the server's log, shortened.
func (s *server) lastLog() string {
	f, err := os.Open(s.logPath)
	if err != nil {
		return "no log"
	}
	defer f.Close()
	last := "empty log"
	sc := bufio.NewScanner(f)
	sc.Buffer(make([]byte, 64<<10), 1<<20)
	for sc.Scan() {
		if line := strings.TrimSpace(sc.Text()); line != "" {
			last = line
		}
	}
	if len(last) > 200 {
		last = last[:200] + "..."
	}
	return last
}

// stop ends the process (SIGTERM, then SIGKILL after 10s) and removes its data.
func (s *server) stop() error {
	defer os.RemoveAll(s.dir)
	if s.cmd == nil || s.cmd.Process == nil {
		return nil
	}
	s.cmd.Process.Signal(syscall.SIGTERM)
	select {
	case <-s.exited:
	case <-time.After(10 * time.Second):
		s.cmd.Process.Kill()
		<-s.exited
	}
	var exitErr *exec.ExitError
	if s.waitErr != nil && !errors.As(s.waitErr, &exitErr) {
		return s.waitErr
	}
	return nil
}

// pid returns the server's process id.
func (s *server) pid() int { return s.cmd.Process.Pid }

// freeAddr returns a loopback address with a port that was free a moment ago.
func freeAddr() (string, error) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return "", err
	}
	defer l.Close()
	return l.Addr().String(), nil
}
