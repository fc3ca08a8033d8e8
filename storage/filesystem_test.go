package storage

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
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
// restart, sees the blobs and the staged parts of the one before.
func TestFilesystemReopen(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	first := newFilesystem(t, dir)
	dg := mustPut(t, first, []byte("survives"))
	parts := mustStage(t, first, "u1", "half an ")

	second := newFilesystem(t, dir)
	wantBlob(t, second, dg, []byte("survives"))
	p, err := second.WritePart(context.Background(), "u1", 8, strings.NewReader("upload"))
	if err != nil || p.Size != 6 {
		t.Fatalf("WritePart after reopen = %+v, %v", p, err)
	}
	wantStaged(t, second, "u1", append(parts, p), "half an upload")
}

// TestFilesystemSweep checks that Sweep removes a Put's temporary file once it is
// older than the cutoff, and not before.
func TestFilesystemSweep(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	f := newFilesystem(t, dir)
	tmp := filepath.Join(dir, "uploads", "put-123")
	if err := os.WriteFile(tmp, []byte("crashed put"), 0o600); err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	if n, err := f.Sweep(ctx, time.Now().Add(-time.Hour)); err != nil || n != 0 {
		t.Fatalf("Sweep before = %d, %v; want 0", n, err)
	}
	if n, err := f.Sweep(ctx, time.Now().Add(time.Hour)); err != nil || n != 1 {
		t.Fatalf("Sweep after = %d, %v; want 1", n, err)
	}
	if _, err := os.Stat(tmp); !os.IsNotExist(err) {
		t.Fatalf("temporary file after Sweep: %v", err)
	}
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
		f.WritePart(context.Background(), id, 0, strings.NewReader("x"))
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
