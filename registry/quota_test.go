package registry

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"sync"
	"testing"

	"github.com/opencontainers/go-digest"
	ocispec "github.com/opencontainers/image-spec/specs-go/v1"

	"berth.dev/berth/kvnode"
)

// testQuotas is a QuotaSource that tests change as they go.
type testQuotas struct {
	mu sync.Mutex
	m  map[string]int64 // guarded by mu
}

func (q *testQuotas) set(project string, n int64) {
	q.mu.Lock()
	defer q.mu.Unlock()
	if q.m == nil {
		q.m = map[string]int64{}
	}
	q.m[project] = n
}

func (q *testQuotas) Quota(_ context.Context, project string) (int64, error) {
	q.mu.Lock()
	defer q.mu.Unlock()
	return q.m[project], nil
}

// quotaRegistry returns a started Registry with quotas from the returned source.
func quotaRegistry(t *testing.T) (*Registry, *testQuotas) {
	t.Helper()
	q := &testQuotas{}
	r := openRegistry(t, testDriver(t, ""), Options{Quotas: q})
	t.Cleanup(func() { r.Close() })
	return r, q
}

// projectName returns a project name of the test's own; suffix tells projects apart.
func projectName(t *testing.T, suffix string) string {
	t.Helper()
	return repoName(t) + suffix
}

func wantUsage(t *testing.T, r *Registry, project string, want int64) {
	t.Helper()
	got, err := r.Usage(context.Background(), project)
	if err != nil {
		t.Fatal(err)
	}
	if got != want {
		t.Fatalf("usage of %s = %d, want %d", project, got, want)
	}
}

func wantQuotaExceeded(t *testing.T, err error) {
	t.Helper()
	if !errors.Is(err, ErrQuotaExceeded) {
		t.Fatalf("err = %v, want ErrQuotaExceeded", err)
	}
}

func wantNoBlob(t *testing.T, r *Registry, repo string, d digest.Digest) {
	t.Helper()
	if _, err := r.StatBlob(context.Background(), repo, d); !errors.Is(err, ErrBlobUnknown) {
		t.Fatalf("StatBlob(%s, %s) = %v, want ErrBlobUnknown", repo, d, err)
	}
}

func TestProjectOf(t *testing.T) {
	t.Parallel()
	tests := []struct{ name, want string }{
		{"library/nginx", "library"},
		{"team/app/web", "team"},
		{"nginx", "nginx"},
	}
	for _, tt := range tests {
		if got := ProjectOf(tt.name); got != tt.want {
			t.Errorf("ProjectOf(%q) = %q, want %q", tt.name, got, tt.want)
		}
	}
}

// TestUsageCountsUniqueBlobs links one blob into two repositories of a project and
// into a repository of another project.
func TestUsageCountsUniqueBlobs(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	r, _ := quotaRegistry(t)
	p, other := projectName(t, "a"), projectName(t, "b")
	shared := pushBlob(t, r, p+"/one", "", "shared layer")
	pushBlob(t, r, p+"/two", "", "shared layer")
	own := pushBlob(t, r, p+"/one", "", "own layer")
	pushBlob(t, r, other+"/one", "", "shared layer")
	wantUsage(t, r, p, shared.Size+own.Size)
	wantUsage(t, r, other, shared.Size)

	// Pushing or mounting what the project holds adds nothing.
	pushBlob(t, r, p+"/one", "", "shared layer")
	if ok, err := r.MountBlob(ctx, p+"/three", p+"/one", own.Digest); err != nil || !ok {
		t.Fatalf("MountBlob = %v, %v", ok, err)
	}
	wantUsage(t, r, p, shared.Size+own.Size)

	// A manifest counts its own bytes once per project.
	body := image{config: shared, layers: []ocispec.Descriptor{own}}.json(t)
	putManifest(t, r, p+"/one", "v1", body)
	putManifest(t, r, p+"/one", "v2", body)
	wantUsage(t, r, p, shared.Size+own.Size+int64(len(body)))
}

// TestUsageDeletes checks that usage falls only when the project's last link of a
// digest goes.
func TestUsageDeletes(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	r, _ := quotaRegistry(t)
	p := projectName(t, "")
	layer := pushBlob(t, r, p+"/one", "", "layer")
	pushBlob(t, r, p+"/two", "", "layer")
	cfg := pushBlob(t, r, p+"/one", "", "config")
	body := image{config: cfg, layers: []ocispec.Descriptor{layer}}.json(t)
	m := putManifest(t, r, p+"/one", "v1", body)
	full := layer.Size + cfg.Size + int64(len(body))
	wantUsage(t, r, p, full)

	steps := []struct {
		name string
		del  func() error
		want int64
	}{
		{"tag", func() error { return r.DeleteManifest(ctx, p+"/one", Reference{Tag: "v1"}) }, full},
		{"manifest", func() error {
			return r.DeleteManifest(ctx, p+"/one", Reference{Digest: m.Digest})
		}, full - int64(len(body))},
		{"one of two links", func() error { return r.DeleteBlob(ctx, p+"/one", layer.Digest) },
			full - int64(len(body))},
		{"last link", func() error { return r.DeleteBlob(ctx, p+"/two", layer.Digest) },
			cfg.Size},
		{"config", func() error { return r.DeleteBlob(ctx, p+"/one", cfg.Digest) }, 0},
	}
	for _, s := range steps {
		if err := s.del(); err != nil {
			t.Fatalf("delete %s: %v", s.name, err)
		}
		wantUsage(t, r, p, s.want)
	}
}

func TestQuotaExceededOnUploadCompletion(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	r, q := quotaRegistry(t)
	p := projectName(t, "")
	repo := p + "/app"
	q.set(p, 10)
	first := pushBlob(t, r, repo, "", "12345")

	content := "123456" // 5 + 6 > 10
	d := digest.FromString(content)
	u, err := r.StartUpload(ctx, repo)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := r.AppendUpload(ctx, repo, u.ID, 0, 3, chunk(content[:3])); err != nil {
		t.Fatal(err)
	}
	err = r.CompleteUpload(ctx, repo, u.ID, d, 3, 3, chunk(content[3:]))
	wantQuotaExceeded(t, err)
	if !strings.Contains(err.Error(), p) || !strings.Contains(err.Error(), "10") {
		t.Fatalf("error %q does not name the project and its quota", err)
	}
	wantNoBlob(t, r, repo, d)
	wantUsage(t, r, p, first.Size)

	// A monolithic upload meets the same limit; a raised quota lets the blob in.
	wantQuotaExceeded(t, r.PutBlob(ctx, repo, d, strings.NewReader(content)))
	wantNoBlob(t, r, repo, d)
	q.set(p, 11)
	pushBlob(t, r, repo, "", content)
	wantUsage(t, r, p, 11)
}

func TestQuotaExceededOnManifestPush(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	r, q := quotaRegistry(t)
	p := projectName(t, "")
	repo := p + "/app"
	body := pushedImage(t, r, repo, "quota").json(t)
	used, err := r.Usage(ctx, p)
	if err != nil {
		t.Fatal(err)
	}
	q.set(p, used+int64(len(body))-1)

	_, err = r.PutManifest(ctx, repo, Reference{Tag: "v1"}, nil, "", body)
	wantQuotaExceeded(t, err)
	wantUsage(t, r, p, used)
	wantNoManifest(t, r, repo, Reference{Tag: "v1"})
	if _, _, err := r.Tags(ctx, repo, "", 10); !errors.Is(err, ErrNameUnknown) {
		t.Fatalf("Tags after a refused push = %v, want ErrNameUnknown", err)
	}
	if got := repoEvents(t, r, repo); len(got) != 0 {
		t.Fatalf("a refused push appended events: %+v", got)
	}

	q.set(p, used+int64(len(body)))
	putManifest(t, r, repo, "v1", body)
	wantUsage(t, r, p, used+int64(len(body)))
}

func TestQuotaExceededOnMount(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	r, q := quotaRegistry(t)
	p, other := projectName(t, "a"), projectName(t, "b")
	big := pushBlob(t, r, other+"/src", "", "a layer of twenty-six bytes")
	small := pushBlob(t, r, p+"/app", "", "small")
	q.set(p, small.Size+big.Size-1)

	ok, err := r.MountBlob(ctx, p+"/app", other+"/src", big.Digest)
	wantQuotaExceeded(t, err)
	if ok {
		t.Fatal("a refused mount reported success")
	}
	wantNoBlob(t, r, p+"/app", big.Digest)
	wantUsage(t, r, p, small.Size)

	// A full project still mounts what it holds: the link adds no bytes.
	q.set(p, small.Size)
	if ok, err := r.MountBlob(ctx, p+"/copy", p+"/app", small.Digest); err != nil || !ok {
		t.Fatalf("MountBlob within the project = %v, %v", ok, err)
	}
	wantUsage(t, r, p, small.Size)
}

// TestConcurrentPushesCountOnce pushes one blob to two repositories of a project
// from many goroutines, beside distinct blobs, against the real store.
func TestConcurrentPushesCountOnce(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	r, _ := quotaRegistry(t)
	p := projectName(t, "")
	const workers = 8
	var wg sync.WaitGroup
	errs := make(chan error, 2*workers)
	for i := range workers {
		wg.Go(func() {
			repo := fmt.Sprintf("%s/r%d", p, i%2)
			d := digest.FromString("same")
			errs <- r.PutBlob(ctx, repo, d, strings.NewReader("same"))
			other := fmt.Sprint("distinct ", i)
			errs <- r.PutBlob(ctx, repo, digest.FromString(other), strings.NewReader(other))
		})
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		if err != nil {
			t.Fatal(err)
		}
	}
	want := int64(len("same")) + workers*int64(len("distinct 0"))
	wantUsage(t, r, p, want)
	var ref usageRef
	if err := r.getJSON(ctx, usageRefKey(p, digest.FromString("same")), &ref); err != nil {
		t.Fatal(err)
	}
	if ref.Refs != 2 {
		t.Fatalf("references of the shared blob = %d, want 2 (one per repository)", ref.Refs)
	}
}

// TestRecountUsage drops a project's usage records, as a store written before
// usage was counted lacks them, and recounts.
func TestRecountUsage(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	r, _ := quotaRegistry(t)
	p := projectName(t, "")
	img := pushedImage(t, r, p+"/one", "recount")
	body := img.json(t)
	putManifest(t, r, p+"/one", "v1", body)
	pushBlob(t, r, p+"/two", "", "layer of recount")
	pushBlob(t, r, p, "", "single-component repository")
	want, err := r.Usage(ctx, p)
	if err != nil {
		t.Fatal(err)
	}

	if err := r.deletePrefix(ctx, usageRefPrefix(p)); err != nil {
		t.Fatal(err)
	}
	if err := r.store.Delete(ctx, usageKey(p)); err != nil {
		t.Fatal(err)
	}
	wantUsage(t, r, p, 0)
	if err := r.RecountUsage(ctx, p); err != nil {
		t.Fatal(err)
	}
	wantUsage(t, r, p, want)

	// The recounted references behave: the layer goes only with its last link.
	layer := img.layers[0]
	if err := r.DeleteBlob(ctx, p+"/one", layer.Digest); err != nil {
		t.Fatal(err)
	}
	wantUsage(t, r, p, want)
	if err := r.DeleteBlob(ctx, p+"/two", layer.Digest); err != nil {
		t.Fatal(err)
	}
	wantUsage(t, r, p, want-layer.Size)
}

// TestMigrationCountsExistingUsage turns a store back into schema 1 without usage
// records and starts a Registry on it, on a member of its own: the migration
// recounts every project of the store.
func TestMigrationCountsExistingUsage(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	store, err := kvnode.StartEmbedded(ctx, kvnode.EmbeddedConfig{Dir: t.TempDir()}, discard)
	if err != nil {
		t.Fatal(err)
	}
	defer store.Close()
	blobs := testDriver(t, "")
	r := New(store, blobs, discard, Options{})
	if err := r.Start(ctx); err != nil {
		t.Fatal(err)
	}
	pushBlob(t, r, "alpha/one", "", "shared")
	pushBlob(t, r, "alpha/two", "", "shared")
	putManifest(t, r, "alpha/one", "v1", pushedImage(t, r, "alpha/one", "1").json(t))
	pushBlob(t, r, "beta", "", "single")
	want := map[string]int64{}
	for _, p := range []string{"alpha", "beta"} {
		want[p], _ = r.Usage(ctx, p)
	}
	r.Close()

	if err := r.deletePrefix(ctx, "quota/"); err != nil {
		t.Fatal(err)
	}
	if err := store.Put(ctx, keySchema, []byte("1")); err != nil {
		t.Fatal(err)
	}
	r = New(store, blobs, discard, Options{})
	if err := r.Start(ctx); err != nil {
		t.Fatal(err)
	}
	defer r.Close()
	for p, n := range want {
		if n == 0 {
			t.Fatalf("usage of %s was 0 before the migration", p)
		}
		wantUsage(t, r, p, n)
	}
	if v, err := store.Get(ctx, keySchema); err != nil || string(v) != schemaVersion {
		t.Fatalf("schema after the migration = %q, %v", v, err)
	}
}
