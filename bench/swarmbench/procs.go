package main

import (
	"context"
	"crypto/rand"
	"encoding/base64"
	"errors"
	"fmt"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"syscall"
	"time"
)

// proc is one berth process of the benchmark.
type proc struct {
	cmd    *exec.Cmd
	log    string
	exited chan struct{}
}

func startProc(bin, logPath string, env []string, args ...string) (*proc, error) {
	f, err := os.Create(logPath)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	cmd := exec.Command(bin, args...)
	cmd.Env = append(os.Environ(), env...)
	cmd.Stdout, cmd.Stderr = f, f
	if err := cmd.Start(); err != nil {
		return nil, err
	}
	p := &proc{cmd: cmd, log: logPath, exited: make(chan struct{})}
	go func() {
		cmd.Wait()
		close(p.exited)
	}()
	return p, nil
}

// stop asks the process to exit and kills it after 10 s.
func (p *proc) stop() {
	p.cmd.Process.Signal(syscall.SIGTERM)
	select {
	case <-p.exited:
	case <-time.After(10 * time.Second):
		p.cmd.Process.Kill()
		<-p.exited
	}
}

// waitHTTP polls url until it answers 200.
func (p *proc) waitHTTP(ctx context.Context, url string) error {
	deadline := time.Now().Add(90 * time.Second)
	for time.Now().Before(deadline) {
		select {
		case <-p.exited:
			return fmt.Errorf("exited before it was ready; see %s", p.log)
		case <-ctx.Done():
			return ctx.Err()
		case <-time.After(100 * time.Millisecond):
		}
		if resp, err := http.Get(url); err == nil {
			resp.Body.Close()
			if resp.StatusCode == http.StatusOK {
				return nil
			}
		}
	}
	return fmt.Errorf("%s did not answer 200 in 90s; see %s", url, p.log)
}

// gateway is the berth serve under test.
type gateway struct {
	*proc
	url      string
	keyFile  string
	password string
}

func freeAddr() (string, error) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return "", err
	}
	defer l.Close()
	return l.Addr().String(), nil
}

// startGateway runs berth serve with its seed on loopback, its seed egress capped
// at B, and a project "bench".
func startGateway(ctx context.Context, cfg config, work string) (*gateway, error) {
	addr, err := freeAddr()
	if err != nil {
		return nil, err
	}
	conf := filepath.Join(work, "berth.yml")
	text := fmt.Sprintf("p2p:\n  listen: /ip4/127.0.0.1/tcp/0\n  piece_size: %d\n"+
		"  upload_rate: %d\n", cfg.piece, cfg.rate)
	if cfg.seedUp > 0 {
		text += fmt.Sprintf("  max_uploads: %d\n", cfg.seedUp)
	}
	if err := os.WriteFile(conf, []byte(text), 0o600); err != nil {
		return nil, err
	}
	pw := make([]byte, 18)
	rand.Read(pw)
	g := &gateway{url: "http://" + addr, keyFile: filepath.Join(work, "data", "p2p-network.key"),
		password: base64.RawURLEncoding.EncodeToString(pw)}
	g.proc, err = startProc(cfg.berthBin, filepath.Join(work, "serve.log"),
		[]string{"BERTH_ADMIN_PASSWORD=" + g.password}, "serve", "--addr", addr,
		"--data-dir", filepath.Join(work, "data"), "--config", conf)
	if err != nil {
		return nil, err
	}
	if err := g.waitHTTP(ctx, g.url+"/readyz"); err != nil {
		g.stop()
		return nil, err
	}
	if err := g.createProject("bench"); err != nil {
		g.stop()
		return nil, err
	}
	return g, nil
}

// startAgents runs n agents of gatewayURL with the given extra flags.
func startAgents(
	ctx context.Context, cfg config, g *gateway, dir, gatewayURL string, n int, extra []string,
) ([]*agent, error) {
	var agents []*agent
	var errs []error
	for i := range n {
		a, err := startAgent(ctx, cfg, g, filepath.Join(dir, fmt.Sprint(i)), gatewayURL, extra)
		if err != nil {
			errs = append(errs, err)
			break
		}
		agents = append(agents, a)
	}
	if len(errs) > 0 {
		stopAgents(agents)
		return nil, errors.Join(errs...)
	}
	return agents, nil
}

// agent is one berth peer.
type agent struct {
	*proc
	url string
}

func startAgent(
	ctx context.Context, cfg config, g *gateway, dir, gatewayURL string, extra []string,
) (*agent, error) {
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return nil, err
	}
	addr, err := freeAddr()
	if err != nil {
		return nil, err
	}
	args := append([]string{"peer", "--gateway", gatewayURL, "--listen", addr,
		"--p2p-listen", "/ip4/127.0.0.1/tcp/0", "--network-key-file", g.keyFile,
		"--cache-dir", filepath.Join(dir, "cache")}, extra...)
	p, err := startProc(cfg.berthBin, filepath.Join(dir, "agent.log"), nil, args...)
	if err != nil {
		return nil, err
	}
	a := &agent{proc: p, url: "http://" + addr}
	if err := a.waitHTTP(ctx, a.url+"/healthz"); err != nil {
		a.stop()
		return nil, err
	}
	return a, nil
}

func stopAgents(agents []*agent) {
	for _, a := range agents {
		a.stop()
	}
}
