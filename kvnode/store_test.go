package kvnode

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"strconv"
	"sync"
	"testing"
)

func startEmbedded(t *testing.T, dir string) Store {
	t.Helper()
	s, err := StartEmbedded(context.Background(), EmbeddedConfig{Dir: dir},
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
	runStoreSuite(t, s)
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

// runStoreSuite checks the Store contract; every backend runs it.
func runStoreSuite(t *testing.T, s Store) {
	ctx := context.Background()
	t.Run("get-put-delete", func(t *testing.T) {
		if _, err := s.Get(ctx, "a/missing"); !errors.Is(err, ErrNotFound) {
			t.Fatalf("Get missing: %v, want ErrNotFound", err)
		}
		if err := s.Put(ctx, "a/1", []byte("one")); err != nil {
			t.Fatal(err)
		}
		if v, err := s.Get(ctx, "a/1"); err != nil || string(v) != "one" {
			t.Fatalf("Get = %q, %v", v, err)
		}
		if err := s.Delete(ctx, "a/1"); err != nil {
			t.Fatal(err)
		}
		if _, err := s.Get(ctx, "a/1"); !errors.Is(err, ErrNotFound) {
			t.Fatalf("Get deleted: %v", err)
		}
	})
	t.Run("range-pagination", func(t *testing.T) {
		for i := range 25 {
			if err := s.Put(ctx, fmt.Sprintf("r/%02d", i), []byte{byte(i)}); err != nil {
				t.Fatal(err)
			}
		}
		s.Put(ctx, "r0", []byte("outside"))
		var keys []string
		after := ""
		for {
			page, err := s.Range(ctx, "r/", after, 10)
			if err != nil {
				t.Fatal(err)
			}
			for _, kv := range page {
				keys = append(keys, kv.Key)
			}
			if len(page) < 10 {
				break
			}
			after = page[len(page)-1].Key
		}
		if len(keys) != 25 || keys[0] != "r/00" || keys[24] != "r/24" {
			t.Fatalf("paged keys = %v", keys)
		}
	})
	t.Run("update-atomic", func(t *testing.T) {
		boom := errors.New("boom")
		err := s.Update(ctx, func(tx Txn) error {
			tx.Put("u/x", []byte("1"))
			return boom
		})
		if !errors.Is(err, boom) {
			t.Fatalf("Update err = %v", err)
		}
		if _, err := s.Get(ctx, "u/x"); !errors.Is(err, ErrNotFound) {
			t.Fatalf("aborted write visible: %v", err)
		}
	})
	t.Run("update-contention", func(t *testing.T) {
		const workers, each = 8, 100
		var wg sync.WaitGroup
		for range workers {
			wg.Go(func() {
				for range each {
					err := s.Update(ctx, func(tx Txn) error {
						n := 0
						if v, err := tx.Get("c/n"); err == nil {
							n, _ = strconv.Atoi(string(v))
						} else if !errors.Is(err, ErrNotFound) {
							return err
						}
						tx.Put("c/n", []byte(strconv.Itoa(n+1)))
						return nil
					})
					if err != nil {
						t.Error(err)
						return
					}
				}
			})
		}
		wg.Wait()
		v, _ := s.Get(ctx, "c/n")
		if string(v) != strconv.Itoa(workers*each) {
			t.Fatalf("counter = %s, want %d", v, workers*each)
		}
	})
}
