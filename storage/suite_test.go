package storage

import (
	"bytes"
	"context"
	"errors"
	"io"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/opencontainers/go-digest"
)

// RunDriverSuite checks the Driver contract. Every driver runs it; newDriver returns
// a fresh, empty driver for each subtest, which may run in parallel.
func RunDriverSuite(t *testing.T, newDriver func(t *testing.T) Driver) {
	t.Helper()
	tests := []struct {
		name string
		fn   func(t *testing.T, d Driver)
	}{
		{"put-stat-open", testPutStatOpen},
		{"put-digest-mismatch", testPutDigestMismatch},
		{"put-existing", testPutExisting},
		{"missing-blob", testMissingBlob},
		{"delete", testDelete},
		{"invalid-digests", testInvalidDigests},
		{"upload-write-read", testUploadWriteRead},
		{"upload-rewrite-truncates", testUploadRewriteTruncates},
		{"upload-write-past-end", testUploadWritePastEnd},
		{"upload-missing", testUploadMissing},
		{"upload-commit", testUploadCommit},
		{"upload-commit-prefix", testUploadCommitPrefix},
		{"upload-commit-beyond-staged", testUploadCommitBeyondStaged},
		{"upload-commit-existing", testUploadCommitExisting},
		{"upload-commit-large", testUploadCommitLarge},
		{"upload-commit-atomic", testUploadCommitAtomic},
		{"upload-abort", testUploadAbort},
		{"list-uploads", testListUploads},
		{"invalid-upload-ids", testInvalidUploadIDs},
		{"upload-lock", testUploadLock},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			tt.fn(t, newDriver(t))
		})
	}
}

// readBlob reads blob dg from off on.
func readBlob(t *testing.T, d Driver, dg digest.Digest, off int64) []byte {
	t.Helper()
	rc, err := d.Open(context.Background(), dg, off)
	return drain(t, rc, err)
}

// readStaged reads the staged bytes of upload id.
func readStaged(t *testing.T, d Driver, id string) []byte {
	t.Helper()
	rc, err := d.ReadUpload(context.Background(), id)
	return drain(t, rc, err)
}

// drain reads rc to the end and closes it.
func drain(t *testing.T, rc io.ReadCloser, err error) []byte {
	t.Helper()
	if err != nil {
		t.Fatal(err)
	}
	defer rc.Close()
	b, err := io.ReadAll(rc)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func mustPut(t *testing.T, d Driver, content []byte) digest.Digest {
	t.Helper()
	dg := digest.FromBytes(content)
	if err := d.Put(context.Background(), dg, bytes.NewReader(content)); err != nil {
		t.Fatalf("Put(%s): %v", dg, err)
	}
	return dg
}

func mustStage(t *testing.T, d Driver, id string, chunks ...string) {
	t.Helper()
	ctx := context.Background()
	if err := d.CreateUpload(ctx, id); err != nil {
		t.Fatalf("CreateUpload(%q): %v", id, err)
	}
	var off int64
	for _, c := range chunks {
		n, err := d.WriteUpload(ctx, id, off, strings.NewReader(c))
		if err != nil || n != int64(len(c)) {
			t.Fatalf("WriteUpload(%q, %d) = %d, %v; want %d", id, off, n, err, len(c))
		}
		off += n
	}
}

func wantStaged(t *testing.T, d Driver, id, want string) {
	t.Helper()
	got := readStaged(t, d, id)
	if string(got) != want {
		t.Fatalf("staged bytes of %q = %q, want %q", id, got, want)
	}
}

func wantBlob(t *testing.T, d Driver, dg digest.Digest, want []byte) {
	t.Helper()
	size, err := d.Stat(context.Background(), dg)
	if err != nil || size != int64(len(want)) {
		t.Fatalf("Stat(%s) = %d, %v; want %d", dg, size, err, len(want))
	}
	got := readBlob(t, d, dg, 0)
	if !bytes.Equal(got, want) {
		t.Fatalf("Open(%s) read %d bytes, want %d (content differs)", dg, len(got), len(want))
	}
}

func wantNoBlob(t *testing.T, d Driver, dg digest.Digest) {
	t.Helper()
	if _, err := d.Stat(context.Background(), dg); !errors.Is(err, ErrNotFound) {
		t.Fatalf("Stat(%s) err = %v, want ErrNotFound", dg, err)
	}
}

func uploadIDs(t *testing.T, d Driver) []string {
	t.Helper()
	list, err := d.ListUploads(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	ids := make([]string, len(list))
	for i, u := range list {
		ids[i] = u.ID
	}
	return ids
}

func testPutStatOpen(t *testing.T, d Driver) {
	content := []byte("0123456789abcdef")
	dg := mustPut(t, d, content)
	wantBlob(t, d, dg, content)
	for _, off := range []int64{1, 7, int64(len(content))} {
		got := readBlob(t, d, dg, off)
		if !bytes.Equal(got, content[off:]) {
			t.Errorf("Open at %d = %q, want %q", off, got, content[off:])
		}
	}
}

func testPutDigestMismatch(t *testing.T, d Driver) {
	ctx := context.Background()
	claimed := digest.FromString("what the client promised")
	err := d.Put(ctx, claimed, strings.NewReader("what it sent"))
	if !errors.Is(err, ErrDigestMismatch) {
		t.Fatalf("Put with wrong digest: %v, want ErrDigestMismatch", err)
	}
	wantNoBlob(t, d, claimed)
	wantNoBlob(t, d, digest.FromString("what it sent"))
	if ids := uploadIDs(t, d); len(ids) != 0 {
		t.Fatalf("failed Put left staged data: %v", ids)
	}
}

func testPutExisting(t *testing.T, d Driver) {
	content := []byte("same bytes twice")
	dg := mustPut(t, d, content)
	mustPut(t, d, content)
	wantBlob(t, d, dg, content)
}

func testMissingBlob(t *testing.T, d Driver) {
	ctx := context.Background()
	dg := digest.FromString("never stored")
	wantNoBlob(t, d, dg)
	if _, err := d.Open(ctx, dg, 0); !errors.Is(err, ErrNotFound) {
		t.Fatalf("Open missing: %v, want ErrNotFound", err)
	}
	if err := d.Delete(ctx, dg); err != nil {
		t.Fatalf("Delete missing: %v, want nil", err)
	}
}

func testDelete(t *testing.T, d Driver) {
	keep := mustPut(t, d, []byte("keep"))
	gone := mustPut(t, d, []byte("gone"))
	if err := d.Delete(context.Background(), gone); err != nil {
		t.Fatal(err)
	}
	wantNoBlob(t, d, gone)
	wantBlob(t, d, keep, []byte("keep"))
}

func testInvalidDigests(t *testing.T, d Driver) {
	ctx := context.Background()
	hex := digest.FromString("x").Encoded()
	bad := []digest.Digest{
		"",
		"sha256",
		"sha256:",
		"sha256:abc",
		"sha256:" + digest.Digest(strings.ToUpper(hex)),
		"sha256:../../../../etc/passwd",
		"sha256:" + digest.Digest(hex[:62]) + "/.",
		"md5:d41d8cd98f00b204e9800998ecf8427e",
		":" + digest.Digest(hex),
	}
	for _, dg := range bad {
		if _, err := d.Stat(ctx, dg); err == nil {
			t.Errorf("Stat(%q) accepted an invalid digest", dg)
		}
		if rc, err := d.Open(ctx, dg, 0); err == nil {
			rc.Close()
			t.Errorf("Open(%q) accepted an invalid digest", dg)
		}
		if err := d.Put(ctx, dg, strings.NewReader("x")); err == nil {
			t.Errorf("Put(%q) accepted an invalid digest", dg)
		}
		if err := d.Delete(ctx, dg); err == nil {
			t.Errorf("Delete(%q) accepted an invalid digest", dg)
		}
		mustStage(t, d, "commit-invalid", "x")
		if err := d.CommitUpload(ctx, "commit-invalid", dg, 1); err == nil {
			t.Errorf("CommitUpload(%q) accepted an invalid digest", dg)
		}
		if err := d.AbortUpload(ctx, "commit-invalid"); err != nil {
			t.Fatal(err)
		}
	}
}

func testUploadWriteRead(t *testing.T, d Driver) {
	mustStage(t, d, "u1", "hello ", "world")
	wantStaged(t, d, "u1", "hello world")
	mustStage(t, d, "empty")
	wantStaged(t, d, "empty", "")
}

func testUploadRewriteTruncates(t *testing.T, d Driver) {
	ctx := context.Background()
	mustStage(t, d, "u1", "abcdef")
	n, err := d.WriteUpload(ctx, "u1", 2, strings.NewReader("XY"))
	if err != nil || n != 2 {
		t.Fatalf("rewrite at 2 = %d, %v", n, err)
	}
	wantStaged(t, d, "u1", "abXY")
	if _, err := d.WriteUpload(ctx, "u1", 0, strings.NewReader("")); err != nil {
		t.Fatal(err)
	}
	wantStaged(t, d, "u1", "")
}

func testUploadWritePastEnd(t *testing.T, d Driver) {
	mustStage(t, d, "u1", "abc")
	_, err := d.WriteUpload(context.Background(), "u1", 4, strings.NewReader("zz"))
	if !errors.Is(err, ErrUploadOffset) {
		t.Fatalf("write at 4 of 3 staged bytes: %v, want ErrUploadOffset", err)
	}
	wantStaged(t, d, "u1", "abc")
}

func testUploadMissing(t *testing.T, d Driver) {
	ctx := context.Background()
	_, err := d.WriteUpload(ctx, "nope", 0, strings.NewReader("x"))
	if !errors.Is(err, ErrUploadNotFound) {
		t.Errorf("WriteUpload missing: %v, want ErrUploadNotFound", err)
	}
	if _, err := d.ReadUpload(ctx, "nope"); !errors.Is(err, ErrUploadNotFound) {
		t.Errorf("ReadUpload missing: %v, want ErrUploadNotFound", err)
	}
	err = d.CommitUpload(ctx, "nope", digest.FromString(""), 0)
	if !errors.Is(err, ErrUploadNotFound) {
		t.Errorf("CommitUpload missing: %v, want ErrUploadNotFound", err)
	}
	if err := d.AbortUpload(ctx, "nope"); err != nil {
		t.Errorf("AbortUpload missing: %v, want nil", err)
	}
}

func testUploadCommit(t *testing.T, d Driver) {
	ctx := context.Background()
	mustStage(t, d, "u1", "chunk one|", "chunk two")
	dg := digest.FromString("chunk one|chunk two")
	wantNoBlob(t, d, dg)
	if err := d.CommitUpload(ctx, "u1", dg, 19); err != nil {
		t.Fatal(err)
	}
	wantBlob(t, d, dg, []byte("chunk one|chunk two"))
	if _, err := d.ReadUpload(ctx, "u1"); !errors.Is(err, ErrUploadNotFound) {
		t.Fatalf("ReadUpload after commit: %v, want ErrUploadNotFound", err)
	}
	if ids := uploadIDs(t, d); slices.Contains(ids, "u1") {
		t.Fatalf("committed upload still listed: %v", ids)
	}
}

func testUploadCommitPrefix(t *testing.T, d Driver) {
	mustStage(t, d, "u1", "hello", " trailing bytes of a failed chunk")
	dg := digest.FromString("hello")
	if err := d.CommitUpload(context.Background(), "u1", dg, 5); err != nil {
		t.Fatal(err)
	}
	wantBlob(t, d, dg, []byte("hello"))
}

func testUploadCommitBeyondStaged(t *testing.T, d Driver) {
	mustStage(t, d, "u1", "abc")
	dg := digest.FromString("abcd")
	if err := d.CommitUpload(context.Background(), "u1", dg, 4); err == nil {
		t.Fatal("CommitUpload of 4 bytes with 3 staged succeeded")
	}
	wantNoBlob(t, d, dg)
}

func testUploadCommitExisting(t *testing.T, d Driver) {
	ctx := context.Background()
	content := []byte("already here")
	dg := mustPut(t, d, content)
	mustStage(t, d, "u1", string(content))
	if err := d.CommitUpload(ctx, "u1", dg, int64(len(content))); err != nil {
		t.Fatalf("commit over an existing blob: %v", err)
	}
	wantBlob(t, d, dg, content)
	if _, err := d.ReadUpload(ctx, "u1"); !errors.Is(err, ErrUploadNotFound) {
		t.Fatalf("ReadUpload after commit: %v, want ErrUploadNotFound", err)
	}
}

// testUploadCommitLarge stages more than any copy buffer, in uneven chunks.
func testUploadCommitLarge(t *testing.T, d Driver) {
	ctx := context.Background()
	content := bytes.Repeat([]byte("0123456789abcdefghijklmnopqrstu"), 100_000) // ~3 MiB
	if err := d.CreateUpload(ctx, "big"); err != nil {
		t.Fatal(err)
	}
	for off := 0; off < len(content); {
		end := min(off+1_300_001, len(content))
		n, err := d.WriteUpload(ctx, "big", int64(off), bytes.NewReader(content[off:end]))
		if err != nil || n != int64(end-off) {
			t.Fatalf("WriteUpload at %d = %d, %v", off, n, err)
		}
		off = end
	}
	dg := digest.FromBytes(content)
	if err := d.CommitUpload(ctx, "big", dg, int64(len(content))); err != nil {
		t.Fatal(err)
	}
	wantBlob(t, d, dg, content)
	got := readBlob(t, d, dg, 2_000_000)
	if !bytes.Equal(got, content[2_000_000:]) {
		t.Fatal("Open at 2000000 returned other bytes")
	}
}

// testUploadCommitAtomic watches the blob while it is committed: a reader sees no
// blob or the whole blob, never a part.
func testUploadCommitAtomic(t *testing.T, d Driver) {
	ctx := context.Background()
	content := bytes.Repeat([]byte("atomic!"), 300_000)
	mustStage(t, d, "u1", string(content))
	dg := digest.FromBytes(content)
	done := make(chan struct{})
	var wg sync.WaitGroup
	for range 2 {
		wg.Go(func() {
			for {
				select {
				case <-done:
					return
				default:
				}
				size, err := d.Stat(ctx, dg)
				if errors.Is(err, ErrNotFound) {
					continue
				}
				if err != nil || size != int64(len(content)) {
					t.Errorf("during commit Stat = %d, %v; want ErrNotFound or %d",
						size, err, len(content))
					return
				}
			}
		})
	}
	err := d.CommitUpload(ctx, "u1", dg, int64(len(content)))
	close(done)
	wg.Wait()
	if err != nil {
		t.Fatal(err)
	}
	wantBlob(t, d, dg, content)
}

func testUploadAbort(t *testing.T, d Driver) {
	ctx := context.Background()
	mustStage(t, d, "u1", "discard me")
	mustStage(t, d, "u2", "keep me")
	if err := d.AbortUpload(ctx, "u1"); err != nil {
		t.Fatal(err)
	}
	if _, err := d.ReadUpload(ctx, "u1"); !errors.Is(err, ErrUploadNotFound) {
		t.Fatalf("ReadUpload after abort: %v, want ErrUploadNotFound", err)
	}
	if err := d.AbortUpload(ctx, "u1"); err != nil {
		t.Fatalf("second abort: %v", err)
	}
	if ids := uploadIDs(t, d); !slices.Equal(ids, []string{"u2"}) {
		t.Fatalf("uploads after abort = %v, want [u2]", ids)
	}
	wantStaged(t, d, "u2", "keep me")
}

func testListUploads(t *testing.T, d Driver) {
	if ids := uploadIDs(t, d); len(ids) != 0 {
		t.Fatalf("new driver lists uploads %v", ids)
	}
	before := time.Now().Add(-time.Minute)
	want := map[string]int64{"a": 0, "b-1": 3, "C_2": 11}
	mustStage(t, d, "a")
	mustStage(t, d, "b-1", "abc")
	mustStage(t, d, "C_2", "hello", " world")
	list, err := d.ListUploads(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	got := map[string]int64{}
	for _, u := range list {
		got[u.ID] = u.Size
		if u.Modified.Before(before) || u.Modified.After(time.Now().Add(time.Minute)) {
			t.Errorf("upload %q Modified = %v, want about now", u.ID, u.Modified)
		}
	}
	if len(got) != len(want) {
		t.Fatalf("ListUploads = %v, want %v", got, want)
	}
	for id, size := range want {
		if got[id] != size {
			t.Errorf("upload %q size = %d, want %d", id, got[id], size)
		}
	}
}

func testInvalidUploadIDs(t *testing.T, d Driver) {
	ctx := context.Background()
	dg := digest.FromString("")
	for _, id := range invalidIDs {
		if err := d.CreateUpload(ctx, id); !errors.Is(err, ErrInvalidID) {
			t.Errorf("CreateUpload(%q): %v, want ErrInvalidID", id, err)
		}
		if _, err := d.WriteUpload(ctx, id, 0, strings.NewReader("x")); !errors.Is(err, ErrInvalidID) {
			t.Errorf("WriteUpload(%q): %v, want ErrInvalidID", id, err)
		}
		if _, err := d.ReadUpload(ctx, id); !errors.Is(err, ErrInvalidID) {
			t.Errorf("ReadUpload(%q): %v, want ErrInvalidID", id, err)
		}
		if err := d.CommitUpload(ctx, id, dg, 0); !errors.Is(err, ErrInvalidID) {
			t.Errorf("CommitUpload(%q): %v, want ErrInvalidID", id, err)
		}
		if err := d.AbortUpload(ctx, id); !errors.Is(err, ErrInvalidID) {
			t.Errorf("AbortUpload(%q): %v, want ErrInvalidID", id, err)
		}
	}
	if ids := uploadIDs(t, d); len(ids) != 0 {
		t.Fatalf("invalid ids left uploads %v", ids)
	}
	wantNoBlob(t, d, dg)
}

// invalidIDs are upload ids every driver refuses.
var invalidIDs = []string{
	"",
	".",
	"..",
	"../x",
	"x/../../y",
	"a/b",
	`a\b`,
	"a b",
	"a.b",
	"a\x00b",
	"é",
	"id\n",
	strings.Repeat("a", 65),
}

// testUploadLock: one holder at a time, released by unlock, and gone with the upload.
func testUploadLock(t *testing.T, d Driver) {
	ctx := context.Background()
	mustStage(t, d, "locked", "abc")
	unlock, err := d.LockUpload(ctx, "locked")
	if err != nil {
		t.Fatal(err)
	}
	if _, err := d.LockUpload(ctx, "locked"); !errors.Is(err, ErrUploadBusy) {
		t.Fatalf("second lock: %v, want ErrUploadBusy", err)
	}
	unlock()
	unlock2, err := d.LockUpload(ctx, "locked")
	if err != nil {
		t.Fatalf("lock after unlock: %v", err)
	}
	unlock2()
	if err := d.CommitUpload(ctx, "locked", digest.FromString("abc"), 3); err != nil {
		t.Fatal(err)
	}
	if _, err := d.LockUpload(ctx, "locked"); !errors.Is(err, ErrUploadNotFound) {
		t.Fatalf("lock of a committed upload: %v, want ErrUploadNotFound", err)
	}
}
