package registry

import (
	"context"
	"errors"
	"io"
	"slices"
	"strings"
	"testing"

	"github.com/opencontainers/go-digest"

	"berth.dev/berth/storage"
)

// appendChunks appends each chunk at the offset where the previous one ended.
func appendChunks(t *testing.T, r *Registry, repo string, u *Upload, chunks ...string) *Upload {
	t.Helper()
	for _, c := range chunks {
		next, err := r.AppendUpload(context.Background(), repo, u.ID, u.Offset,
			int64(len(c)), chunk(c))
		if err != nil {
			t.Fatalf("AppendUpload at %d: %v", u.Offset, err)
		}
		if next.Offset != u.Offset+int64(len(c)) {
			t.Fatalf("offset after chunk = %d, want %d", next.Offset, u.Offset+int64(len(c)))
		}
		u = next
	}
	return u
}

func startUpload(t *testing.T, r *Registry, repo string) *Upload {
	t.Helper()
	u, err := r.StartUpload(context.Background(), repo)
	if err != nil {
		t.Fatalf("StartUpload: %v", err)
	}
	if !storage.ValidID(u.ID) || u.Offset != 0 || u.Repository != repo {
		t.Fatalf("StartUpload = %+v", u)
	}
	return u
}

// wantUploadGone checks that upload id has neither a session nor staged bytes.
func wantUploadGone(t *testing.T, r *Registry, repo, id string) {
	t.Helper()
	if _, err := r.GetUpload(context.Background(), repo, id); !errors.Is(err, ErrBlobUploadUnknown) {
		t.Fatalf("GetUpload after the end of the upload: %v, want ErrBlobUploadUnknown", err)
	}
	if ids := stagedIDs(t, r.blobs); slices.Contains(ids, id) {
		t.Fatalf("staged parts after the end of the upload: %v", ids)
	}
}

func wantBlobUnknown(t *testing.T, r *Registry, repo string, d digest.Digest) {
	t.Helper()
	if _, err := r.StatBlob(context.Background(), repo, d); !errors.Is(err, ErrBlobUnknown) {
		t.Fatalf("StatBlob(%s) = %v, want ErrBlobUnknown", d, err)
	}
}

func TestChunkedUpload(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	r := newRegistry(t)
	repo := repoName(t)
	chunks := []string{"first chunk|", "second|", "", "third"}
	content := strings.Join(chunks, "")
	d := digest.FromString(content)

	u := startUpload(t, r, repo)
	u = appendChunks(t, r, repo, u, chunks...)
	got, err := r.GetUpload(ctx, repo, u.ID)
	if err != nil || got.Offset != int64(len(content)) {
		t.Fatalf("GetUpload = %+v, %v", got, err)
	}
	wantBlobUnknown(t, r, repo, d)
	if err := r.CompleteUpload(ctx, repo, u.ID, d, u.Offset, 0, chunk("")); err != nil {
		t.Fatalf("CompleteUpload: %v", err)
	}
	size, err := r.StatBlob(ctx, repo, d)
	if err != nil || size != int64(len(content)) {
		t.Fatalf("StatBlob = %d, %v; want %d", size, err, len(content))
	}
	if b := readBlob(t, r, repo, d, 6); string(b) != content[6:] {
		t.Fatalf("OpenBlob at 6 = %q", b)
	}
	wantUploadGone(t, r, repo, u.ID)
	wantBlobUnknown(t, r, repoName(t, "other"), d)
}

// TestCompleteWithLastChunk sends the last bytes with the PUT that completes, with
// no Content-Range (start -1) and an unknown length (-1).
func TestCompleteWithLastChunk(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	r := newRegistry(t)
	repo := repoName(t)
	u := appendChunks(t, r, repo, startUpload(t, r, repo), "head|")
	d := digest.FromString("head|tail")
	if err := r.CompleteUpload(ctx, repo, u.ID, d, -1, -1, chunk("tail")); err != nil {
		t.Fatal(err)
	}
	if b := readBlob(t, r, repo, d, 0); string(b) != "head|tail" {
		t.Fatalf("blob = %q", b)
	}
}

func TestCompleteWrongDigest(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	r := newRegistry(t)
	repo := repoName(t)
	u := appendChunks(t, r, repo, startUpload(t, r, repo), "actual bytes")
	for _, claimed := range []digest.Digest{
		digest.FromString("claimed bytes"),
		digest.SHA512.FromString("claimed bytes"),
	} {
		t.Run(string(claimed.Algorithm()), func(t *testing.T) {
			u := u
			if claimed.Algorithm() == digest.SHA512 {
				u = appendChunks(t, r, repo, startUpload(t, r, repo), "actual bytes")
			}
			err := r.CompleteUpload(ctx, repo, u.ID, claimed, -1, 0, chunk(""))
			if !errors.Is(err, ErrDigestInvalid) {
				t.Fatalf("CompleteUpload with a wrong digest: %v, want ErrDigestInvalid", err)
			}
			wantBlobUnknown(t, r, repo, claimed)
			wantBlobUnknown(t, r, repo, digest.FromString("actual bytes"))
			if _, err := r.blobs.Stat(ctx, claimed); !errors.Is(err, storage.ErrNotFound) {
				t.Fatalf("storage holds the refused blob: %v", err)
			}
			wantUploadGone(t, r, repo, u.ID)
		})
	}
}

// TestCompleteSHA512 completes with a digest of another algorithm than the saved
// hash state, which makes the core read the staged bytes back.
func TestCompleteSHA512(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	r := newRegistry(t)
	repo := repoName(t)
	content := strings.Repeat("sha512 bytes ", 10_000)
	u := appendChunks(t, r, repo, startUpload(t, r, repo), content[:60_000], content[60_000:])
	d := digest.SHA512.FromString(content)
	if err := r.CompleteUpload(ctx, repo, u.ID, d, -1, 0, chunk("")); err != nil {
		t.Fatal(err)
	}
	size, err := r.StatBlob(ctx, repo, d)
	if err != nil || size != int64(len(content)) {
		t.Fatalf("StatBlob = %d, %v", size, err)
	}
	if b := readBlob(t, r, repo, d, 0); string(b) != content {
		t.Fatal("blob differs from the uploaded bytes")
	}
	wantUploadGone(t, r, repo, u.ID)
}

func TestCompleteUnsupportedAlgorithm(t *testing.T) {
	t.Parallel()
	r := newRegistry(t)
	repo := repoName(t)
	u := startUpload(t, r, repo)
	d := digest.Digest("md5:d41d8cd98f00b204e9800998ecf8427e")
	err := r.CompleteUpload(context.Background(), repo, u.ID, d, -1, 0, chunk(""))
	if !errors.Is(err, ErrDigestInvalid) {
		t.Fatalf("CompleteUpload with md5: %v, want ErrDigestInvalid", err)
	}
}

func TestAppendOutOfOrder(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	r := newRegistry(t)
	repo := repoName(t)
	u := appendChunks(t, r, repo, startUpload(t, r, repo), "0123456789")
	for _, start := range []int64{0, 5, 9, 11, 1000} {
		_, err := r.AppendUpload(ctx, repo, u.ID, start, 3, chunk("abc"))
		var re *RangeError
		if !errors.As(err, &re) || re.Offset != 10 {
			t.Fatalf("chunk at %d: %v, want RangeError at 10", start, err)
		}
	}
	err := r.CompleteUpload(ctx, repo, u.ID, digest.FromString("0123456789"), 3, 0, chunk(""))
	var re *RangeError
	if !errors.As(err, &re) {
		t.Fatalf("CompleteUpload at a wrong offset: %v, want RangeError", err)
	}
	u = appendChunks(t, r, repo, u, "abc")
	if u.Offset != 13 {
		t.Fatalf("offset = %d after refused chunks, want 13", u.Offset)
	}
}

// TestAppendShortChunk sends fewer bytes than announced; the chunk is refused and
// the next one overwrites what it staged.
func TestAppendShortChunk(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	r := newRegistry(t)
	repo := repoName(t)
	u := appendChunks(t, r, repo, startUpload(t, r, repo), "good|")
	_, err := r.AppendUpload(ctx, repo, u.ID, 5, 100, chunk("truncated"))
	if !errors.Is(err, ErrSizeInvalid) {
		t.Fatalf("short chunk: %v, want ErrSizeInvalid", err)
	}
	got, err := r.GetUpload(ctx, repo, u.ID)
	if err != nil || got.Offset != 5 {
		t.Fatalf("after a short chunk GetUpload = %+v, %v; want offset 5", got, err)
	}
	u = appendChunks(t, r, repo, got, "retried")
	d := digest.FromString("good|retried")
	if err := r.CompleteUpload(ctx, repo, u.ID, d, -1, 0, chunk("")); err != nil {
		t.Fatal(err)
	}
	if b := readBlob(t, r, repo, d, 0); string(b) != "good|retried" {
		t.Fatalf("blob = %q", b)
	}
}

func TestGetUploadUnknown(t *testing.T) {
	t.Parallel()
	r := newRegistry(t)
	repo := repoName(t)
	u := startUpload(t, r, repo)
	tests := []struct {
		name, repo, id string
	}{
		{"other repository", repoName(t, "other"), u.ID},
		{"unknown id", repo, "0123456789abcdef0123456789abcdef"},
		{"path traversal", repo, "../" + u.ID},
		{"empty", repo, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			ctx := context.Background()
			if _, err := r.GetUpload(ctx, tt.repo, tt.id); !errors.Is(err, ErrBlobUploadUnknown) {
				t.Errorf("GetUpload: %v, want ErrBlobUploadUnknown", err)
			}
			_, err := r.AppendUpload(ctx, tt.repo, tt.id, -1, -1, chunk("x"))
			if !errors.Is(err, ErrBlobUploadUnknown) {
				t.Errorf("AppendUpload: %v, want ErrBlobUploadUnknown", err)
			}
			if err := r.CancelUpload(ctx, tt.repo, tt.id); !errors.Is(err, ErrBlobUploadUnknown) {
				t.Errorf("CancelUpload: %v, want ErrBlobUploadUnknown", err)
			}
		})
	}
	if _, err := r.GetUpload(context.Background(), repo, u.ID); err != nil {
		t.Fatalf("the real upload was disturbed: %v", err)
	}
}

func TestCancelUpload(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	r := newRegistry(t)
	repo := repoName(t)
	u := appendChunks(t, r, repo, startUpload(t, r, repo), "doomed")
	if err := r.CancelUpload(ctx, repo, u.ID); err != nil {
		t.Fatal(err)
	}
	wantUploadGone(t, r, repo, u.ID)
	err := r.CompleteUpload(ctx, repo, u.ID, digest.FromString("doomed"), -1, 0, chunk(""))
	if !errors.Is(err, ErrBlobUploadUnknown) {
		t.Fatalf("CompleteUpload after cancel: %v, want ErrBlobUploadUnknown", err)
	}
	wantBlobUnknown(t, r, repo, digest.FromString("doomed"))
}

// TestUploadResumesAfterRestart continues an upload in a new Registry, over a new
// driver on the same folder and the same metadata, as a restarted process (or
// another replica) would.
func TestUploadResumesAfterRestart(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	dir := t.TempDir()
	repo := repoName(t)
	first := openRegistry(t, testDriver(t, dir), Options{})
	u := appendChunks(t, first, repo, startUpload(t, first, repo), "before restart|")
	if err := first.Close(); err != nil {
		t.Fatal(err)
	}

	second := openRegistry(t, testDriver(t, dir), Options{})
	defer second.Close()
	got, err := second.GetUpload(ctx, repo, u.ID)
	if err != nil || got.Offset != u.Offset {
		t.Fatalf("GetUpload after restart = %+v, %v; want offset %d", got, err, u.Offset)
	}
	got = appendChunks(t, second, repo, got, "after restart")
	d := digest.FromString("before restart|after restart")
	if err := second.CompleteUpload(ctx, repo, u.ID, d, got.Offset, 0, chunk("")); err != nil {
		t.Fatal(err)
	}
	if b := readBlob(t, second, repo, d, 0); string(b) != "before restart|after restart" {
		t.Fatalf("blob = %q", b)
	}
}

// TestUploadAcrossReplicas interleaves the chunks of one upload between two
// registries that share metadata and storage.
func TestUploadAcrossReplicas(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	blobs := testDriver(t, "")
	a := openRegistry(t, blobs, Options{})
	defer a.Close()
	b := openRegistry(t, blobs, Options{})
	defer b.Close()
	repo := repoName(t)
	u := startUpload(t, a, repo)
	u = appendChunks(t, b, repo, u, "one|")
	u = appendChunks(t, a, repo, u, "two|")
	u = appendChunks(t, b, repo, u, "three")
	d := digest.FromString("one|two|three")
	if err := a.CompleteUpload(ctx, repo, u.ID, d, u.Offset, 0, chunk("")); err != nil {
		t.Fatal(err)
	}
	if _, err := b.StatBlob(ctx, repo, d); err != nil {
		t.Fatalf("other replica StatBlob: %v", err)
	}
}

// gatedReader yields its data, then blocks until release is closed before it
// reports EOF; reached is closed when it starts to block.
type gatedReader struct {
	data     []byte
	reached  chan struct{}
	release  chan struct{}
	signaled bool
}

func newGatedReader(data string) *gatedReader {
	return &gatedReader{
		data: []byte(data), reached: make(chan struct{}), release: make(chan struct{}),
	}
}

func (g *gatedReader) Read(p []byte) (int, error) {
	if len(g.data) > 0 {
		n := copy(p, g.data)
		g.data = g.data[n:]
		return n, nil
	}
	if !g.signaled {
		g.signaled = true
		close(g.reached)
	}
	<-g.release
	return 0, io.EOF
}

// TestConcurrentChunksKeepContentAddressing sends two chunks at the same offset at
// once: while A's bytes are being written, B arrives and writes its own part. The
// first to record its part wins; B, recording second, gets a RangeError (416), and
// the blob committed under A's digest holds A's bytes.
func TestConcurrentChunksKeepContentAddressing(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	r := newRegistry(t)
	repo := repoName(t)
	u := startUpload(t, r, repo)
	const good, evil = "the layer everyone trusts", "a layer nobody should get!"
	a, b := newGatedReader(good), newGatedReader(evil[:len(good)])
	errA, errB := make(chan error, 1), make(chan error, 1)
	go func() {
		_, err := r.AppendUpload(ctx, repo, u.ID, 0, -1, a)
		errA <- err
	}()
	<-a.reached // A's bytes are staged
	go func() {
		_, err := r.AppendUpload(ctx, repo, u.ID, 0, -1, b)
		errB <- err
	}()
	var bErr error
	select {
	case <-b.reached: // B got to write while A was writing: the old bug
		close(a.release)
		if err := <-errA; err != nil {
			t.Fatalf("chunk A: %v", err)
		}
		close(b.release)
		bErr = <-errB
	case bErr = <-errB:
		close(a.release)
		if err := <-errA; err != nil {
			t.Fatalf("chunk A: %v", err)
		}
	}
	var re *RangeError
	if !errors.As(bErr, &re) || re.Offset != int64(len(good)) {
		t.Fatalf("chunk B during A's write: %v, want a RangeError at %d", bErr, len(good))
	}

	d := digest.FromString(good)
	if err := r.CompleteUpload(ctx, repo, u.ID, d, -1, 0, chunk("")); err != nil {
		return // refusing the upload is fine
	}
	if got := readBlob(t, r, repo, d, 0); digest.FromBytes(got) != d {
		t.Fatalf("blob %s holds %q", d, got)
	}
}

// TestCompleteUploadRepeated: a client that lost the answer to its PUT (a timeout
// while the commit went through) and sends it again gets success, not 404; another
// digest on the same upload is refused.
func TestCompleteUploadRepeated(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	r := newRegistry(t)
	repo := repoName(t)
	u := startUpload(t, r, repo)
	d := digest.FromString("once")
	if err := r.CompleteUpload(ctx, repo, u.ID, d, -1, -1, chunk("once")); err != nil {
		t.Fatal(err)
	}
	if err := r.CompleteUpload(ctx, repo, u.ID, d, -1, -1, chunk("")); err != nil {
		t.Fatalf("repeated PUT: %v, want success", err)
	}
	other := digest.FromString("other")
	err := r.CompleteUpload(ctx, repo, u.ID, other, -1, -1, chunk("other"))
	if !errors.Is(err, ErrBlobUploadUnknown) {
		t.Fatalf("PUT of another digest after completion: %v, want ErrBlobUploadUnknown", err)
	}
	if _, err := r.GetUpload(ctx, repo, u.ID); !errors.Is(err, ErrBlobUploadUnknown) {
		t.Fatalf("status of a completed upload: %v, want ErrBlobUploadUnknown", err)
	}
	if got := readBlob(t, r, repo, d, 0); string(got) != "once" {
		t.Fatalf("blob = %q", got)
	}
}

// TestCompleteUploadAfterLostMetadataCommit: the bytes of an upload reached storage
// as its blob, but the metadata commit that links them failed; the client's repeated
// PUT links the blob instead of answering 404.
func TestCompleteUploadAfterLostMetadataCommit(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	r := newRegistry(t)
	repo := repoName(t)
	u := startUpload(t, r, repo)
	if _, err := r.AppendUpload(ctx, repo, u.ID, 0, -1, chunk("lost answer")); err != nil {
		t.Fatal(err)
	}
	d := digest.FromString("lost answer")
	// What CompleteUpload does before its metadata commit:
	staged, err := r.GetUpload(ctx, repo, u.ID)
	if err != nil {
		t.Fatal(err)
	}
	if err := r.blobs.CommitUpload(ctx, u.ID, staged.Parts, d); err != nil {
		t.Fatal(err)
	}
	if _, err := r.StatBlob(ctx, repo, d); !errors.Is(err, ErrBlobUnknown) {
		t.Fatalf("blob visible before its link: %v", err)
	}
	if err := r.CompleteUpload(ctx, repo, u.ID, d, -1, -1, chunk("")); err != nil {
		t.Fatalf("repeated PUT: %v, want success", err)
	}
	if got := readBlob(t, r, repo, d, 0); string(got) != "lost answer" {
		t.Fatalf("blob = %q", got)
	}
	// Another upload whose staged bytes are gone may not claim a stored blob of the
	// same size that its bytes did not make.
	other := digest.FromString("lost answeR")
	if err := r.blobs.Put(ctx, other, chunk("lost answeR")); err != nil {
		t.Fatal(err)
	}
	u2 := startUpload(t, r, repo)
	if _, err := r.AppendUpload(ctx, repo, u2.ID, 0, -1, chunk("something!!")); err != nil {
		t.Fatal(err)
	}
	if err := r.blobs.AbortUpload(ctx, u2.ID); err != nil {
		t.Fatal(err)
	}
	err = r.CompleteUpload(ctx, repo, u2.ID, other, -1, -1, chunk(""))
	if !errors.Is(err, ErrDigestInvalid) {
		t.Fatalf("upload whose bytes are gone and never stored: %v, want ErrDigestInvalid", err)
	}
	wantBlobUnknown(t, r, repo, other)
}
