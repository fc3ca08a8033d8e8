package p2p

import (
	"context"
	"errors"
	"slices"
	"testing"
	"time"

	"github.com/opencontainers/go-digest"

	"berth.dev/berth/kvnode/storetest"
)

// newPreheats returns preheat jobs over a fresh store, with a clock the test moves.
func newPreheats(t *testing.T) (*Preheats, *time.Time) {
	t.Helper()
	s := storetest.Embedded(t)
	now := time.Now()
	p := NewPreheats(s, make([]byte, 32))
	p.Now = func() time.Time { return now }
	return p, &now
}

func must(t *testing.T, err error) {
	t.Helper()
	if err != nil {
		t.Fatal(err)
	}
}

// openIDs returns the IDs of the jobs a poll of agent hands out.
func openIDs(t *testing.T, p *Preheats, agent string) []string {
	t.Helper()
	open, err := p.Poll(context.Background(), agent)
	must(t, err)
	var ids []string
	for _, o := range open {
		ids = append(ids, o.Job.ID)
	}
	return ids
}

func TestPreheatJobs(t *testing.T) {
	ctx := context.Background()
	p, now := newPreheats(t)
	d := digest.FromString("manifest")
	by := Creator{Name: "alice", Kind: "user", ID: "u1"}

	// An agent seen 31 s before creation is not expected; agents seen within 30 s are.
	openIDs(t, p, "old")
	*now = now.Add(31 * time.Second)
	openIDs(t, p, "a")
	openIDs(t, p, "b")
	job, err := p.Create(ctx, "proj/app:v1", "proj/app", d, by, 0)
	must(t, err)
	if !slices.Equal(job.Agents, []string{"a", "b"}) {
		t.Errorf("expected agents %v, want [a b]", job.Agents)
	}
	if got := job.Expires.Sub(job.Created); got != DefaultPreheatTTL {
		t.Errorf("expiry after %v, want %v", got, DefaultPreheatTTL)
	}

	// Every agent gets the open job, with the creator, until it finishes it.
	open, err := p.Poll(ctx, "a")
	must(t, err)
	if len(open) != 1 || open[0].Job.ID != job.ID || open[0].By != by {
		t.Fatalf("poll of a: %+v", open)
	}
	must(t, p.Report(ctx, job.ID, "a", PreheatStatus{PiecesHave: 1, PiecesTotal: 2}))
	if ids := openIDs(t, p, "a"); len(ids) != 1 {
		t.Errorf("a reported progress, not the end: poll %v, want the job", ids)
	}
	must(t, p.Report(ctx, job.ID, "a", PreheatStatus{PiecesHave: 2, PiecesTotal: 2, Done: true}))
	must(t, p.Report(ctx, job.ID, "b", PreheatStatus{Error: "denied"}))
	must(t, p.Report(ctx, job.ID, "late", PreheatStatus{Done: true}))
	for _, a := range []string{"a", "b", "late"} {
		if ids := openIDs(t, p, a); len(ids) != 0 {
			t.Errorf("%s finished the job but polls %v", a, ids)
		}
	}
	if ids := openIDs(t, p, "new"); !slices.Equal(ids, []string{job.ID}) {
		t.Errorf("an agent that joined later polls %v, want the job", ids)
	}

	v, err := p.Job(ctx, job.ID)
	must(t, err)
	want := PreheatSummary{Expected: 2, Done: 1, Failed: 1}
	if v.Summary != want || !v.Finished {
		t.Errorf("summary %+v finished=%v, want %+v finished", v.Summary, v.Finished, want)
	}
	var agents []string
	for _, st := range v.Statuses {
		agents = append(agents, st.Agent)
	}
	if !slices.Equal(agents, []string{"a", "b", "late"}) {
		t.Errorf("statuses of %v, want a, b (expected), then late", agents)
	}

	// An expired job is handed out no more.
	*now = now.Add(DefaultPreheatTTL + time.Second)
	if ids := openIDs(t, p, "new"); len(ids) != 0 {
		t.Errorf("expired job polled: %v", ids)
	}
}

func TestPreheatJobErrors(t *testing.T) {
	ctx := context.Background()
	p, _ := newPreheats(t)
	d := digest.FromString("m")
	if _, err := p.Create(ctx, "p/a:v1", "p/a", d, Creator{}, 25*time.Hour); !errors.Is(err,
		ErrPreheatInvalid) {
		t.Errorf("expiry past the limit: %v, want ErrPreheatInvalid", err)
	}
	for _, id := range []string{"", "../../auth/user/admin", "00000000000000000000zz",
		"0000000000000000000000"} {
		if _, err := p.Job(ctx, id); !errors.Is(err, ErrPreheatNotFound) {
			t.Errorf("Job(%q): %v, want ErrPreheatNotFound", id, err)
		}
		if err := p.Report(ctx, id, "a", PreheatStatus{}); !errors.Is(err, ErrPreheatNotFound) {
			t.Errorf("Report(%q): %v, want ErrPreheatNotFound", id, err)
		}
	}
	job, err := p.Create(ctx, "p/a:v1", "p/a", d, Creator{}, time.Minute)
	must(t, err)
	if err := p.Report(ctx, job.ID, "a", PreheatStatus{PiecesHave: -1}); !errors.Is(err,
		ErrPreheatInvalid) {
		t.Errorf("negative report: %v, want ErrPreheatInvalid", err)
	}
	v, err := p.Job(ctx, job.ID)
	must(t, err)
	if v.Summary.Expected != 0 || !v.Finished {
		t.Errorf("a job no agent was seen for: %+v, want finished with none expected", v)
	}
}

func TestPreheatJobsPagesAndPrune(t *testing.T) {
	ctx := context.Background()
	p, now := newPreheats(t)
	d := digest.FromString("m")
	var ids []string
	for range 5 {
		job, err := p.Create(ctx, "p/a:v1", "p/a", d, Creator{}, time.Minute)
		must(t, err)
		ids = append(ids, job.ID)
		*now = now.Add(time.Millisecond)
	}
	var got []string
	for after := ""; ; {
		page, err := p.Jobs(ctx, after, 2)
		must(t, err)
		for _, v := range page {
			got = append(got, v.ID)
		}
		if len(page) < 2 {
			break
		}
		after = page[len(page)-1].ID
	}
	if !slices.Equal(got, ids) {
		t.Errorf("pages list %v, want %v (oldest first)", got, ids)
	}
	must(t, p.Report(ctx, ids[0], "a", PreheatStatus{Done: true}))

	// A creation past the retention deletes the old jobs and their progress.
	*now = now.Add(time.Minute + preheatRetention + time.Second)
	last, err := p.Create(ctx, "p/a:v2", "p/a", d, Creator{}, 0)
	must(t, err)
	left, err := p.Jobs(ctx, "", 100)
	must(t, err)
	if len(left) != 1 || left[0].ID != last.ID {
		t.Errorf("after pruning %d jobs are left, want only the new one", len(left))
	}
	sts, err := p.store.Range(ctx, prefixPreheatStatus, "", 0)
	must(t, err)
	if len(sts) != 0 {
		t.Errorf("%d progress records outlived their job", len(sts))
	}
}

func TestPreheatProgress(t *testing.T) {
	p := &preheatProgress{blobs: map[digest.Digest]PreheatEvent{}}
	a, b := digest.FromString("a"), digest.FromString("b")
	p.update(PreheatEvent{Blob: a, Size: 100, Pieces: 4, Have: 1})
	p.update(PreheatEvent{Blob: b, Size: 10, Pieces: 1, Have: 1})
	p.update(PreheatEvent{Blob: a, Size: 100, Pieces: 4, Have: 2}) // replaces a's first
	p.update(PreheatEvent{Done: true})                             // no blob: ignored
	want := PreheatStatus{PiecesHave: 3, PiecesTotal: 5, BytesHave: 60, BytesTotal: 110}
	if got := p.status(); got != want {
		t.Errorf("status %+v, want %+v", got, want)
	}
}
