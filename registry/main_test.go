package registry

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"log/slog"
	"os"
	"strconv"
	"strings"
	"sync"
	"testing"

	"github.com/opencontainers/go-digest"
	"github.com/opencontainers/image-spec/specs-go"
	ocispec "github.com/opencontainers/image-spec/specs-go/v1"

	"berth.dev/berth/kvnode"
	"berth.dev/berth/storage"
)

// One embedded etcd member serves the whole package; tests keep apart by using
// repository names of their own (see repoName). It starts on first use, so tests
// and fuzz targets that need no store do not pay for it.
var shared struct {
	once  sync.Once
	dir   string
	store kvnode.Store
	err   error
}

func TestMain(m *testing.M) {
	code := m.Run()
	if shared.store != nil {
		shared.store.Close()
	}
	if shared.dir != "" {
		os.RemoveAll(shared.dir)
	}
	os.Exit(code)
}

var discard = slog.New(slog.NewTextHandler(io.Discard, nil))

// testStore returns the package's embedded metadata store.
func testStore(t *testing.T) kvnode.Store {
	t.Helper()
	shared.once.Do(func() {
		shared.dir, shared.err = os.MkdirTemp("", "berth-registry-test-")
		if shared.err != nil {
			return
		}
		shared.store, shared.err = kvnode.StartEmbedded(context.Background(),
			kvnode.EmbeddedConfig{Dir: shared.dir}, discard)
	})
	if shared.err != nil {
		t.Fatalf("embedded store: %v", shared.err)
	}
	return shared.store
}

// testDriver returns a filesystem driver on dir, or on a new folder when dir is "".
func testDriver(t *testing.T, dir string) storage.Driver {
	t.Helper()
	if dir == "" {
		dir = t.TempDir()
	}
	d, err := storage.NewFilesystem(dir)
	if err != nil {
		t.Fatal(err)
	}
	return d
}

// openRegistry creates and starts a Registry; the caller closes it.
func openRegistry(t *testing.T, blobs storage.Driver, opts Options) *Registry {
	t.Helper()
	r := New(testStore(t), blobs, discard, opts)
	if err := r.Start(context.Background()); err != nil {
		t.Fatalf("Start: %v", err)
	}
	return r
}

// newRegistry returns a started Registry with a storage folder of its own, closed
// at the end of the test.
func newRegistry(t *testing.T) *Registry {
	t.Helper()
	r := openRegistry(t, testDriver(t, ""), Options{})
	t.Cleanup(func() { r.Close() })
	return r
}

// runs numbers each test that asks for a repository name, so that reruns of a test
// in one process (go test -count) do not meet the repositories of the run before.
var runs struct {
	sync.Mutex
	last int
	ids  map[*testing.T]int
}

func runID(t *testing.T) int {
	runs.Lock()
	defer runs.Unlock()
	if id, ok := runs.ids[t]; ok {
		return id
	}
	if runs.ids == nil {
		runs.ids = map[*testing.T]int{}
	}
	runs.last++
	runs.ids[t] = runs.last
	return runs.last
}

// repoName derives a repository name from the test's name and run, so that tests
// sharing the store do not see each other's repositories. Calls with the same t
// and suffix return the same name.
func repoName(t *testing.T, suffix ...string) string {
	t.Helper()
	var b strings.Builder
	dash := false
	for _, c := range strings.ToLower(t.Name()) {
		if c >= 'a' && c <= 'z' || c >= '0' && c <= '9' {
			b.WriteRune(c)
			dash = false
		} else if !dash && b.Len() > 0 {
			b.WriteByte('-')
			dash = true
		}
	}
	name := strings.TrimRight(b.String(), "-") + "-" + strconv.Itoa(runID(t))
	for _, s := range suffix {
		name += "/" + s
	}
	if err := ValidateName(name); err != nil {
		t.Fatalf("repoName: %v", err)
	}
	return name
}

// pushBlob stores content as a blob of repo and returns its descriptor.
func pushBlob(t *testing.T, r *Registry, repo, mediaType, content string) ocispec.Descriptor {
	t.Helper()
	d := digest.FromString(content)
	if err := r.PutBlob(context.Background(), repo, d, strings.NewReader(content)); err != nil {
		t.Fatalf("PutBlob: %v", err)
	}
	return ocispec.Descriptor{MediaType: mediaType, Digest: d, Size: int64(len(content))}
}

// image holds the parts of an image manifest that tests vary.
type image struct {
	mediaType    string
	artifactType string
	config       ocispec.Descriptor
	layers       []ocispec.Descriptor
	subject      *ocispec.Descriptor
	annotations  map[string]string
}

func (im image) json(t *testing.T) []byte {
	t.Helper()
	mt := im.mediaType
	if mt == "" {
		mt = ocispec.MediaTypeImageManifest
	}
	layers := im.layers
	if layers == nil {
		layers = []ocispec.Descriptor{}
	}
	return mustJSON(t, ocispec.Manifest{
		Versioned: specsV2, MediaType: mt, ArtifactType: im.artifactType, Config: im.config,
		Layers: layers, Subject: im.subject, Annotations: im.annotations,
	})
}

// pushedImage pushes a config and a layer to repo and returns an image manifest
// over them; seed makes the contents distinct.
func pushedImage(t *testing.T, r *Registry, repo, seed string) image {
	t.Helper()
	return image{
		config: pushBlob(t, r, repo, ocispec.MediaTypeImageConfig, `{"seed":"`+seed+`"}`),
		layers: []ocispec.Descriptor{
			pushBlob(t, r, repo, ocispec.MediaTypeImageLayerGzip, "layer of "+seed),
		},
	}
}

var specsV2 = specs.Versioned{SchemaVersion: 2}

func mustJSON(t *testing.T, v any) []byte {
	t.Helper()
	b, err := json.Marshal(v)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// putManifest pushes body under ref (a tag or a digest) and fails the test on error.
func putManifest(t *testing.T, r *Registry, repo, ref string, body []byte) Manifest {
	t.Helper()
	var mt struct {
		MediaType string `json:"mediaType"`
	}
	json.Unmarshal(body, &mt)
	m, err := r.PutManifest(context.Background(), repo, mustRef(t, ref), nil, mt.MediaType, body)
	if err != nil {
		t.Fatalf("PutManifest(%s:%s): %v", repo, ref, err)
	}
	return m
}

func mustRef(t *testing.T, s string) Reference {
	t.Helper()
	ref, err := ParseReference(s)
	if err != nil {
		t.Fatal(err)
	}
	return ref
}

// repoEvents returns the events of repo, oldest first.
func repoEvents(t *testing.T, r *Registry, repo string) []Event {
	t.Helper()
	kvs, err := r.Events(context.Background(), "", 0)
	if err != nil {
		t.Fatal(err)
	}
	var out []Event
	for _, kv := range kvs {
		e, err := DecodeEvent(kv.Value)
		if err != nil {
			t.Fatalf("event %s: %v", kv.Key, err)
		}
		if e.Repository == repo {
			out = append(out, e)
		}
	}
	return out
}

func readBlob(t *testing.T, r *Registry, repo string, d digest.Digest, off int64) []byte {
	t.Helper()
	rc, _, err := r.OpenBlob(context.Background(), repo, d, off)
	if err != nil {
		t.Fatalf("OpenBlob(%s): %v", d, err)
	}
	defer rc.Close()
	b, err := io.ReadAll(rc)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func chunk(s string) io.Reader { return bytes.NewReader([]byte(s)) }
