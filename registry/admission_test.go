package registry

import (
	"context"
	"sync"
	"testing"
)

// racingAdmission moves the pushed tag elsewhere while the first push is being
// admitted, as a concurrent push would, and records what each call saw.
type racingAdmission struct {
	t    *testing.T
	r    *Registry
	move func()

	mu   sync.Mutex
	seen []TagState // guarded by mu
}

func (a *racingAdmission) AdmitPush(_ context.Context, p PushInfo) error {
	a.mu.Lock()
	first := len(a.seen) == 0
	a.seen = append(a.seen, *p.TagState)
	a.mu.Unlock()
	if first {
		a.move()
	}
	return nil
}

func (a *racingAdmission) AdmitPull(context.Context, PullInfo) error     { return nil }
func (a *racingAdmission) AdmitDelete(context.Context, DeleteInfo) error { return nil }

// TestTagMovedDuringAdmission checks that a push whose tag moved while it was being
// admitted is admitted again with the tag's new state, so that a policy deciding on
// the tag's state (tag immutability) decides on what the commit replaces.
func TestTagMovedDuringAdmission(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	plain := newRegistry(t)
	repo := repoName(t)
	a := &racingAdmission{t: t}
	r := openRegistry(t, plain.blobs, Options{Admission: a})
	t.Cleanup(func() { r.Close() })
	other := pushedImage(t, r, repo, "other").json(t)
	mine := pushedImage(t, r, repo, "mine").json(t)
	var moved Manifest
	a.move = func() { moved = putManifest(t, plain, repo, "v1", other) }

	m := putManifest(t, r, repo, "v1", mine)
	if len(a.seen) != 2 {
		t.Fatalf("admission asked %d times, want 2 (again after the tag moved)", len(a.seen))
	}
	if a.seen[0].Exists {
		t.Errorf("first admission saw %+v, want the tag absent", a.seen[0])
	}
	if want := (TagState{Exists: true, Digest: moved.Digest}); a.seen[1] != want {
		t.Errorf("second admission saw %+v, want %+v", a.seen[1], want)
	}
	got, err := r.StatManifest(ctx, repo, Reference{Tag: "v1"})
	if err != nil || got.Digest != m.Digest {
		t.Errorf("v1 names %v (%v), want the admitted push %s", got.Digest, err, m.Digest)
	}
}
