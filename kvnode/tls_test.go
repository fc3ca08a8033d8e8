package kvnode_test

import (
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"math/big"
	"net"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"berth.dev/berth/kvnode"
)

// testCA writes a CA and one certificate for 127.0.0.1 signed by it (usable by
// servers and clients alike) into dir, and returns their file names.
func testCA(t *testing.T, dir string) (caFile, certFile, keyFile string) {
	t.Helper()
	caKey, _ := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	caTmpl := &x509.Certificate{
		SerialNumber: big.NewInt(1), Subject: pkix.Name{CommonName: "berth test CA"},
		NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().Add(time.Hour),
		IsCA: true, BasicConstraintsValid: true, KeyUsage: x509.KeyUsageCertSign,
	}
	caDER, err := x509.CreateCertificate(rand.Reader, caTmpl, caTmpl, &caKey.PublicKey, caKey)
	if err != nil {
		t.Fatal(err)
	}
	ca, _ := x509.ParseCertificate(caDER)
	key, _ := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	tmpl := &x509.Certificate{
		SerialNumber: big.NewInt(2), Subject: pkix.Name{CommonName: "member"},
		NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().Add(time.Hour),
		IPAddresses: []net.IP{net.ParseIP("127.0.0.1")}, DNSNames: []string{"localhost"},
		KeyUsage:    x509.KeyUsageDigitalSignature,
		ExtKeyUsage: []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth, x509.ExtKeyUsageClientAuth},
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, ca, &key.PublicKey, caKey)
	if err != nil {
		t.Fatal(err)
	}
	keyDER, _ := x509.MarshalECPrivateKey(key)
	caFile, certFile, keyFile = filepath.Join(dir, "ca.pem"), filepath.Join(dir, "cert.pem"),
		filepath.Join(dir, "key.pem")
	writePEM(t, caFile, "CERTIFICATE", caDER)
	writePEM(t, certFile, "CERTIFICATE", der)
	writePEM(t, keyFile, "EC PRIVATE KEY", keyDER)
	return caFile, certFile, keyFile
}

func writePEM(t *testing.T, file, typ string, der []byte) {
	t.Helper()
	data := pem.EncodeToMemory(&pem.Block{Type: typ, Bytes: der})
	if err := os.WriteFile(file, data, 0o600); err != nil {
		t.Fatal(err)
	}
}

// TestTLSMember runs a member with TLS on client and peer traffic and client
// certificate authentication: a client with the certificate works, one without is
// refused.
func TestTLSMember(t *testing.T) {
	dir := t.TempDir()
	caFile, certFile, keyFile := testCA(t, dir)
	files := kvnode.TLSFiles{CertFile: certFile, KeyFile: keyFile, CAFile: caFile}
	client, peer := freeURL(t), freeURL(t)
	client.Scheme, peer.Scheme = "https", "https"
	m, err := kvnode.StartMember(context.Background(), kvnode.MemberConfig{
		Name: "tls", Dir: filepath.Join(dir, "member"),
		ListenClient: []url.URL{client}, ListenPeer: []url.URL{peer},
		ClientTLS: files, PeerTLS: files,
	}, quiet)
	if err != nil {
		t.Fatal(err)
	}
	defer m.Close()

	ctx := context.Background()
	withCert := kvnode.ClientConfig{Endpoints: []string{client.String()}, TLS: files}
	s, err := kvnode.Dial(ctx, withCert, quiet)
	if err != nil {
		t.Fatalf("dial with a client certificate: %v", err)
	}
	defer s.Close()
	if err := s.Put(ctx, "tls/k", []byte("v")); err != nil {
		t.Fatal(err)
	}
	noCert := kvnode.TLSFiles{CAFile: caFile}
	cfg := kvnode.ClientConfig{
		Endpoints: []string{client.String()}, TLS: noCert, DialTimeout: 2 * time.Second,
	}
	if s2, err := kvnode.Dial(ctx, cfg, quiet); err == nil {
		s2.Close()
		t.Fatal("a client without a certificate was let in")
	}
}

// TestMembershipChanges adds a fourth member to a running cluster, lets it catch up,
// then removes it.
func TestMembershipChanges(t *testing.T) {
	endpoints := startCluster(t, 3)
	ctx := context.Background()
	s, err := kvnode.Dial(ctx, kvnode.ClientConfig{Endpoints: endpoints}, quiet)
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	if err := s.Put(ctx, "members/before", []byte("1")); err != nil {
		t.Fatal(err)
	}
	client, peer := freeURL(t), freeURL(t)
	var cluster string
	retryUnhealthy(t, func() (err error) {
		cluster, err = s.AddMember(ctx, "m3", []string{peer.String()})
		return err
	})
	m, err := kvnode.StartMember(ctx, kvnode.MemberConfig{
		Name: "m3", Dir: t.TempDir(), ListenClient: []url.URL{client},
		ListenPeer: []url.URL{peer}, InitialCluster: cluster, InitialClusterState: "existing",
	}, quiet)
	if err != nil {
		t.Fatalf("start the added member: %v", err)
	}
	defer m.Close()
	if v, err := m.Store().Get(ctx, "members/before"); err != nil || string(v) != "1" {
		t.Fatalf("new member reads %q, %v; want the data written before it joined", v, err)
	}
	if ms, _ := s.Members(ctx); len(ms) != 4 {
		t.Fatalf("%d members after add, want 4", len(ms))
	}
	retryUnhealthy(t, func() error { return s.RemoveMember(ctx, "m3") })
	if ms, _ := s.Members(ctx); len(ms) != 3 {
		t.Fatalf("%d members after remove, want 3", len(ms))
	}
	if err := s.RemoveMember(ctx, "nobody"); err == nil {
		t.Fatal("removing an unknown member succeeded")
	}
}

// retryUnhealthy retries fn while etcd refuses a membership change that it cannot
// prove safe yet ("unhealthy cluster"): it wants every member connected for a few
// seconds first, which members started a moment ago are not.
func retryUnhealthy(t *testing.T, fn func() error) {
	t.Helper()
	deadline := time.Now().Add(30 * time.Second)
	for {
		err := fn()
		if err == nil {
			return
		}
		if !strings.Contains(err.Error(), "unhealthy cluster") || time.Now().After(deadline) {
			t.Fatal(err)
		}
		time.Sleep(500 * time.Millisecond)
	}
}
