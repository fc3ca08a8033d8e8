package registry

import (
	"context"
	"errors"
	"fmt"
	"testing"
)

// TestDeleteRepository deletes a repository holding more keys than one batch: its
// tags, manifests and links go, usage keeps only what another repository of the
// project still links, and the name is unknown afterwards.
func TestDeleteRepository(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	r, _ := quotaRegistry(t)
	p := projectName(t, "")
	repo, keep := p+"/gone", p+"/kept"
	shared := pushBlob(t, r, keep, "", "shared layer")
	img := pushedImage(t, r, repo, "base")
	img.layers = append(img.layers, pushBlob(t, r, repo, "", "shared layer"))
	body := img.json(t)
	putManifest(t, r, repo, "v0", body)
	for i := range repoDeleteBatch + 5 { // more keys than one batch
		pushBlob(t, r, repo, "", fmt.Sprintf("blob %d", i))
	}
	if err := r.DeleteRepository(ctx, repo); err != nil {
		t.Fatalf("DeleteRepository: %v", err)
	}
	wantUsage(t, r, p, shared.Size)
	if _, _, err := r.Tags(ctx, repo, "", 10); !errors.Is(err, ErrNameUnknown) {
		t.Errorf("Tags after delete = %v, want ErrNameUnknown", err)
	}
	wantNoBlob(t, r, repo, img.config.Digest)
	if _, err := r.StatBlob(ctx, keep, shared.Digest); err != nil {
		t.Errorf("blob of the other repository after delete: %v", err)
	}
	if err := r.DeleteRepository(ctx, repo); !errors.Is(err, ErrNameUnknown) {
		t.Errorf("second DeleteRepository = %v, want ErrNameUnknown", err)
	}
	events := repoEvents(t, r, repo)
	if last := events[len(events)-1]; last.Action != ActionDelete || last.Digest != "" {
		t.Errorf("last event %+v, want the repository's delete", last)
	}
}
