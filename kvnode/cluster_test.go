package kvnode_test

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"testing"

	"berth.dev/berth/kvnode"
	"berth.dev/berth/kvnode/storetest"
)

var quiet = slog.New(slog.NewTextHandler(io.Discard, nil))

// freeURL returns an http URL on a free loopback port.
func freeURL(t *testing.T) url.URL {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	return url.URL{Scheme: "http", Host: l.Addr().String()}
}

// startCluster starts n members in this process, as `berth kvnode` would on n
// machines, and returns their client URLs.
func startCluster(t *testing.T, n int) []string {
	t.Helper()
	clients := make([]url.URL, n)
	peers := make([]url.URL, n)
	var initial []string
	for i := range n {
		clients[i], peers[i] = freeURL(t), freeURL(t)
		initial = append(initial, fmt.Sprintf("m%d=%s", i, peers[i].String()))
	}
	dir := t.TempDir()
	members := make([]*kvnode.Member, n)
	errs := make([]error, n)
	var wg sync.WaitGroup
	for i := range n { // members wait for each other, so start them together
		wg.Go(func() {
			members[i], errs[i] = kvnode.StartMember(context.Background(), kvnode.MemberConfig{
				Name: fmt.Sprintf("m%d", i), Dir: filepath.Join(dir, fmt.Sprint(i)),
				ListenClient: []url.URL{clients[i]}, ListenPeer: []url.URL{peers[i]},
				InitialCluster: strings.Join(initial, ","),
			}, quiet)
		})
	}
	wg.Wait()
	var endpoints []string
	for i, m := range members {
		if errs[i] != nil {
			t.Fatal(errs[i])
		}
		t.Cleanup(m.Close)
		endpoints = append(endpoints, clients[i].String())
	}
	return endpoints
}

// TestRemoteClusterStore runs the store suite through the network client against a
// three-member cluster: the backend of `berth gateway --kv-endpoints`.
func TestRemoteClusterStore(t *testing.T) {
	endpoints := startCluster(t, 3)
	s, err := kvnode.Dial(context.Background(), kvnode.ClientConfig{Endpoints: endpoints}, quiet)
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	members, err := s.Members(context.Background())
	if err != nil || len(members) != 3 {
		t.Fatalf("Members = %v, %v; want 3 members", members, err)
	}
	storetest.Run(t, s)
}

func TestDialWithoutMembersFails(t *testing.T) {
	u := freeURL(t)
	cfg := kvnode.ClientConfig{Endpoints: []string{u.String()}}
	_, err := kvnode.Dial(context.Background(), cfg, quiet)
	if err == nil {
		t.Fatal("Dial of an address where no member listens succeeded")
	}
}

// TestMemberOnTakenPort checks what StartEmbedded's retry relies on: a member whose
// port was taken after it was found free fails with EADDRINUSE and leaves its data
// directory empty, so that a start on other ports may use it.
func TestMemberOnTakenPort(t *testing.T) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	taken := url.URL{Scheme: "http", Host: l.Addr().String()}
	dir := filepath.Join(t.TempDir(), "member")
	for _, tc := range []struct {
		name         string
		client, peer url.URL
	}{
		{name: "client", client: taken, peer: freeURL(t)},
		{name: "peer", client: freeURL(t), peer: taken},
	} {
		_, err := kvnode.StartMember(context.Background(), kvnode.MemberConfig{
			Name: "m", Dir: dir, ListenClient: []url.URL{tc.client},
			ListenPeer: []url.URL{tc.peer},
		}, quiet)
		if !errors.Is(err, syscall.EADDRINUSE) {
			t.Fatalf("%s port taken: StartMember = %v, want EADDRINUSE", tc.name, err)
		}
		if entries, _ := os.ReadDir(dir); len(entries) != 0 {
			t.Fatalf("%s port taken: the data directory holds %d entries", tc.name, len(entries))
		}
	}
	s, err := kvnode.StartEmbedded(context.Background(), kvnode.EmbeddedConfig{Dir: dir}, quiet)
	if err != nil {
		t.Fatalf("StartEmbedded after the failed starts: %v", err)
	}
	s.Close()
}
