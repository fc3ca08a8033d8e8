package p2p

import (
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/libp2p/go-libp2p/core/peer"
)

// TestLoadIdentity creates an identity, reads it back as the same peer id, and
// refuses a file that holds no key.
func TestLoadIdentity(t *testing.T) {
	file := filepath.Join(t.TempDir(), "identity.key")
	first, err := LoadIdentity(file)
	if err != nil {
		t.Fatal(err)
	}
	again, err := LoadIdentity(file)
	if err != nil {
		t.Fatal(err)
	}
	id1, _ := peer.IDFromPrivateKey(first)
	id2, _ := peer.IDFromPrivateKey(again)
	if id1 != id2 {
		t.Errorf("peer id %s after a reload, want %s", id2, id1)
	}
	if fi, _ := os.Stat(file); fi.Mode().Perm() != 0o600 {
		t.Errorf("identity file mode %v, want 0600", fi.Mode().Perm())
	}
	os.WriteFile(file, []byte("not a key"), 0o600)
	if _, err := LoadIdentity(file); err == nil {
		t.Error("a file holding no key was accepted")
	}
}

func TestNetworkKey(t *testing.T) {
	dir := t.TempDir()
	file := filepath.Join(dir, "network.key")
	if _, err := LoadNetworkKey(file, false); err == nil {
		t.Error("a missing key file was accepted without create")
	}
	key, err := LoadNetworkKey(file, true)
	if err != nil || len(key) != 32 {
		t.Fatalf("created key: %d bytes, err %v", len(key), err)
	}
	tests := []struct{ name, text string }{
		{"short", strings.Repeat("ab", 31)},
		{"not hex", strings.Repeat("zz", 32)},
		{"empty", ""},
	}
	for _, tc := range tests {
		if _, err := ParseNetworkKey(tc.text); !errors.Is(err, ErrNetworkKey) {
			t.Errorf("%s: err %v, want ErrNetworkKey", tc.name, err)
		}
	}
}
