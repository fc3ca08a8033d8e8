package registry

import (
	"context"
	"fmt"
	"slices"
	"testing"
	"time"

	"berth.dev/berth/kvnode"
)

// auditAll pages through q with page size limit and returns every event.
func auditAll(t *testing.T, r *Registry, q AuditQuery) []AuditEntry {
	t.Helper()
	var out []AuditEntry
	seen := map[string]bool{}
	for {
		page, next, err := r.Audit(context.Background(), q)
		if err != nil {
			t.Fatal(err)
		}
		for _, e := range page {
			if seen[e.ID] {
				t.Fatalf("event %s returned twice", e.ID)
			}
			seen[e.ID] = true
		}
		out = append(out, page...)
		if next == "" {
			return out
		}
		if next <= q.After {
			t.Fatalf("next %q does not move past %q", next, q.After)
		}
		q.After = next
	}
}

func actions(entries []AuditEntry) []string {
	out := make([]string, len(entries))
	for i, e := range entries {
		out[i] = e.Action + " " + e.Target + e.Repository
	}
	return out
}

// TestAuditRecordsActors pushes, pulls and deletes as different actors and reads
// who did what, and from where, back from the log.
func TestAuditRecordsActors(t *testing.T) {
	t.Parallel()
	bg := context.Background()
	r := openRegistry(t, testDriver(t, ""), Options{EventFlushInterval: time.Hour})
	repo := repoName(t, "app")
	alice := WithActor(bg, Actor{Name: "alice", Kind: ActorUser, Addr: "192.0.2.1"})
	bot := WithActor(bg, Actor{Name: "robot$ci", Kind: ActorRobot, Addr: "192.0.2.2"})
	anon := WithActor(bg, Actor{Kind: ActorAnonymous, Addr: "192.0.2.3"})
	body := pushedImage(t, r, repo, "actors").json(t)
	m, err := r.PutManifest(alice, repo, Reference{Tag: "v1"}, nil, "", body)
	if err != nil {
		t.Fatal(err)
	}
	for _, ctx := range []context.Context{bot, anon, bot} {
		if _, _, err := r.GetManifest(ctx, repo, Reference{Tag: "v1"}); err != nil {
			t.Fatal(err)
		}
	}
	if err := r.DeleteManifest(alice, repo, Reference{Digest: m.Digest}); err != nil {
		t.Fatal(err)
	}
	if err := r.Close(); err != nil { // flushes the pulls
		t.Fatal(err)
	}

	got := map[string]Event{}
	for _, e := range auditAll(t, r, AuditQuery{Repository: repo}) {
		got[e.Action+" "+e.Actor] = e.Event
	}
	want := []struct {
		key, kind, addr string
		count           int
	}{
		{"push alice", ActorUser, "192.0.2.1", 0},
		{"pull robot$ci", ActorRobot, "192.0.2.2", 2},
		{"pull ", ActorAnonymous, "192.0.2.3", 1},
		{"delete alice", ActorUser, "192.0.2.1", 0},
	}
	if len(got) != len(want) {
		t.Fatalf("events = %+v, want %d", got, len(want))
	}
	for _, w := range want {
		e, ok := got[w.key]
		if !ok || e.ActorKind != w.kind || e.Addr != w.addr || e.Count != w.count {
			t.Errorf("event %q = %+v (found %v), want kind %s addr %s count %d",
				w.key, e, ok, w.kind, w.addr, w.count)
		}
	}
	if a := ActorFrom(bg); a != (Actor{}) {
		t.Errorf("ActorFrom(no actor) = %+v", a)
	}
}

// TestAuditFilters records events in two projects and selects them by project,
// repository, actor and action.
func TestAuditFilters(t *testing.T) {
	t.Parallel()
	bg := context.Background()
	r := newRegistry(t)
	p, other := projectName(t, "a"), projectName(t, "b")
	alice := WithActor(bg, Actor{Name: "alice-" + p, Kind: ActorUser, Addr: "192.0.2.1"})
	bob := WithActor(bg, Actor{Name: "bob-" + p, Kind: ActorUser, Addr: "192.0.2.9"})
	putManifest(t, r, p+"/one", "v1", pushedImage(t, r, p+"/one", "1").json(t))
	_, err := r.PutManifest(bob, p+"/two", Reference{Tag: "v1"}, nil, "",
		pushedImage(t, r, p+"/two", "2").json(t))
	if err != nil {
		t.Fatal(err)
	}
	putManifest(t, r, other+"/one", "v1", pushedImage(t, r, other+"/one", "3").json(t))
	admin := []struct{ action, target string }{
		{"project.create", p}, {"member.add", p + "/member/carol"},
		{"project.create", other}, {"project.create", p + "x"},
	}
	for _, a := range admin {
		if err := r.RecordAdmin(alice, a.action, a.target, "detail"); err != nil {
			t.Fatal(err)
		}
	}

	tests := []struct {
		name string
		q    AuditQuery
		want []string
	}{
		{"project", AuditQuery{Project: p}, []string{"push " + p + "/one", "push " + p + "/two",
			"admin:project.create " + p, "admin:member.add " + p + "/member/carol"}},
		{"repository", AuditQuery{Repository: p + "/two"}, []string{"push " + p + "/two"}},
		{"actor", AuditQuery{Actor: "alice-" + p, Action: "admin:project.create"}, []string{
			"admin:project.create " + p, "admin:project.create " + other,
			"admin:project.create " + p + "x"}},
		{"actor and project", AuditQuery{Actor: "bob-" + p, Project: p},
			[]string{"push " + p + "/two"}},
		{"action prefix", AuditQuery{Action: "admin:", Project: p}, []string{
			"admin:project.create " + p, "admin:member.add " + p + "/member/carol"}},
		{"action", AuditQuery{Action: "push", Project: other}, []string{"push " + other + "/one"}},
	}
	for _, tt := range tests {
		got := actions(auditAll(t, r, tt.q))
		if !slices.Equal(got, tt.want) {
			t.Errorf("%s: %q, want %q", tt.name, got, tt.want)
		}
	}
	for _, e := range auditAll(t, r, AuditQuery{Project: p, Action: "admin:"}) {
		if e.Actor != "alice-"+p || e.Addr != "192.0.2.1" || e.Detail != "detail" {
			t.Errorf("admin event = %+v", e)
		}
	}
}

// TestAuditPagination pages through more events than a page holds, by several page
// sizes, and finds each exactly once in order.
func TestAuditPagination(t *testing.T) {
	t.Parallel()
	r := newRegistry(t)
	p := projectName(t, "")
	const n = 7
	for i := range n {
		if err := r.RecordAdmin(context.Background(), "x", p, fmt.Sprint(i)); err != nil {
			t.Fatal(err)
		}
	}
	for _, limit := range []int{1, 2, 3, n, 0} {
		got := auditAll(t, r, AuditQuery{Project: p, Limit: limit})
		if len(got) != n {
			t.Fatalf("limit %d: %d events, want %d", limit, len(got), n)
		}
		for i, e := range got {
			if e.Detail != fmt.Sprint(i) {
				t.Fatalf("limit %d: event %d has detail %q", limit, i, e.Detail)
			}
		}
	}
}

func TestAuditLimit(t *testing.T) {
	t.Parallel()
	tests := []struct{ in, want int }{
		{0, DefaultAuditLimit}, {-1, DefaultAuditLimit}, {5, 5}, {5000, MaxAuditLimit},
	}
	for _, tt := range tests {
		if got := auditLimit(tt.in); got != tt.want {
			t.Errorf("auditLimit(%d) = %d, want %d", tt.in, got, tt.want)
		}
	}
}

// putDated writes events of repo dated at each of times.
func putDated(t *testing.T, r *Registry, repo string, times ...time.Time) {
	t.Helper()
	ctx := context.Background()
	err := r.update(ctx, func(tx kvnode.Txn) error {
		for i, at := range times {
			r.putEvent(ctx, tx, Event{
				Action: ActionPull, Repository: repo, Time: at, Tag: fmt.Sprint(i),
			})
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
}

// TestAuditTimeRange keeps events at or after Since and before Until. The events are
// dated within the last hour, which no other test prunes.
func TestAuditTimeRange(t *testing.T) {
	t.Parallel()
	r := newRegistry(t)
	repo := repoName(t)
	base := time.Now().Add(-30 * time.Minute).Truncate(time.Second)
	var times []time.Time
	for i := range 6 {
		times = append(times, base.Add(time.Duration(i)*time.Second))
	}
	putDated(t, r, repo, times...)
	got := auditAll(t, r, AuditQuery{Repository: repo, Since: times[1], Until: times[4]})
	var tags []string
	for _, e := range got {
		tags = append(tags, e.Tag)
	}
	if !slices.Equal(tags, []string{"1", "2", "3"}) {
		t.Fatalf("events from 1 until 4 = %q", tags)
	}
}

// TestEventRetention prunes events older than Options.EventRetention. Other tests'
// registries prune only past 7 days, so the events of two hours ago stay until this
// test prunes them.
func TestEventRetention(t *testing.T) {
	t.Parallel()
	r := New(testStore(t), testDriver(t, ""), discard, Options{EventRetention: time.Hour})
	repo := repoName(t)
	now := time.Now()
	putDated(t, r, repo, now.Add(-2*time.Hour), now.Add(-90*time.Minute), now.Add(-time.Minute))
	if got := auditAll(t, r, AuditQuery{Repository: repo}); len(got) != 3 {
		t.Fatalf("%d events before pruning, want 3", len(got))
	}
	r.prune(context.Background())
	got := auditAll(t, r, AuditQuery{Repository: repo})
	if len(got) != 1 || got[0].Tag != "2" {
		t.Fatalf("events after pruning = %+v, want only the last", got)
	}
}
