package e2e

import (
	"fmt"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strings"
	"syscall"
	"testing"
	"time"
)

// containerdConfig runs containerd beside any system one: its own root, state,
// sockets and opt directory, and no CRI plugin.
const containerdConfig = `version = 2
root = %[1]q
state = %[2]q
disabled_plugins = ["io.containerd.grpc.v1.cri"]

[grpc]
  address = %[3]q

[ttrpc]
  address = "%[3]s.ttrpc"

[plugins."io.containerd.internal.v1.opt"]
  path = %[4]q
`

// ctrNamespace keeps the test's images apart from anything else in containerd.
const ctrNamespace = "berth-e2e"

// TestContainerdPull pulls an image pushed with crane through containerd's ctr
// and checks that containerd stored the manifest and layer berth served.
func TestContainerdPull(t *testing.T) {
	if os.Geteuid() != 0 {
		t.Skip("containerd needs root")
	}
	crane := tool(t, "crane")
	containerd := debianTool(t, "containerd", "containerd")
	ctr := debianTool(t, "ctr", "containerd")
	t.Parallel()
	s := startServer(t)
	work := t.TempDir()

	// the config names this machine's platform, so ctr's platform match picks it
	img := newImage(t, platform{OS: "linux", Architecture: runtime.GOARCH})
	l := newLayout(t, filepath.Join(work, "image"))
	l.addImage(img)
	l.tag(img.desc, "v1")
	ref := s.ref("ctr/image:v1")
	out := run(t, work, crane, "--insecure", "push", "image", ref)
	if got := digestOf(t, out); got != img.desc.Digest {
		t.Fatalf("crane push reported %s, want %s", got, img.desc.Digest)
	}

	sock := startContainerd(t, containerd, ctr, work)
	ctrArgs := []string{"-a", sock, "-n", ctrNamespace}
	run(t, work, ctr, append(ctrArgs, "images", "pull", "--plain-http",
		"--user", adminUser+":"+adminPassword,
		"--snapshotter", "native", ref)...)

	if got := ctrImageDigest(t, work, ctr, ctrArgs, ref); got != img.desc.Digest {
		t.Errorf("ctr images ls: %s has digest %q, want %s", ref, got, img.desc.Digest)
	}
	layer := run(t, work, ctr, append(ctrArgs, "content", "get", img.layerDesc.Digest)...)
	if layer != string(img.layer) {
		t.Errorf("containerd holds a layer of %d bytes that differs from the %d pushed",
			len(layer), len(img.layer))
	}
	testContainerdIndex(t, s, work, ctr, ctrArgs)
}

// testContainerdIndex pulls a two-platform index; containerd must pick this
// machine's platform from it and record the index digest.
func testContainerdIndex(t *testing.T, s *server, work, ctr string, ctrArgs []string) {
	other := "arm64"
	if runtime.GOARCH == "arm64" {
		other = "amd64"
	}
	native := newImage(t, platform{OS: "linux", Architecture: runtime.GOARCH})
	foreign := newImage(t, platform{OS: "linux", Architecture: other})
	index := mustJSON(t, manifest{SchemaVersion: 2, MediaType: mtIndex,
		Manifests: []descriptor{native.desc, foreign.desc}})
	for i, img := range []image{native, foreign} {
		s.pushImage(t, "ctr/multi", fmt.Sprintf("platform%d", i), img)
	}
	if r := s.pushManifest(t, "ctr/multi", "v1", mtIndex, index); r.status != http.StatusCreated {
		t.Fatalf("PUT index: %v, want 201", r)
	}

	ref := s.ref("ctr/multi:v1")
	run(t, work, ctr, append(ctrArgs, "images", "pull", "--plain-http",
		"--user", adminUser+":"+adminPassword,
		"--snapshotter", "native", ref)...)
	if got := ctrImageDigest(t, work, ctr, ctrArgs, ref); got != sha256Digest(index) {
		t.Errorf("ctr images ls: %s has digest %q, want the index %s", ref, got, sha256Digest(index))
	}
	layer := run(t, work, ctr, append(ctrArgs, "content", "get", native.layerDesc.Digest)...)
	if layer != string(native.layer) {
		t.Errorf("containerd did not fetch the %s layer intact", runtime.GOARCH)
	}
}

// ctrImageDigest returns the digest `ctr images ls` shows for ref.
func ctrImageDigest(t *testing.T, dir, ctr string, ctrArgs []string, ref string) string {
	t.Helper()
	out := run(t, dir, ctr, append(ctrArgs, "images", "ls")...)
	for _, line := range strings.Split(out, "\n") {
		// REF TYPE DIGEST SIZE PLATFORMS LABELS
		fields := strings.Fields(line)
		if len(fields) >= 3 && fields[0] == ref {
			return fields[2]
		}
	}
	t.Fatalf("ctr images ls does not list %s:\n%s", ref, out)
	return ""
}

// startContainerd runs a private containerd under dir, waits until ctr can
// reach it, and stops it when the test ends. It returns the socket address.
func startContainerd(t *testing.T, containerd, ctr, dir string) string {
	t.Helper()
	base := filepath.Join(dir, "containerd")
	sock := filepath.Join(base, "c.sock")
	conf := filepath.Join(base, "config.toml")
	if err := os.MkdirAll(base, 0o755); err != nil {
		t.Fatal(err)
	}
	text := fmt.Sprintf(containerdConfig, filepath.Join(base, "root"),
		filepath.Join(base, "state"), sock, filepath.Join(base, "opt"))
	writeFile(t, conf, []byte(text))

	logPath := filepath.Join(base, "containerd.log")
	log, err := os.Create(logPath)
	if err != nil {
		t.Fatal(err)
	}
	defer log.Close()
	cmd := exec.Command(containerd, "--config", conf)
	cmd.Stdout, cmd.Stderr = log, log
	if err := cmd.Start(); err != nil {
		t.Fatalf("starting containerd: %v", err)
	}
	exited := make(chan struct{})
	go func() {
		cmd.Wait()
		close(exited)
	}()
	t.Cleanup(func() {
		stopProcess(cmd, exited)
		if t.Failed() {
			t.Logf("containerd log:\n%s", truncate(string(readFile(t, logPath)), logTail))
		}
	})
	waitContainerd(t, ctr, sock, exited, logPath)
	return sock
}

// waitContainerd polls `ctr version` until containerd answers on sock.
func waitContainerd(t *testing.T, ctr, sock string, exited <-chan struct{}, logPath string) {
	t.Helper()
	deadline := time.Now().Add(time.Minute)
	for time.Now().Before(deadline) {
		if isClosed(exited) {
			t.Fatalf("containerd exited at start:\n%s", readFile(t, logPath))
		}
		if exec.Command(ctr, "-a", sock, "version").Run() == nil {
			return
		}
		time.Sleep(200 * time.Millisecond)
	}
	t.Fatalf("containerd did not answer on %s within a minute:\n%s", sock, readFile(t, logPath))
}

// stopProcess sends SIGTERM, then SIGKILL if the process lingers.
func stopProcess(cmd *exec.Cmd, exited <-chan struct{}) {
	cmd.Process.Signal(syscall.SIGTERM)
	select {
	case <-exited:
	case <-time.After(stopTimeout):
		cmd.Process.Kill()
		<-exited
	}
}
