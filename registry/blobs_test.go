package registry

import (
	"context"
	"errors"
	"strings"
	"testing"

	"github.com/opencontainers/go-digest"
)

func TestPutBlob(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	r := newRegistry(t)
	repo := repoName(t)
	desc := pushBlob(t, r, repo, "", "monolithic")
	size, err := r.StatBlob(ctx, repo, desc.Digest)
	if err != nil || size != desc.Size {
		t.Fatalf("StatBlob = %d, %v; want %d", size, err, desc.Size)
	}
	rc, size, err := r.OpenBlob(ctx, repo, desc.Digest, 4)
	if err != nil || size != desc.Size {
		t.Fatalf("OpenBlob = %d, %v", size, err)
	}
	rc.Close()
	if b := readBlob(t, r, repo, desc.Digest, 4); string(b) != "lithic" {
		t.Fatalf("OpenBlob at 4 = %q", b)
	}
}

func TestPutBlobWrongDigest(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	r := newRegistry(t)
	repo := repoName(t)
	claimed := digest.FromString("promised")
	err := r.PutBlob(ctx, repo, claimed, strings.NewReader("delivered"))
	if !errors.Is(err, ErrDigestInvalid) {
		t.Fatalf("PutBlob with a wrong digest: %v, want ErrDigestInvalid", err)
	}
	wantBlobUnknown(t, r, repo, claimed)
	if _, _, err := r.OpenBlob(ctx, repo, claimed, 0); !errors.Is(err, ErrBlobUnknown) {
		t.Fatalf("OpenBlob: %v, want ErrBlobUnknown", err)
	}
}

func TestMountBlob(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	r := newRegistry(t)
	from, to := repoName(t, "from"), repoName(t, "to")
	desc := pushBlob(t, r, from, "", "shared layer")
	tests := []struct {
		name        string
		from        string
		d           digest.Digest
		wantMounted bool
	}{
		{"present", from, desc.Digest, true},
		{"again", from, desc.Digest, true},
		{"source lacks the blob", repoName(t, "empty"), desc.Digest, false},
		{"unknown blob", from, digest.FromString("nowhere"), false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			ok, err := r.MountBlob(ctx, to, tt.from, tt.d)
			if err != nil || ok != tt.wantMounted {
				t.Fatalf("MountBlob = %v, %v; want %v", ok, err, tt.wantMounted)
			}
		})
	}
	size, err := r.StatBlob(ctx, to, desc.Digest)
	if err != nil || size != desc.Size {
		t.Fatalf("StatBlob of the mounted blob = %d, %v", size, err)
	}
	if b := readBlob(t, r, to, desc.Digest, 0); string(b) != "shared layer" {
		t.Fatalf("mounted blob = %q", b)
	}
	wantBlobUnknown(t, r, to, digest.FromString("nowhere"))
}

func TestDeleteBlob(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	r := newRegistry(t)
	repo, other := repoName(t, "a"), repoName(t, "b")
	desc := pushBlob(t, r, repo, "", "to be unlinked")
	if ok, err := r.MountBlob(ctx, other, repo, desc.Digest); !ok || err != nil {
		t.Fatalf("MountBlob = %v, %v", ok, err)
	}
	if err := r.DeleteBlob(ctx, repo, desc.Digest); err != nil {
		t.Fatal(err)
	}
	wantBlobUnknown(t, r, repo, desc.Digest)
	if b := readBlob(t, r, other, desc.Digest, 0); string(b) != "to be unlinked" {
		t.Fatalf("other repository's blob after delete = %q", b)
	}
	if err := r.DeleteBlob(ctx, repo, desc.Digest); !errors.Is(err, ErrBlobUnknown) {
		t.Fatalf("second DeleteBlob: %v, want ErrBlobUnknown", err)
	}
	events := repoEvents(t, r, repo)
	if len(events) != 1 || events[0].Action != ActionDelete || events[0].Digest != desc.Digest {
		t.Fatalf("events = %+v, want one delete of %s", events, desc.Digest)
	}
}

func TestOpenBlobMissingFromStorage(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	r := newRegistry(t)
	repo := repoName(t)
	desc := pushBlob(t, r, repo, "", "vanishes")
	if err := r.blobs.Delete(ctx, desc.Digest); err != nil {
		t.Fatal(err)
	}
	if _, _, err := r.OpenBlob(ctx, repo, desc.Digest, 0); !errors.Is(err, ErrBlobUnknown) {
		t.Fatalf("OpenBlob of a linked blob missing from storage: %v, want ErrBlobUnknown", err)
	}
}
