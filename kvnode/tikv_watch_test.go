package kvnode

import (
	"fmt"
	"testing"
)

// TestTiKVWatchDiff checks how a poll turns the journal and a scan into changes: journaled
// changes first in commit order, then what the scan still shows differently, by key.
func TestTiKVWatchDiff(t *testing.T) {
	put := func(k, v string) Change { return Change{Key: k, Value: []byte(v)} }
	del := func(k string) Change { return Change{Key: k, Deleted: true} }
	tests := []struct {
		name    string
		state   map[string][]byte
		journal []stamped
		next    []KV
		want    []Change
	}{
		{name: "nothing changed", state: map[string][]byte{"a": []byte("1")},
			next: []KV{{"a", []byte("1")}}},
		{name: "remote changes in key order", state: map[string][]byte{"b": []byte("1")},
			next: []KV{{"a", []byte("1")}, {"c", []byte("2")}},
			want: []Change{put("a", "1"), del("b"), put("c", "2")}},
		{name: "journal keeps intermediate states", state: map[string][]byte{},
			journal: []stamped{{1, put("x", "1")}, {2, del("x")}},
			want:    []Change{put("x", "1"), del("x")}},
		{name: "remote change after a local one", state: map[string][]byte{},
			journal: []stamped{{1, put("x", "1")}}, next: []KV{{"x", []byte("2")}},
			want: []Change{put("x", "1"), put("x", "2")}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := diff(tt.state, tt.journal, tt.next)
			if fmt.Sprint(got) != fmt.Sprint(tt.want) {
				t.Fatalf("diff = %v, want %v", got, tt.want)
			}
		})
	}
}

// TestTiKVWatchTake checks that the journal hands out the changes of one poll window in commit
// order, drops older ones and keeps newer ones.
func TestTiKVWatchTake(t *testing.T) {
	w := &tikvWatcher{prefix: "p/"}
	w.journal(30, []Change{{Key: "p/c"}, {Key: "other"}})
	w.journal(10, []Change{{Key: "p/a"}})
	w.journal(20, []Change{{Key: "p/b"}})
	w.journal(40, []Change{{Key: "p/d"}})
	got := w.take(10, 30)
	if len(got) != 2 || got[0].c.Key != "p/b" || got[1].c.Key != "p/c" {
		t.Fatalf("take(10, 30) = %v, want p/b then p/c", got)
	}
	if rest := w.take(30, 50); len(rest) != 1 || rest[0].c.Key != "p/d" {
		t.Fatalf("take(30, 50) = %v, want p/d", rest)
	}
}
