package registry

import (
	"context"
	"strings"
	"time"

	"berth.dev/berth/kvnode"
)

// ActionAdminPrefix starts the action of every admin event ("admin:project.create").
const ActionAdminPrefix = "admin:"

// Bounds of one Audit call.
const (
	// DefaultAuditLimit is the page size of an AuditQuery without a Limit.
	DefaultAuditLimit = 100
	// MaxAuditLimit bounds the page size of an AuditQuery.
	MaxAuditLimit = 1000
	// auditScanPage is how many event keys one range read fetches.
	auditScanPage = 500
	// maxAuditScan bounds the event keys one Audit call reads, however selective
	// its filters, so that a page costs at most this much.
	maxAuditScan = 20 * auditScanPage
)

// RecordAdmin appends an admin event: Action "admin:"+action (for example
// "admin:project.create"), Target what changed (a project, "project/member/user", a
// user), Detail a short description, and the actor of ctx. Detail is stored as given:
// callers must keep secrets out of it.
func (r *Registry) RecordAdmin(ctx context.Context, action, target, detail string) error {
	return r.update(ctx, func(tx kvnode.Txn) error {
		r.putEvent(ctx, tx, Event{Action: ActionAdminPrefix + action, Target: target, Detail: detail})
		return nil
	})
}

// AuditQuery selects events for Audit; every non-zero field filters.
type AuditQuery struct {
	// Project keeps events of the project's repositories and admin events whose
	// Target is the project or starts with "<project>/".
	Project string
	// Repository keeps events of one repository.
	Repository string
	// Actor keeps events of one user or robot name.
	Actor string
	// Action keeps events of one action ("push", "admin:project.create"); an action
	// ending in ':' keeps every action it starts ("admin:").
	Action string
	// Since keeps events at or after it; Until keeps events before it.
	Since, Until time.Time
	// After continues from the event of this ID (the next of the previous page).
	After string
	// Limit bounds the events returned: zero means DefaultAuditLimit, and it is
	// capped at MaxAuditLimit.
	Limit int
}

// AuditEntry is one event of the audit log with its ID.
type AuditEntry struct {
	// ID identifies the event and orders it by time; it is usable as After.
	ID string
	Event
}

// Audit returns the events selected by q, oldest first, and the After of the next
// page ("" when the log has no more). One call reads a bounded number of events, so
// a selective query may return fewer than Limit events, even none, with a next
// cursor: keep calling until next is "". Events reach the log up to about a second
// late (buffered pulls) and transactions commit out of time order, so a reader
// following the tail should stay a few seconds behind it (Until in the past).
func (r *Registry) Audit(ctx context.Context, q AuditQuery) ([]AuditEntry, string, error) {
	limit := auditLimit(q.Limit)
	after, end := q.startKey(), q.endKey()
	out := []AuditEntry{}
	for scanned := 0; scanned < maxAuditScan; scanned += auditScanPage {
		kvs, err := r.store.Range(ctx, prefixEvent, after, auditScanPage)
		if err != nil {
			return nil, "", storeErr(err)
		}
		for _, kv := range kvs {
			if end != "" && kv.Key >= end {
				return out, "", nil
			}
			after = kv.Key
			if e, ok := q.match(kv); ok {
				out = append(out, e)
			}
			if len(out) == limit {
				return out, eventID(after), nil
			}
		}
		if len(kvs) < auditScanPage {
			return out, "", nil
		}
	}
	return out, eventID(after), nil
}

func auditLimit(n int) int {
	if n <= 0 {
		return DefaultAuditLimit
	}
	return min(n, MaxAuditLimit)
}

func eventID(key string) string { return strings.TrimPrefix(key, prefixEvent) }

// startKey is the key the scan starts after: the later of Since and After.
func (q AuditQuery) startKey() string {
	after := ""
	if q.Since.After(time.Unix(0, 0)) {
		after = eventKey(q.Since, "") // sorts before every key of that nanosecond
	}
	if q.After != "" && prefixEvent+q.After > after {
		after = prefixEvent + q.After
	}
	return after
}

// endKey is the first key the scan does not read, or "" without Until.
func (q AuditQuery) endKey() string {
	if q.Until.IsZero() {
		return ""
	}
	if !q.Until.After(time.Unix(0, 0)) {
		return prefixEvent // nothing is older than 1970
	}
	return eventKey(q.Until, "")
}

// match decodes an event key and reports whether q keeps it.
func (q AuditQuery) match(kv kvnode.KV) (AuditEntry, bool) {
	e, err := DecodeEvent(kv.Value)
	if err != nil {
		return AuditEntry{}, false
	}
	ok := (q.Repository == "" || e.Repository == q.Repository) &&
		(q.Actor == "" || e.Actor == q.Actor) &&
		(q.Action == "" || e.Action == q.Action ||
			strings.HasSuffix(q.Action, ":") && strings.HasPrefix(e.Action, q.Action)) &&
		(q.Project == "" || inProject(e, q.Project))
	return AuditEntry{ID: eventID(kv.Key), Event: e}, ok
}

// inProject reports whether e concerns project: a repository of it, or an admin
// change of it or of something inside it.
func inProject(e Event, project string) bool {
	if e.Repository != "" {
		return ProjectOf(e.Repository) == project
	}
	return e.Target == project || strings.HasPrefix(e.Target, project+"/")
}
