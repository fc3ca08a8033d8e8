package main

import (
	"bytes"
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

// startTimeout bounds how long a process may take to serve.
const startTimeout = time.Minute

// setup is the processes of one measured deployment and the registry address.
type setup struct {
	addr   string // host:port of the registry API
	logDir string
	procs  []*process
}

// process is one running berth process with its output in a log file.
type process struct {
	cmd    *exec.Cmd
	log    string
	exited chan struct{}
}

// startProcess runs berth with args, its output going to logDir/name.log.
func startProcess(berth, logDir, name string, args ...string) (*process, error) {
	p := &process{log: filepath.Join(logDir, name+".log"), exited: make(chan struct{})}
	f, err := os.Create(p.log)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	p.cmd = exec.Command(berth, args...)
	p.cmd.Env = append(os.Environ(), "BERTH_ADMIN_PASSWORD="+adminPassword)
	p.cmd.Stdout, p.cmd.Stderr = f, f
	if err := p.cmd.Start(); err != nil {
		return nil, err
	}
	go func() {
		p.cmd.Wait()
		close(p.exited)
	}()
	return p, nil
}

// stop asks the process to exit and kills it after 15 seconds.
func (p *process) stop() {
	p.cmd.Process.Signal(syscall.SIGTERM)
	select {
	case <-p.exited:
	case <-time.After(15 * time.Second):
		p.cmd.Process.Kill()
		<-p.exited
	}
}

// waitLog waits until the process has logged a line holding want.
func (p *process) waitLog(want string) error {
	deadline := time.Now().Add(startTimeout)
	for time.Now().Before(deadline) {
		if b, err := os.ReadFile(p.log); err == nil && bytes.Contains(b, []byte(want)) {
			return nil
		}
		select {
		case <-p.exited:
			return fmt.Errorf("%s exited before logging %q", p.log, want)
		case <-time.After(50 * time.Millisecond):
		}
	}
	return fmt.Errorf("%s: no %q within %s", p.log, want, startTimeout)
}

// waitReady polls the registry's /readyz until it answers 200.
func (p *process) waitReady(addr string) error {
	client := &http.Client{Timeout: 2 * time.Second}
	deadline := time.Now().Add(startTimeout)
	for time.Now().Before(deadline) {
		select {
		case <-p.exited:
			return fmt.Errorf("exited before it was ready; see %s", p.log)
		case <-time.After(50 * time.Millisecond):
		}
		resp, err := client.Get("http://" + addr + "/readyz")
		if err != nil {
			continue
		}
		resp.Body.Close()
		if resp.StatusCode == http.StatusOK {
			return nil
		}
	}
	return fmt.Errorf("/readyz not 200 within %s; see %s", startTimeout, p.log)
}

func (s *setup) stop() {
	for i := len(s.procs) - 1; i >= 0; i-- {
		s.procs[i].stop()
	}
}

// startEmbedded runs `berth serve`, which holds its own single member.
func startEmbedded(berth, work string) (*setup, error) {
	dir := filepath.Join(work, "embedded")
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return nil, err
	}
	s := &setup{addr: freeAddr(), logDir: dir}
	p, err := startProcess(berth, dir, "serve", "serve", "--addr", s.addr,
		"--data-dir", filepath.Join(dir, "data"))
	if err != nil {
		return nil, err
	}
	s.procs = append(s.procs, p)
	if err := p.waitReady(s.addr); err != nil {
		s.stop()
		return nil, err
	}
	return s, nil
}

// startCluster runs n `berth kvnode` members and one `berth gateway` on them.
func startCluster(berth, work string, n int) (*setup, error) {
	dir := filepath.Join(work, fmt.Sprintf("cluster%d", n))
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return nil, err
	}
	s := &setup{addr: freeAddr(), logDir: dir}
	var clients, initial []string
	peers := make([]string, n)
	for i := range peers {
		peers[i] = "http://" + freeAddr()
		initial = append(initial, fmt.Sprintf("m%d=%s", i, peers[i]))
	}
	for i := range peers {
		client := "http://" + freeAddr()
		clients = append(clients, client)
		name := fmt.Sprintf("m%d", i)
		p, err := startProcess(berth, dir, name, "kvnode", "--name", name,
			"--data-dir", filepath.Join(dir, name), "--listen-client", client,
			"--listen-peer", peers[i], "--initial-cluster", strings.Join(initial, ","))
		if err != nil {
			s.stop()
			return nil, err
		}
		s.procs = append(s.procs, p)
	}
	if err := s.startGateway(berth, dir, clients); err != nil {
		s.stop()
		return nil, err
	}
	return s, nil
}

// startGateway waits for the members, then starts the gateway on them.
func (s *setup) startGateway(berth, dir string, clients []string) error {
	for _, p := range s.procs {
		if err := p.waitLog("kvnode member ready"); err != nil {
			return err
		}
	}
	p, err := startProcess(berth, dir, "gateway", "gateway", "--addr", s.addr,
		"--data-dir", filepath.Join(dir, "blobs"), "--kv-endpoints", strings.Join(clients, ","))
	if err != nil {
		return err
	}
	s.procs = append(s.procs, p)
	return p.waitReady(s.addr)
}

// freeAddr returns a loopback address whose port was free a moment ago.
func freeAddr() string {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		panic(err) // no loopback: nothing can be measured
	}
	defer l.Close()
	return l.Addr().String()
}
