package registry

import (
	"context"
	"fmt"
	"testing"
	"time"

	"github.com/opencontainers/go-digest"

	"berth.dev/berth/kvnode"
)

func TestPushAndDeleteEvents(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	r := newRegistry(t)
	repo := repoName(t)
	body := pushedImage(t, r, repo, "events").json(t)
	if got := repoEvents(t, r, repo); len(got) != 0 {
		t.Fatalf("blob pushes appended events: %+v", got)
	}
	m, err := r.PutManifest(ctx, repo, Reference{Tag: "v1"}, []string{"v2"}, "", body)
	if err != nil {
		t.Fatal(err)
	}
	wantEvents(t, r, repo, Event{
		Action: ActionPush, Repository: repo, Digest: m.Digest, Tag: "v1,v2",
		MediaType: m.MediaType,
	})

	if err := r.DeleteManifest(ctx, repo, Reference{Tag: "v2"}); err != nil {
		t.Fatal(err)
	}
	wantEvents(t, r, repo, Event{Action: ActionPush}, Event{
		Action: ActionDelete, Repository: repo, Digest: m.Digest, Tag: "v2",
	})

	if err := r.DeleteManifest(ctx, repo, Reference{Digest: m.Digest}); err != nil {
		t.Fatal(err)
	}
	wantEvents(t, r, repo, Event{Action: ActionPush}, Event{Action: ActionDelete},
		Event{Action: ActionDelete, Repository: repo, Digest: m.Digest})

	// Refused changes append nothing.
	r.DeleteManifest(ctx, repo, Reference{Digest: m.Digest})
	r.PutManifest(ctx, repo, Reference{Tag: "bad"}, nil, "", []byte("{"))
	if got := repoEvents(t, r, repo); len(got) != 3 {
		t.Fatalf("refused changes appended events: %+v", got)
	}
}

// wantEvents compares the events of repo with want; fields left zero in want are
// not compared.
func wantEvents(t *testing.T, r *Registry, repo string, want ...Event) {
	t.Helper()
	got := repoEvents(t, r, repo)
	if len(got) != len(want) {
		t.Fatalf("events = %+v, want %d", got, len(want))
	}
	for i, w := range want {
		g := got[i]
		if g.Time.IsZero() || time.Since(g.Time) > time.Hour {
			t.Errorf("event %d time = %v", i, g.Time)
		}
		if g.Action != w.Action || w.Repository != "" && g.Repository != w.Repository ||
			w.Digest != "" && g.Digest != w.Digest || w.Tag != "" && g.Tag != w.Tag ||
			w.MediaType != "" && g.MediaType != w.MediaType {
			t.Errorf("event %d = %+v, want %+v", i, g, w)
		}
	}
}

// TestPullEventsMerged pulls one manifest several times and checks that the pulls
// reach metadata only at the flush, as one event per reference with a count.
func TestPullEventsMerged(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	// The flusher never ticks during the test; Close flushes.
	r := openRegistry(t, testDriver(t, ""), Options{EventFlushInterval: time.Hour})
	repo := repoName(t)
	m := putManifest(t, r, repo, "latest", pushedImage(t, r, repo, "pulled").json(t))
	for range 3 {
		if _, _, err := r.GetManifest(ctx, repo, Reference{Tag: "latest"}); err != nil {
			t.Fatal(err)
		}
	}
	for range 2 {
		if _, _, err := r.GetManifest(ctx, repo, Reference{Digest: m.Digest}); err != nil {
			t.Fatal(err)
		}
	}
	if _, err := r.StatManifest(ctx, repo, Reference{Tag: "latest"}); err != nil {
		t.Fatal(err)
	}
	r.GetManifest(ctx, repo, Reference{Tag: "missing"})
	if got := repoEvents(t, r, repo); len(got) != 1 {
		t.Fatalf("events before the flush = %+v, want only the push", got)
	}

	if err := r.Close(); err != nil {
		t.Fatal(err)
	}
	counts := map[string]int{}
	for _, e := range repoEvents(t, r, repo)[1:] {
		if e.Action != ActionPull || e.Digest != m.Digest || e.MediaType != m.MediaType {
			t.Fatalf("pull event = %+v", e)
		}
		counts[e.Tag] += e.Count
		if e.Count == 0 {
			t.Fatalf("pull event without a count: %+v", e)
		}
	}
	if len(counts) != 2 || counts["latest"] != 3 || counts[""] != 2 {
		t.Fatalf("pull counts by tag = %v, want latest:3 and by digest:2", counts)
	}
}

// TestFlushPullsInBatches buffers more distinct pulls than one transaction holds.
func TestFlushPullsInBatches(t *testing.T) {
	t.Parallel()
	r := New(testStore(t), testDriver(t, ""), discard, Options{})
	repo := repoName(t)
	const pulls = 2*maxEventBatch + 7
	for i := range pulls {
		d := digest.FromString(fmt.Sprint(i))
		r.recordPull(context.Background(), Event{Repository: repo, Digest: d})
	}
	if err := r.flushPulls(context.Background()); err != nil {
		t.Fatal(err)
	}
	if got := repoEvents(t, r, repo); len(got) != pulls {
		t.Fatalf("%d events after flushing %d pulls", len(got), pulls)
	}
	if got := r.pulls.take(); len(got) != 0 {
		t.Fatalf("buffer after the flush holds %d events", len(got))
	}
}

// TestPruneEvents writes events dated 1990, older than any other test's, and prunes
// them with a cutoff that spares the events of today.
func TestPruneEvents(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	r := New(testStore(t), testDriver(t, ""), discard, Options{})
	repo := repoName(t)
	old := time.Date(1990, 1, 1, 0, 0, 0, 0, time.UTC)
	for batch := range 5 {
		err := r.update(ctx, func(tx kvnode.Txn) error {
			for i := range 50 {
				at := old.Add(time.Duration(batch*50+i) * time.Second)
				r.putEvent(ctx, tx, Event{Action: ActionPull, Repository: repo, Time: at})
			}
			return nil
		})
		if err != nil {
			t.Fatal(err)
		}
	}
	err := r.update(ctx, func(tx kvnode.Txn) error {
		r.putEvent(ctx, tx, Event{Action: ActionPush, Repository: repo})
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	if err := r.pruneEvents(ctx, time.Date(2000, 1, 1, 0, 0, 0, 0, time.UTC)); err != nil {
		t.Fatal(err)
	}
	got := repoEvents(t, r, repo)
	if len(got) != 1 || got[0].Action != ActionPush {
		t.Fatalf("events after pruning = %d, want only today's push", len(got))
	}
}

func TestEventsPaging(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	r := newRegistry(t)
	repo := repoName(t)
	for i := range 3 {
		body := pushedImage(t, r, repo, fmt.Sprint(i)).json(t)
		putManifest(t, r, repo, fmt.Sprint("v", i), body)
	}
	page, err := r.Events(ctx, "", 2)
	if err != nil || len(page) != 2 {
		t.Fatalf("Events(limit 2) = %d, %v", len(page), err)
	}
	next, err := r.Events(ctx, page[1].Key, 2)
	if err != nil {
		t.Fatal(err)
	}
	if len(next) > 0 && next[0].Key <= page[1].Key {
		t.Fatalf("next page starts at %s, after %s", next[0].Key, page[1].Key)
	}
	if _, err := DecodeEvent([]byte("{")); err == nil {
		t.Fatal("DecodeEvent accepted broken JSON")
	}
	if _, err := DecodeEvent(page[0].Value); err != nil {
		t.Fatal(err)
	}
}
