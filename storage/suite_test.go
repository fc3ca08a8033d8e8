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
		{"put-large", testPutLarge},
		{"put-read-error", testPutReadError},
		{"part-write-read", testPartWriteRead},
		{"parts-at-one-offset", testPartsAtOneOffset},
		{"part-read-error", testPartReadError},
		{"parts-missing", testPartsMissing},
		{"parts-not-contiguous", testPartsNotContiguous},
		{"upload-commit", testUploadCommit},
		{"upload-commit-empty", testUploadCommitEmpty},
		{"upload-commit-existing", testUploadCommitExisting},
		{"upload-commit-large-parts", testUploadCommitLargeParts},
		{"upload-commit-small-parts", testUploadCommitSmallParts},
		{"upload-commit-atomic", testUploadCommitAtomic},
		{"upload-abort", testUploadAbort},
		{"list-uploads", testListUploads},
		{"sweep", testSweep},
		{"invalid-upload-ids", testInvalidUploadIDs},
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

// readStaged reads the bytes of parts of upload id.
func readStaged(t *testing.T, d Driver, id string, parts []Part) []byte {
	t.Helper()
	rc, err := d.ReadUpload(context.Background(), id, parts)
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

// mustStage writes chunks as consecutive parts of upload id.
func mustStage(t *testing.T, d Driver, id string, chunks ...string) []Part {
	t.Helper()
	var parts []Part
	var off int64
	for _, c := range chunks {
		p, err := d.WritePart(context.Background(), id, off, strings.NewReader(c))
		if err != nil || p.Size != int64(len(c)) || p.Offset != off {
			t.Fatalf("WritePart(%q, %d) = %+v, %v; want %d bytes", id, off, p, err, len(c))
		}
		parts = append(parts, p)
		off += p.Size
	}
	return parts
}

func wantStaged(t *testing.T, d Driver, id string, parts []Part, want string) {
	t.Helper()
	got := readStaged(t, d, id, parts)
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
		parts := mustStage(t, d, "commit-invalid", "x")
		if err := d.CommitUpload(ctx, "commit-invalid", parts, dg); err == nil {
			t.Errorf("CommitUpload(%q) accepted an invalid digest", dg)
		}
		if err := d.AbortUpload(ctx, "commit-invalid"); err != nil {
			t.Fatal(err)
		}
	}
}

// testPutLarge puts more than one S3 part, so that Put goes through a multipart
// upload that is completed only once verified.
func testPutLarge(t *testing.T, d Driver) {
	content := patterned(11 << 20)
	dg := mustPut(t, d, content)
	wantBlob(t, d, dg, content)
	err := d.Put(context.Background(), digest.FromString("other"), bytes.NewReader(content))
	if !errors.Is(err, ErrDigestMismatch) {
		t.Fatalf("large Put with wrong digest: %v, want ErrDigestMismatch", err)
	}
	wantNoBlob(t, d, digest.FromString("other"))
}

// patterned returns n bytes that differ from one part to the next.
func patterned(n int) []byte {
	b := make([]byte, n)
	for i := range b {
		b[i] = byte(i*7 + i>>20)
	}
	return b
}

// failingReader returns n bytes, then an error.
type failingReader struct{ n int }

var errClientGone = errors.New("client went away")

func (f *failingReader) Read(p []byte) (int, error) {
	if f.n == 0 {
		return 0, errClientGone
	}
	k := min(len(p), f.n)
	f.n -= k
	return k, nil
}

func testPutReadError(t *testing.T, d Driver) {
	dg := digest.FromString("never complete")
	for _, n := range []int{10, 12 << 20} {
		err := d.Put(context.Background(), dg, &failingReader{n: n})
		if !errors.Is(err, errClientGone) {
			t.Errorf("Put failing after %d bytes: %v, want the reader's error", n, err)
		}
	}
	wantNoBlob(t, d, dg)
}

func testPartWriteRead(t *testing.T, d Driver) {
	parts := mustStage(t, d, "u1", "hello ", "world")
	wantStaged(t, d, "u1", parts, "hello world")
	wantStaged(t, d, "u1", parts[:1], "hello ")
	wantStaged(t, d, "u1", nil, "")
}

// testPartsAtOneOffset: two writers at one offset get parts of their own; deleting
// the loser's leaves the winner's intact.
func testPartsAtOneOffset(t *testing.T, d Driver) {
	ctx := context.Background()
	a := mustStage(t, d, "u1", "winner")
	b, err := d.WritePart(ctx, "u1", 0, strings.NewReader("loser!"))
	if err != nil {
		t.Fatal(err)
	}
	if a[0].Name == b.Name {
		t.Fatalf("two writes at offset 0 share the part name %q", b.Name)
	}
	if err := d.DeletePart(ctx, "u1", b); err != nil {
		t.Fatal(err)
	}
	if err := d.DeletePart(ctx, "u1", b); err != nil {
		t.Fatalf("second DeletePart: %v, want nil", err)
	}
	wantStaged(t, d, "u1", a, "winner")
	if _, err := d.ReadUpload(ctx, "u1", []Part{b}); !errors.Is(err, ErrUploadNotFound) {
		t.Fatalf("ReadUpload of a deleted part: %v, want ErrUploadNotFound", err)
	}
}

func testPartReadError(t *testing.T, d Driver) {
	ctx := context.Background()
	for _, n := range []int{10, 12 << 20} {
		_, err := d.WritePart(ctx, "u1", 0, &failingReader{n: n})
		if !errors.Is(err, errClientGone) {
			t.Errorf("WritePart failing after %d bytes: %v, want the reader's error", n, err)
		}
	}
	parts := mustStage(t, d, "u1", "after")
	wantStaged(t, d, "u1", parts, "after")
}

func testPartsMissing(t *testing.T, d Driver) {
	ctx := context.Background()
	ghost := []Part{{Name: "00000000000000000000-0123456789abcdef", Size: 1}}
	if _, err := d.ReadUpload(ctx, "nope", ghost); !errors.Is(err, ErrUploadNotFound) {
		t.Errorf("ReadUpload missing: %v, want ErrUploadNotFound", err)
	}
	err := d.CommitUpload(ctx, "nope", ghost, digest.FromString("x"))
	if !errors.Is(err, ErrUploadNotFound) {
		t.Errorf("CommitUpload missing: %v, want ErrUploadNotFound", err)
	}
	if err := d.AbortUpload(ctx, "nope"); err != nil {
		t.Errorf("AbortUpload missing: %v, want nil", err)
	}
	wantNoBlob(t, d, digest.FromString("x"))
}

func testPartsNotContiguous(t *testing.T, d Driver) {
	ctx := context.Background()
	parts := mustStage(t, d, "u1", "abc", "def")
	wrongSize := []Part{parts[0], parts[1]}
	wrongSize[0].Size = 2
	gap := []Part{parts[1]}
	dg := digest.FromString("abcdef")
	for _, ps := range [][]Part{wrongSize, gap} {
		if err := d.CommitUpload(ctx, "u1", ps, dg); !errors.Is(err, ErrUploadOffset) {
			t.Errorf("CommitUpload(%+v): %v, want ErrUploadOffset", ps, err)
		}
	}
	wantNoBlob(t, d, dg)
	wantStaged(t, d, "u1", parts, "abcdef")
}

func testUploadCommit(t *testing.T, d Driver) {
	ctx := context.Background()
	parts := mustStage(t, d, "u1", "chunk one|", "chunk two")
	dg := digest.FromString("chunk one|chunk two")
	wantNoBlob(t, d, dg)
	if err := d.CommitUpload(ctx, "u1", parts, dg); err != nil {
		t.Fatal(err)
	}
	wantBlob(t, d, dg, []byte("chunk one|chunk two"))
	if _, err := d.ReadUpload(ctx, "u1", parts); !errors.Is(err, ErrUploadNotFound) {
		t.Fatalf("ReadUpload after commit: %v, want ErrUploadNotFound", err)
	}
	if ids := uploadIDs(t, d); slices.Contains(ids, "u1") {
		t.Fatalf("committed upload still listed: %v", ids)
	}
}

func testUploadCommitEmpty(t *testing.T, d Driver) {
	dg := digest.FromBytes(nil)
	if err := d.CommitUpload(context.Background(), "empty", nil, dg); err != nil {
		t.Fatal(err)
	}
	wantBlob(t, d, dg, nil)
}

func testUploadCommitExisting(t *testing.T, d Driver) {
	ctx := context.Background()
	content := []byte("already here")
	dg := mustPut(t, d, content)
	parts := mustStage(t, d, "u1", string(content))
	if err := d.CommitUpload(ctx, "u1", parts, dg); err != nil {
		t.Fatalf("commit over an existing blob: %v", err)
	}
	wantBlob(t, d, dg, content)
	if ids := uploadIDs(t, d); slices.Contains(ids, "u1") {
		t.Fatalf("committed upload still listed: %v", ids)
	}
}

// commitChunks stages content in chunks of the given sizes (the last takes the
// rest), commits it and reads it back whole and from an offset.
func commitChunks(t *testing.T, d Driver, content []byte, sizes ...int) {
	t.Helper()
	var chunks []string
	for off := 0; off < len(content); {
		end := len(content)
		if len(chunks) < len(sizes) {
			end = min(off+sizes[len(chunks)], len(content))
		}
		chunks = append(chunks, string(content[off:end]))
		off = end
	}
	parts := mustStage(t, d, "big", chunks...)
	dg := digest.FromBytes(content)
	if err := d.CommitUpload(context.Background(), "big", parts, dg); err != nil {
		t.Fatal(err)
	}
	wantBlob(t, d, dg, content)
	off := len(content) / 3
	if got := readBlob(t, d, dg, int64(off)); !bytes.Equal(got, content[off:]) {
		t.Fatalf("Open at %d returned other bytes", off)
	}
}

// testUploadCommitLargeParts commits parts S3 can compose (5 MiB and more).
func testUploadCommitLargeParts(t *testing.T, d Driver) {
	commitChunks(t, d, patterned(13<<20), 6<<20, 6<<20)
}

// testUploadCommitSmallParts commits uneven parts below S3's 5 MiB minimum.
func testUploadCommitSmallParts(t *testing.T, d Driver) {
	commitChunks(t, d, patterned(3<<20+17), 1_300_001, 7, 1_300_001)
}

// testUploadCommitAtomic watches the blob while it is committed: a reader sees no
// blob or the whole blob, never a part.
func testUploadCommitAtomic(t *testing.T, d Driver) {
	ctx := context.Background()
	content := bytes.Repeat([]byte("atomic!"), 300_000)
	parts := mustStage(t, d, "u1", string(content[:1<<20]), string(content[1<<20:]))
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
	err := d.CommitUpload(ctx, "u1", parts, dg)
	close(done)
	wg.Wait()
	if err != nil {
		t.Fatal(err)
	}
	wantBlob(t, d, dg, content)
}

func testUploadAbort(t *testing.T, d Driver) {
	ctx := context.Background()
	gone := mustStage(t, d, "u1", "discard me")
	kept := mustStage(t, d, "u2", "keep me")
	if err := d.AbortUpload(ctx, "u1"); err != nil {
		t.Fatal(err)
	}
	if _, err := d.ReadUpload(ctx, "u1", gone); !errors.Is(err, ErrUploadNotFound) {
		t.Fatalf("ReadUpload after abort: %v, want ErrUploadNotFound", err)
	}
	if err := d.AbortUpload(ctx, "u1"); err != nil {
		t.Fatalf("second abort: %v", err)
	}
	if ids := uploadIDs(t, d); !slices.Equal(ids, []string{"u2"}) {
		t.Fatalf("uploads after abort = %v, want [u2]", ids)
	}
	wantStaged(t, d, "u2", kept, "keep me")
}

func testListUploads(t *testing.T, d Driver) {
	if ids := uploadIDs(t, d); len(ids) != 0 {
		t.Fatalf("new driver lists uploads %v", ids)
	}
	before := time.Now().Add(-time.Minute)
	want := map[string]int64{"b-1": 3, "C_2": 11}
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

// testSweep: a sweep keeps uploads and blobs, and only touches debris older than
// its cutoff.
func testSweep(t *testing.T, d Driver) {
	ctx := context.Background()
	parts := mustStage(t, d, "u1", "staged")
	dg := mustPut(t, d, []byte("blob"))
	for _, cutoff := range []time.Time{time.Now().Add(-time.Hour), time.Now().Add(time.Hour)} {
		if _, err := d.Sweep(ctx, cutoff); err != nil {
			t.Fatal(err)
		}
	}
	wantStaged(t, d, "u1", parts, "staged")
	wantBlob(t, d, dg, []byte("blob"))
}

func testInvalidUploadIDs(t *testing.T, d Driver) {
	ctx := context.Background()
	dg := digest.FromString("")
	good := []Part{{Name: "00000000000000000000-0123456789abcdef"}}
	for _, id := range invalidIDs {
		if _, err := d.WritePart(ctx, id, 0, strings.NewReader("x")); !errors.Is(err, ErrInvalidID) {
			t.Errorf("WritePart(%q): %v, want ErrInvalidID", id, err)
		}
		if _, err := d.ReadUpload(ctx, id, good); !errors.Is(err, ErrInvalidID) {
			t.Errorf("ReadUpload(%q): %v, want ErrInvalidID", id, err)
		}
		if err := d.CommitUpload(ctx, id, good, dg); !errors.Is(err, ErrInvalidID) {
			t.Errorf("CommitUpload(%q): %v, want ErrInvalidID", id, err)
		}
		if err := d.AbortUpload(ctx, id); !errors.Is(err, ErrInvalidID) {
			t.Errorf("AbortUpload(%q): %v, want ErrInvalidID", id, err)
		}
		bad := []Part{{Name: id}}
		if _, err := d.ReadUpload(ctx, "u1", bad); !errors.Is(err, ErrInvalidID) {
			t.Errorf("ReadUpload with part %q: %v, want ErrInvalidID", id, err)
		}
		if err := d.DeletePart(ctx, "u1", bad[0]); !errors.Is(err, ErrInvalidID) {
			t.Errorf("DeletePart(%q): %v, want ErrInvalidID", id, err)
		}
	}
	if ids := uploadIDs(t, d); len(ids) != 0 {
		t.Fatalf("invalid ids left uploads %v", ids)
	}
	wantNoBlob(t, d, dg)
}

// invalidIDs are upload ids and part names every driver refuses.
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
