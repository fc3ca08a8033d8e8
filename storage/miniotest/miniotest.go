// Package miniotest runs a real MinIO server on loopback for tests, the way
// net/http/httptest runs an HTTP server.
//
// The server binary is $BERTH_TOOLS/minio, installed by scripts/tools.sh. Without
// BERTH_TOOLS the test is skipped, unless BERTH_REQUIRE_TOOLS=1, which fails it.
package miniotest

import (
	"errors"
	"fmt"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"syscall"
	"testing"
	"time"
)

// Credentials of every server this package starts.
const (
	AccessKey = "berth-test"
	SecretKey = "berth-test-secret"
)

// readyTimeout bounds a start of MinIO; two busy cores make it slow.
const readyTimeout = time.Minute

// Server is one MinIO process serving a temporary directory.
type Server struct {
	// Endpoint is host:port of the S3 API.
	Endpoint string
	t        testing.TB
	bin, dir string
	logPath  string
	cmd      *exec.Cmd
	exited   chan struct{}
}

// Start runs MinIO on a free loopback port and stops it when the test ends.
func Start(t testing.TB) *Server {
	t.Helper()
	s := &Server{t: t, bin: Binary(t), dir: t.TempDir()}
	s.logPath = filepath.Join(s.dir, "minio.log")
	s.Endpoint = freeAddr(t)
	t.Cleanup(s.Stop)
	s.Restart()
	return s
}

// Binary returns the path of the pinned MinIO server, skipping or failing t when
// it is not installed.
func Binary(t testing.TB) string {
	t.Helper()
	dir := os.Getenv("BERTH_TOOLS")
	if dir == "" {
		if os.Getenv("BERTH_REQUIRE_TOOLS") != "1" {
			t.Skip("BERTH_TOOLS is unset, so minio is not available: run ./scripts/test, " +
				"or ./scripts/tools.sh and export BERTH_TOOLS=$PWD/.tools/bin")
		}
		t.Fatal("BERTH_REQUIRE_TOOLS=1 but BERTH_TOOLS is unset; minio is needed")
	}
	bin := filepath.Join(dir, "minio")
	if fi, err := os.Stat(bin); err != nil || !fi.Mode().IsRegular() {
		t.Fatalf("minio missing from BERTH_TOOLS=%s: run ./scripts/tools.sh", dir)
	}
	return bin
}

func freeAddr(t testing.TB) string {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	return l.Addr().String()
}

// Restart starts the server again on the same port and data after Stop (Start
// calls it the first time), and waits until it is live.
func (s *Server) Restart() {
	s.t.Helper()
	log, err := os.OpenFile(s.logPath, os.O_CREATE|os.O_APPEND|os.O_WRONLY, 0o644)
	if err != nil {
		s.t.Fatal(err)
	}
	defer log.Close()
	s.cmd = exec.Command(s.bin, "server", filepath.Join(s.dir, "data"),
		"--address", s.Endpoint, "--console-address", freeAddr(s.t), "--quiet")
	s.cmd.Env = append(os.Environ(), "MINIO_ROOT_USER="+AccessKey,
		"MINIO_ROOT_PASSWORD="+SecretKey, "MINIO_BROWSER=off", "MINIO_UPDATE=off")
	s.cmd.Stdout, s.cmd.Stderr = log, log
	if err := s.cmd.Start(); err != nil {
		s.t.Fatalf("start minio: %v", err)
	}
	s.exited = make(chan struct{})
	cmd, exited := s.cmd, s.exited
	go func() {
		cmd.Wait()
		close(exited)
	}()
	if err := s.waitLive(); err != nil {
		s.Stop()
		s.t.Fatalf("%v\n%s", err, s.tail())
	}
}

// waitLive polls /minio/health/live until it answers 200.
func (s *Server) waitLive() error {
	client := &http.Client{Timeout: 2 * time.Second}
	deadline := time.Now().Add(readyTimeout)
	for time.Now().Before(deadline) {
		select {
		case <-s.exited:
			return errors.New("minio exited before it was live")
		case <-time.After(100 * time.Millisecond):
		}
		resp, err := client.Get("http://" + s.Endpoint + "/minio/health/live")
		if err != nil {
			continue
		}
		resp.Body.Close()
		if resp.StatusCode == http.StatusOK {
			return nil
		}
	}
	return fmt.Errorf("minio: /minio/health/live did not answer 200 within %s", readyTimeout)
}

// Stop ends the server (SIGTERM, then SIGKILL after 10 s); its data stays.
func (s *Server) Stop() {
	if s.cmd == nil || s.cmd.Process == nil {
		return
	}
	select {
	case <-s.exited:
		return
	default:
	}
	s.cmd.Process.Signal(syscall.SIGTERM)
	select {
	case <-s.exited:
	case <-time.After(10 * time.Second):
		s.cmd.Process.Kill()
		<-s.exited
	}
}

// tail returns the end of the server's log.
func (s *Server) tail() string {
	b, err := os.ReadFile(s.logPath)
	if err != nil {
		return err.Error()
	}
	if len(b) > 4096 {
		b = b[len(b)-4096:]
	}
	return string(b)
}
