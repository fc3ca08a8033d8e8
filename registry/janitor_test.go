package registry

import (
	"context"
	"errors"
	"slices"
	"strings"
	"testing"
	"time"

	"berth.dev/berth/storage"
)

func stagedIDs(t *testing.T, d storage.Driver) []string {
	t.Helper()
	list, err := d.ListUploads(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	var ids []string
	for _, u := range list {
		ids = append(ids, u.ID)
	}
	return ids
}

// TestStartRemovesOrphanUploads leaves staged bytes without a session, as a crash
// between writing and recording would, and checks that Start removes them and
// keeps live sessions.
func TestStartRemovesOrphanUploads(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	blobs := testDriver(t, "")
	repo := repoName(t)
	first := openRegistry(t, blobs, Options{})
	live := appendChunks(t, first, repo, startUpload(t, first, repo), "live")
	first.Close()
	if _, err := blobs.WritePart(ctx, "orphan", 0, strings.NewReader("lost")); err != nil {
		t.Fatal(err)
	}

	second := openRegistry(t, blobs, Options{})
	defer second.Close()
	if ids := stagedIDs(t, blobs); !slices.Equal(ids, []string{live.ID}) {
		t.Fatalf("staged after Start = %v, want only the live upload %s", ids, live.ID)
	}
	if _, err := second.GetUpload(ctx, repo, live.ID); err != nil {
		t.Fatalf("live session after Start: %v", err)
	}
}

func TestStartRemovesExpiredUploads(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	blobs := testDriver(t, "")
	repo := repoName(t)
	first := openRegistry(t, blobs, Options{})
	old := appendChunks(t, first, repo, startUpload(t, first, repo), "stale")
	first.Close()

	// Every session is older than a TTL of one nanosecond.
	second := openRegistry(t, blobs, Options{UploadTTL: time.Nanosecond})
	defer second.Close()
	if ids := stagedIDs(t, blobs); len(ids) != 0 {
		t.Fatalf("staged after Start = %v, want none", ids)
	}
	if _, err := second.GetUpload(ctx, repo, old.ID); !errors.Is(err, ErrBlobUploadUnknown) {
		t.Fatalf("expired session after Start: %v, want ErrBlobUploadUnknown", err)
	}
}
