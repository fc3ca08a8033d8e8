package storage

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/opencontainers/go-digest"
)

func newFilesystem(t *testing.T, dir string) *Filesystem {
	t.Helper()
	f, err := NewFilesystem(dir)
	if err != nil {
		t.Fatal(err)
	}
	return f
}

func TestFilesystemDriver(t *testing.T) {
	RunDriverSuite(t, func(t *testing.T) Driver {
		return newFilesystem(t, t.TempDir())
	})
}

func TestFilesystemLayout(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	f := newFilesystem(t, dir)
	dg := mustPut(t, f, []byte("layout"))
	hex := dg.Encoded()
	if _, err := os.Stat(filepath.Join(dir, "blobs", "sha256", hex[:2], hex)); err != nil {
		t.Fatalf("blob not at the documented path: %v", err)
	}

	// An *os.File lets the HTTP server use sendfile.
	rc, err := f.Open(context.Background(), dg, 0)
	if err != nil {
		t.Fatal(err)
	}
	defer rc.Close()
	if _, ok := rc.(*os.File); !ok {
		t.Fatalf("Open returned %T, want *os.File", rc)
	}
}

// TestFilesystemReopen checks that a driver over the same folder, as after a
// restart, sees the blobs and the staged uploads of the one before.
func TestFilesystemReopen(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	first := newFilesystem(t, dir)
	dg := mustPut(t, first, []byte("survives"))
	mustStage(t, first, "u1", "half an ")

	second := newFilesystem(t, dir)
	wantBlob(t, second, dg, []byte("survives"))
	n, err := second.WriteUpload(context.Background(), "u1", 8, strings.NewReader("upload"))
	if err != nil || n != 6 {
		t.Fatalf("WriteUpload after reopen = %d, %v", n, err)
	}
	wantStaged(t, second, "u1", "half an upload")
}

func TestNewFilesystemFails(t *testing.T) {
	t.Parallel()
	file := filepath.Join(t.TempDir(), "a-file")
	if err := os.WriteFile(file, nil, 0o600); err != nil {
		t.Fatal(err)
	}
	if _, err := NewFilesystem(file); err == nil {
		t.Fatal("NewFilesystem over a regular file succeeded")
	}
}

// TestFilesystemInvalidIDStaysInside checks that refused ids create nothing beside
// the driver's folder.
func TestFilesystemInvalidIDStaysInside(t *testing.T) {
	t.Parallel()
	parent := t.TempDir()
	f := newFilesystem(t, filepath.Join(parent, "root"))
	for _, id := range invalidIDs {
		f.CreateUpload(context.Background(), id)
	}
	f.Put(context.Background(), "sha256:../../../escaped", strings.NewReader("x"))
	entries, err := os.ReadDir(parent)
	if err != nil {
		t.Fatal(err)
	}
	if len(entries) != 1 || entries[0].Name() != "root" {
		t.Fatalf("parent folder holds %v, want only root", entries)
	}
}

func TestValidID(t *testing.T) {
	tests := []struct {
		id   string
		want bool
	}{
		{"a", true},
		{"0123456789abcdef0123456789abcdef", true},
		{"A-b_C", true},
		{"-", true},
		{strings.Repeat("z", 64), true},
		{"put-12345", true},
	}
	for _, id := range invalidIDs {
		tests = append(tests, struct {
			id   string
			want bool
		}{id, false})
	}
	for _, tt := range tests {
		if got := ValidID(tt.id); got != tt.want {
			t.Errorf("ValidID(%q) = %v, want %v", tt.id, got, tt.want)
		}
	}
}

func TestDigestOfEmptyUpload(t *testing.T) {
	t.Parallel()
	f := newFilesystem(t, t.TempDir())
	mustStage(t, f, "empty")
	dg := digest.FromBytes(nil)
	if err := f.CommitUpload(context.Background(), "empty", dg, 0); err != nil {
		t.Fatal(err)
	}
	wantBlob(t, f, dg, nil)
}
