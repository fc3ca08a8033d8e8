package kvnode_test

import (
	"context"
	"io"
	"log/slog"
	"testing"

	"berth.dev/berth/kvnode"
	"berth.dev/berth/kvnode/storetest"
)

func startEmbedded(t *testing.T, dir string) kvnode.Store {
	t.Helper()
	s, err := kvnode.StartEmbedded(context.Background(), kvnode.EmbeddedConfig{Dir: dir},
		slog.New(slog.NewTextHandler(io.Discard, nil)))
	if err != nil {
		t.Fatal(err)
	}
	return s
}

func TestEmbeddedStore(t *testing.T) {
	dir := t.TempDir()
	s := startEmbedded(t, dir)
	defer s.Close()
	storetest.Run(t, s)
}

func TestEmbeddedRestartKeepsData(t *testing.T) {
	dir := t.TempDir()
	ctx := context.Background()
	s := startEmbedded(t, dir)
	if err := s.Put(ctx, "k", []byte("v")); err != nil {
		t.Fatal(err)
	}
	s.Close()
	s = startEmbedded(t, dir)
	defer s.Close()
	got, err := s.Get(ctx, "k")
	if err != nil || string(got) != "v" {
		t.Fatalf("after restart Get = %q, %v; want v", got, err)
	}
}
