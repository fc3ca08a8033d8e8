package p2p

import (
	"context"
	"encoding/json"
	"math/rand/v2"
	"time"

	"github.com/libp2p/go-libp2p/core/peer"
	"github.com/opencontainers/go-digest"

	"berth.dev/berth/kvnode"
)

// Tracker limits.
const (
	// AnnounceTTL is how long an agent stays listed for a blob after asking for it.
	AnnounceTTL = 10 * time.Minute
	// maxSources is the most agents one piece-map answer lists.
	maxSources = 16
	// trackerScan is the most tracker records read per answer.
	trackerScan = 64
)

// Source is a peer that holds or fetches a blob.
type Source struct {
	ID    string   `json:"id"`
	Addrs []string `json:"addrs"`
	// Seed reports whether the source is a gateway replica's seed.
	Seed bool `json:"seed,omitempty"`
}

// trackerRecord is the value at p2p/peer/<digest>/<peer id>.
type trackerRecord struct {
	Addrs   []string  `json:"addrs"`
	Expires time.Time `json:"expires"`
}

// tracker records in metadata which agents fetch which blob.
type tracker struct{ store kvnode.Store }

func trackerPrefix(d digest.Digest) string { return "p2p/peer/" + d.String() + "/" }

// announce lists p (at addrs) as a source of d for AnnounceTTL.
func (t tracker) announce(ctx context.Context, d digest.Digest, p peer.ID, addrs []string) error {
	b, _ := json.Marshal(trackerRecord{Addrs: addrs, Expires: time.Now().Add(AnnounceTTL).UTC()})
	return t.store.Put(ctx, trackerPrefix(d)+p.String(), b)
}

// sources returns up to maxSources unexpired agents of d other than self, in
// random order, and deletes the expired records it read.
func (t tracker) sources(ctx context.Context, d digest.Digest, self peer.ID) ([]Source, error) {
	kvs, err := t.store.Range(ctx, trackerPrefix(d), "", trackerScan)
	if err != nil {
		return nil, err
	}
	now := time.Now()
	var out []Source
	for _, kv := range kvs {
		id := kv.Key[len(trackerPrefix(d)):]
		var rec trackerRecord
		if json.Unmarshal(kv.Value, &rec) != nil || now.After(rec.Expires) {
			t.store.Delete(ctx, kv.Key)
			continue
		}
		if id != self.String() {
			out = append(out, Source{ID: id, Addrs: rec.Addrs})
		}
	}
	rand.Shuffle(len(out), func(i, j int) { out[i], out[j] = out[j], out[i] })
	return out[:min(len(out), maxSources)], nil
}
