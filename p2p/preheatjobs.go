package p2p

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/libp2p/go-libp2p/core/peer"
	"github.com/opencontainers/go-digest"

	"berth.dev/berth/kvnode"
)

// Keys of preheat jobs (docs/keyspace.md). Job IDs are 22 hex digits that sort by
// creation time, so the keys of jobs still running are the last ones.
const (
	prefixPreheatJob    = "p2p/preheat/job/"
	prefixPreheatStatus = "p2p/preheat/status/"
	prefixPreheatAgent  = "p2p/preheat/agent/"
)

// Preheat job limits.
const (
	// DefaultPreheatTTL is how long a job stays open when its creator names no expiry.
	DefaultPreheatTTL = time.Hour
	// MaxPreheatTTL is the longest expiry a job may have.
	MaxPreheatTTL = 24 * time.Hour
	// AgentSeenWindow is how recently an agent must have polled for a new job to
	// expect it.
	AgentSeenWindow = 30 * time.Second
	// agentRecordTTL is the age past which job creation deletes an agent's record.
	agentRecordTTL = time.Hour
	// preheatRetention is how long a job is kept after it expired.
	preheatRetention = 24 * time.Hour
	// maxOpenScan bounds the job records one poll reads.
	maxOpenScan = 256
	// jobIDLen is the length of a job ID: 16 hex digits of time, 6 of randomness.
	jobIDLen = 22
)

// PreheatJob asks every agent to fetch one image into its cache.
type PreheatJob struct {
	ID string `json:"id"`
	// Image is the reference as the creator named it.
	Image string `json:"image"`
	// Repository and Digest are what the reference resolved to at creation.
	Repository string        `json:"repository"`
	Digest     digest.Digest `json:"digest"`
	Creator    string        `json:"creator"`
	Created    time.Time     `json:"created"`
	Expires    time.Time     `json:"expires"`
	// Agents are the peer ids of the agents seen polling when the job was created.
	Agents []string `json:"agents"`
}

// PreheatStatus is one agent's progress on a job.
type PreheatStatus struct {
	Agent       string    `json:"agent"`
	PiecesHave  int       `json:"pieces_have"`
	PiecesTotal int       `json:"pieces_total"`
	BytesHave   int64     `json:"bytes_have"`
	BytesTotal  int64     `json:"bytes_total"`
	Done        bool      `json:"done"`
	Error       string    `json:"error,omitempty"`
	Updated     time.Time `json:"updated"`
}

// Finished reports whether the agent is through with the job, done or failed.
func (s PreheatStatus) Finished() bool { return s.Done || s.Error != "" }

// PreheatSummary counts the expected agents by outcome.
type PreheatSummary struct {
	Expected int `json:"expected"`
	Done     int `json:"done"`
	Failed   int `json:"failed"`
}

// PreheatView is a job with every agent's progress, as the admin API shows it.
type PreheatView struct {
	PreheatJob
	// Statuses lists the expected agents (pending ones with zero progress), then
	// agents that joined later.
	Statuses []PreheatStatus `json:"statuses"`
	Summary  PreheatSummary  `json:"summary"`
	// Finished reports whether every expected agent is done or failed, or the job
	// expired.
	Finished bool `json:"finished"`
}

// Creator is who created a job; the agents' pull tokens are minted in its name, so
// they grant no more than the creator may still pull.
type Creator struct {
	Name string `json:"name"`
	// Kind is "user" or "robot".
	Kind string `json:"kind"`
	// ID is the account's ID, so that a namesake created later inherits nothing.
	ID string `json:"id"`
}

// jobRecord is the value at p2p/preheat/job/<id>.
type jobRecord struct {
	PreheatJob
	By Creator `json:"by"`
}

// OpenPreheat is a job an agent has not finished yet, as a poll finds it.
type OpenPreheat struct {
	Job PreheatJob
	By  Creator
}

// agentRecord is the value at p2p/preheat/agent/<peer id>.
type agentRecord struct {
	Seen time.Time `json:"seen"`
}

// Preheats keeps preheat jobs, the agents' progress and the agents seen polling in
// the metadata store, so that every gateway replica answers alike. It is the
// gateway's side of preheats; the agent's is Agent.RunPreheats.
type Preheats struct {
	store kvnode.Store
	key   []byte
	// Now returns the current time; tests move it.
	Now func() time.Time
}

// NewPreheats returns the preheat jobs over store; agents prove knowledge of
// networkKey.
func NewPreheats(store kvnode.Store, networkKey []byte) *Preheats {
	return &Preheats{store: store, key: networkKey, Now: time.Now}
}

// VerifyAgent checks an agent's proof headers (see SignAgent) and returns its peer id.
func (p *Preheats) VerifyAgent(id, ts, mac string) (string, error) {
	id, err := VerifyAgent(p.key, id, ts, mac, p.Now())
	if err != nil {
		return "", err
	}
	if _, err := peer.Decode(id); err != nil {
		return "", fmt.Errorf("%w: %s is not a peer id", ErrAgentAuth, HeaderPeerID)
	}
	return id, nil
}

// Create stores a job for repository at digest d that expires after ttl (zero:
// DefaultPreheatTTL) and expects the agents seen in the last AgentSeenWindow.
func (p *Preheats) Create(
	ctx context.Context, image, repository string, d digest.Digest, by Creator,
	ttl time.Duration,
) (PreheatJob, error) {
	if ttl == 0 {
		ttl = DefaultPreheatTTL
	}
	if ttl < 0 || ttl > MaxPreheatTTL {
		return PreheatJob{}, fmt.Errorf("%w: expiry %v outside (0, %v]", ErrPreheatInvalid,
			ttl, MaxPreheatTTL)
	}
	agents, err := p.recentAgents(ctx)
	if err != nil {
		return PreheatJob{}, err
	}
	now := p.Now().UTC()
	job := PreheatJob{ID: newJobID(now), Image: image, Repository: repository, Digest: d,
		Creator: by.Name, Created: now, Expires: now.Add(ttl), Agents: agents}
	b, _ := json.Marshal(jobRecord{PreheatJob: job, By: by})
	if err := p.store.Put(ctx, prefixPreheatJob+job.ID, b); err != nil {
		return PreheatJob{}, err
	}
	p.prune(ctx)
	return job, nil
}

// newJobID returns an ID that sorts by creation time.
func newJobID(now time.Time) string {
	var r [3]byte
	rand.Read(r[:])
	return fmt.Sprintf("%016x%s", now.UnixNano(), hex.EncodeToString(r[:]))
}

// validJobID reports whether id has the shape of newJobID's IDs.
func validJobID(id string) bool {
	if len(id) != jobIDLen {
		return false
	}
	_, err := hex.DecodeString(id)
	return err == nil && strings.ToLower(id) == id
}

// recentAgents returns the agents seen in the last AgentSeenWindow, in key order,
// and deletes the records of agents gone for longer than agentRecordTTL.
func (p *Preheats) recentAgents(ctx context.Context) ([]string, error) {
	now := p.Now()
	agents := []string{}
	after := ""
	for {
		kvs, err := p.store.Range(ctx, prefixPreheatAgent, after, 1000)
		if err != nil {
			return nil, err
		}
		for _, kv := range kvs {
			var rec agentRecord
			if json.Unmarshal(kv.Value, &rec) != nil || now.Sub(rec.Seen) > agentRecordTTL {
				p.store.Delete(ctx, kv.Key)
				continue
			}
			if now.Sub(rec.Seen) <= AgentSeenWindow {
				agents = append(agents, strings.TrimPrefix(kv.Key, prefixPreheatAgent))
			}
		}
		if len(kvs) < 1000 {
			return agents, nil
		}
		after = kvs[len(kvs)-1].Key
	}
}

// prune deletes a few of the oldest jobs that expired more than preheatRetention
// ago, with their progress records. Failures are left for the next creation.
func (p *Preheats) prune(ctx context.Context) {
	kvs, err := p.store.Range(ctx, prefixPreheatJob, "", 16)
	if err != nil {
		return
	}
	for _, kv := range kvs {
		var rec jobRecord
		if json.Unmarshal(kv.Value, &rec) == nil &&
			p.Now().Sub(rec.Expires) < preheatRetention {
			return
		}
		id := strings.TrimPrefix(kv.Key, prefixPreheatJob)
		sts, err := p.store.Range(ctx, prefixPreheatStatus+id+"/", "", 0)
		if err != nil {
			return
		}
		for _, st := range sts {
			p.store.Delete(ctx, st.Key)
		}
		p.store.Delete(ctx, kv.Key)
	}
}

// Job returns job id with its progress.
func (p *Preheats) Job(ctx context.Context, id string) (PreheatView, error) {
	rec, err := p.record(ctx, id)
	if err != nil {
		return PreheatView{}, err
	}
	return p.view(ctx, rec.PreheatJob)
}

// record reads the record of job id.
func (p *Preheats) record(ctx context.Context, id string) (jobRecord, error) {
	var rec jobRecord
	if !validJobID(id) {
		return rec, fmt.Errorf("%w: %q", ErrPreheatNotFound, clipID(id))
	}
	b, err := p.store.Get(ctx, prefixPreheatJob+id)
	if errors.Is(err, kvnode.ErrNotFound) {
		return rec, fmt.Errorf("%w: %s", ErrPreheatNotFound, id)
	}
	if err != nil {
		return rec, err
	}
	if err := json.Unmarshal(b, &rec); err != nil {
		return rec, fmt.Errorf("p2p: preheat job %s: %w", id, err)
	}
	return rec, nil
}

// clipID shortens an ID from a request for an error message.
func clipID(id string) string {
	if len(id) > 64 {
		return id[:64] + "..."
	}
	return id
}

// Jobs returns up to limit jobs created after the job after ("" from the oldest),
// oldest first, with their progress.
func (p *Preheats) Jobs(ctx context.Context, after string, limit int) ([]PreheatView, error) {
	from := ""
	if after != "" {
		from = prefixPreheatJob + after
	}
	kvs, err := p.store.Range(ctx, prefixPreheatJob, from, limit)
	if err != nil {
		return nil, err
	}
	out := make([]PreheatView, 0, len(kvs))
	for _, kv := range kvs {
		var rec jobRecord
		if err := json.Unmarshal(kv.Value, &rec); err != nil {
			return nil, fmt.Errorf("p2p: %s: %w", kv.Key, err)
		}
		v, err := p.view(ctx, rec.PreheatJob)
		if err != nil {
			return nil, err
		}
		out = append(out, v)
	}
	return out, nil
}

// view adds the agents' progress to job.
func (p *Preheats) view(ctx context.Context, job PreheatJob) (PreheatView, error) {
	kvs, err := p.store.Range(ctx, prefixPreheatStatus+job.ID+"/", "", 0)
	if err != nil {
		return PreheatView{}, err
	}
	got := map[string]PreheatStatus{}
	for _, kv := range kvs {
		var st PreheatStatus
		if json.Unmarshal(kv.Value, &st) == nil {
			got[st.Agent] = st
		}
	}
	v := PreheatView{PreheatJob: job, Statuses: []PreheatStatus{},
		Summary: PreheatSummary{Expected: len(job.Agents)}}
	for _, a := range job.Agents {
		st, ok := got[a]
		if !ok {
			st = PreheatStatus{Agent: a}
		}
		delete(got, a)
		v.Statuses = append(v.Statuses, st)
		switch {
		case st.Done:
			v.Summary.Done++
		case st.Error != "":
			v.Summary.Failed++
		}
	}
	for _, kv := range kvs { // agents that joined later, in key order
		var st PreheatStatus
		if json.Unmarshal(kv.Value, &st) == nil && got[st.Agent].Agent != "" {
			v.Statuses = append(v.Statuses, st)
		}
	}
	v.Finished = v.Summary.Done+v.Summary.Failed == v.Summary.Expected ||
		p.Now().After(job.Expires)
	return v, nil
}

// Poll records that agent polled and returns the open jobs it has not finished:
// one write and one range read, plus one read per open job.
func (p *Preheats) Poll(ctx context.Context, agent string) ([]OpenPreheat, error) {
	now := p.Now().UTC()
	b, _ := json.Marshal(agentRecord{Seen: now})
	if err := p.store.Put(ctx, prefixPreheatAgent+agent, b); err != nil {
		return nil, err
	}
	// Jobs created before now-MaxPreheatTTL have expired: start after them.
	from := prefixPreheatJob + fmt.Sprintf("%016x", now.Add(-MaxPreheatTTL).UnixNano())
	kvs, err := p.store.Range(ctx, prefixPreheatJob, from, maxOpenScan)
	if err != nil {
		return nil, err
	}
	var out []OpenPreheat
	for _, kv := range kvs {
		var rec jobRecord
		if json.Unmarshal(kv.Value, &rec) != nil || now.After(rec.Expires) {
			continue
		}
		finished, err := p.finishedBy(ctx, rec.ID, agent)
		if err != nil {
			return nil, err
		}
		if !finished {
			out = append(out, OpenPreheat{Job: rec.PreheatJob, By: rec.By})
		}
	}
	return out, nil
}

// finishedBy reports whether agent reported job id done or failed.
func (p *Preheats) finishedBy(ctx context.Context, id, agent string) (bool, error) {
	b, err := p.store.Get(ctx, prefixPreheatStatus+id+"/"+agent)
	if errors.Is(err, kvnode.ErrNotFound) {
		return false, nil
	}
	if err != nil {
		return false, err
	}
	var st PreheatStatus
	return json.Unmarshal(b, &st) == nil && st.Finished(), nil
}

// Report stores agent's progress on job id.
func (p *Preheats) Report(ctx context.Context, id, agent string, st PreheatStatus) error {
	if _, err := p.record(ctx, id); err != nil {
		return err
	}
	if st.PiecesHave < 0 || st.PiecesTotal < 0 || st.BytesHave < 0 || st.BytesTotal < 0 ||
		len(st.Error) > 1024 {
		return fmt.Errorf("%w: report with negative counts or an error over 1 KiB",
			ErrPreheatInvalid)
	}
	st.Agent, st.Updated = agent, p.Now().UTC()
	b, _ := json.Marshal(st)
	return p.store.Put(ctx, prefixPreheatStatus+id+"/"+agent, b)
}
