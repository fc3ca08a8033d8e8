package registry

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"
	"testing"

	ocispec "github.com/opencontainers/image-spec/specs-go/v1"
)

func TestTagsPagination(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	r := newRegistry(t)
	repo := repoName(t)
	body := pushedImage(t, r, repo, "tags").json(t)
	_, err := r.PutManifest(ctx, repo, Reference{Tag: "t3"}, []string{"t1", "t0", "t4", "t2"},
		ocispec.MediaTypeImageManifest, body)
	if err != nil {
		t.Fatal(err)
	}
	all := []string{"t0", "t1", "t2", "t3", "t4"}
	tests := []struct {
		name     string
		last     string
		n        int
		want     []string
		wantMore bool
	}{
		{"first page", "", 2, all[:2], true},
		{"middle page", "t1", 2, all[2:4], true},
		{"last page exactly", "t2", 2, all[3:], false},
		{"last page short", "t3", 2, all[4:], false},
		{"after the end", "t4", 2, []string{}, false},
		{"last not a tag", "t10", 2, all[2:4], true},
		{"last before all", "a", 10, all, false},
		{"all", "", 5, all, false},
		{"more than all", "", 100, all, false},
		{"n zero", "", 0, []string{}, false},
		{"n negative", "", -1, []string{}, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, more, err := r.Tags(ctx, repo, tt.last, tt.n)
			if err != nil || !slices.Equal(got, tt.want) || more != tt.wantMore {
				t.Fatalf("Tags(last=%q, n=%d) = %v, %v, %v; want %v, %v",
					tt.last, tt.n, got, more, err, tt.want, tt.wantMore)
			}
		})
	}
}

func TestTagsUnknownRepository(t *testing.T) {
	t.Parallel()
	r := newRegistry(t)
	repo := repoName(t)
	pushBlob(t, r, repo, "", "a blob alone does not make a repository")
	if _, _, err := r.Tags(context.Background(), repo, "", 10); !errors.Is(err, ErrNameUnknown) {
		t.Fatalf("Tags of a repository without manifests: %v, want ErrNameUnknown", err)
	}
}

// TestTagsKeepRepositoriesApart checks that a repository whose name extends another's
// does not leak its tags into the shorter one.
func TestTagsKeepRepositoriesApart(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	r := newRegistry(t)
	short, long := repoName(t, "app"), repoName(t, "app/sub")
	putManifest(t, r, short, "short", pushedImage(t, r, short, "s").json(t))
	putManifest(t, r, long, "long", pushedImage(t, r, long, "l").json(t))
	for repo, want := range map[string]string{short: "short", long: "long"} {
		got, _, err := r.Tags(ctx, repo, "", 10)
		if err != nil || !slices.Equal(got, []string{want}) {
			t.Errorf("Tags(%s) = %v, %v; want [%s]", repo, got, err, want)
		}
	}
}

// TestCatalog pages through repositories named "zzcatalog-<run>/...", which sort
// after the repositories of the other tests of the package (see repoName).
func TestCatalog(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	r := newRegistry(t)
	prefix := fmt.Sprintf("zzcatalog-%d", runID(t))
	var names []string
	for _, n := range []string{"a", "b", "b/c", "d"} {
		repo := prefix + "/" + n
		names = append(names, repo)
		putManifest(t, r, repo, "v1", pushedImage(t, r, repo, repo).json(t))
	}
	var got []string
	last := prefix
	for {
		page, more, err := r.Catalog(ctx, last, 3)
		if err != nil {
			t.Fatal(err)
		}
		if len(page) > 3 {
			t.Fatalf("page of %d names, asked for 3", len(page))
		}
		for _, name := range page {
			if strings.HasPrefix(name, prefix+"/") {
				got = append(got, name)
			}
		}
		if !more || !strings.HasPrefix(page[len(page)-1], prefix+"/") {
			break
		}
		last = page[len(page)-1]
	}
	if !slices.Equal(got, names) {
		t.Fatalf("Catalog = %v, want %v", got, names)
	}
	all, _, err := r.Catalog(ctx, "", MaxPage)
	if err != nil || !slices.IsSorted(all) || !slices.Contains(all, prefix+"/b/c") {
		t.Fatalf("Catalog from the start = %v, %v", all, err)
	}
}

func TestReferrers(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	r := newRegistry(t)
	repo := repoName(t)
	im := pushedImage(t, r, repo, "subject")
	subject := putManifest(t, r, repo, "v1", im.json(t))
	subj := &ocispec.Descriptor{
		MediaType: subject.MediaType, Digest: subject.Digest, Size: subject.Size,
	}
	sbomConfig := pushBlob(t, r, repo, "application/vnd.example.sbom", "{}")
	sig := putManifest(t, r, repo, "sig", image{
		artifactType: "application/vnd.example.sig", config: im.config, subject: subj,
		annotations: map[string]string{"signed-by": "test"},
	}.json(t))
	sbom := putManifest(t, r, repo, "sbom", image{config: sbomConfig, subject: subj}.json(t))
	putManifest(t, r, repo, "unrelated", pushedImage(t, r, repo, "unrelated").json(t))

	tests := []struct {
		name         string
		artifactType string
		want         []Manifest
	}{
		{"all", "", []Manifest{sig, sbom}},
		{"explicit artifact type", "application/vnd.example.sig", []Manifest{sig}},
		{"config media type", "application/vnd.example.sbom", []Manifest{sbom}},
		{"no match", "application/vnd.example.none", nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := referrers(t, r, repo, subject.Digest, tt.artifactType)
			if got == nil || len(got) != len(tt.want) {
				t.Fatalf("Referrers = %v, want %d", got, len(tt.want))
			}
			for _, m := range tt.want {
				i := slices.IndexFunc(got, func(d ocispec.Descriptor) bool {
					return d.Digest == m.Digest
				})
				if i < 0 || got[i].Size != m.Size || got[i].MediaType != m.MediaType {
					t.Fatalf("Referrers = %+v, want an entry for %+v", got, m)
				}
			}
		})
	}
	got := referrers(t, r, repo, subject.Digest, "application/vnd.example.sig")
	if got[0].ArtifactType != "application/vnd.example.sig" ||
		got[0].Annotations["signed-by"] != "test" {
		t.Fatalf("signature entry = %+v", got[0])
	}
	if got := referrers(t, r, repoName(t, "other"), subject.Digest, ""); len(got) != 0 {
		t.Fatalf("Referrers in another repository = %v", got)
	}
	if refs, err := r.Referrers(ctx, repo, sig.Digest, ""); err != nil || len(refs) != 0 {
		t.Fatalf("Referrers of a manifest without referrers = %v, %v", refs, err)
	}
}

// TestReferrerBeforeSubject pushes a referrer whose subject is not in the registry
// yet, which the distribution spec allows.
func TestReferrerBeforeSubject(t *testing.T) {
	t.Parallel()
	r := newRegistry(t)
	repo := repoName(t)
	im := pushedImage(t, r, repo, "early")
	subj := &ocispec.Descriptor{
		MediaType: ocispec.MediaTypeImageManifest, Digest: im.config.Digest, Size: 1,
	}
	m := putManifest(t, r, repo, "early", image{config: im.config, subject: subj}.json(t))
	if m.Subject != subj.Digest {
		t.Fatalf("Subject = %q, want %q", m.Subject, subj.Digest)
	}
	if got := referrers(t, r, repo, subj.Digest, ""); len(got) != 1 {
		t.Fatalf("Referrers = %v, want one", got)
	}
}
