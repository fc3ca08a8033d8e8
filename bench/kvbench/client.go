package main

import (
	"bytes"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"time"
)

// Media types of the small images the benchmark pushes.
const (
	mtManifest = "application/vnd.oci.image.manifest.v1+json"
	mtConfig   = "application/vnd.oci.image.config.v1+json"
	mtLayer    = "application/vnd.oci.image.layer.v1.tar"
)

// adminPassword is the password of the admin user of the registries the benchmark
// starts (BERTH_ADMIN_PASSWORD); it is random per run.
var adminPassword = func() string {
	b := make([]byte, 18)
	if _, err := rand.Read(b); err != nil {
		panic(err)
	}
	return base64.RawURLEncoding.EncodeToString(b)
}()

// client speaks the distribution API to one registry over keep-alive connections.
type client struct {
	base string
	http *http.Client
}

func newClient(addr string) *client {
	tr := &http.Transport{MaxIdleConnsPerHost: 16}
	return &client{base: "http://" + addr, http: &http.Client{Timeout: time.Minute, Transport: tr}}
}

// do sends one request and fails unless the reply has status want.
func (c *client) do(want int, method, pathOrURL string, body []byte, hdr ...string) (
	*http.Response, []byte, error,
) {
	u, err := url.Parse(c.base)
	if err != nil {
		return nil, nil, err
	}
	ref, err := url.Parse(pathOrURL)
	if err != nil {
		return nil, nil, err
	}
	req, err := http.NewRequest(method, u.ResolveReference(ref).String(), bytes.NewReader(body))
	if err != nil {
		return nil, nil, err
	}
	for i := 0; i+1 < len(hdr); i += 2 {
		req.Header.Set(hdr[i], hdr[i+1])
	}
	req.SetBasicAuth("admin", adminPassword)
	resp, err := c.http.Do(req)
	if err != nil {
		return nil, nil, err
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		return nil, nil, err
	}
	if resp.StatusCode != want {
		return resp, b, fmt.Errorf("%s %s: %d %q, want %d", method, pathOrURL,
			resp.StatusCode, b, want)
	}
	return resp, b, nil
}

// pushBlob uploads b to repo with POST then PUT and returns its descriptor.
func (c *client) pushBlob(repo, mediaType string, b []byte) (descriptor, error) {
	d := descriptor{MediaType: mediaType, Digest: digestOf(b), Size: int64(len(b))}
	resp, _, err := c.do(http.StatusAccepted, "POST", "/v2/"+repo+"/blobs/uploads/", nil)
	if err != nil {
		return d, err
	}
	loc, err := url.Parse(resp.Header.Get("Location"))
	if err != nil {
		return d, err
	}
	q := loc.Query()
	q.Set("digest", d.Digest)
	loc.RawQuery = q.Encode()
	_, _, err = c.do(http.StatusCreated, "PUT", loc.String(), b,
		"Content-Type", "application/octet-stream")
	return d, err
}

// putManifest PUTs body under tag in repo.
func (c *client) putManifest(repo, tag string, body []byte) error {
	_, _, err := c.do(http.StatusCreated, "PUT", "/v2/"+repo+"/manifests/"+tag, body,
		"Content-Type", mtManifest)
	return err
}

// descriptor is an OCI content descriptor.
type descriptor struct {
	MediaType string `json:"mediaType"`
	Digest    string `json:"digest"`
	Size      int64  `json:"size"`
}

// image is a pushed config and layer; manifests over them differ by annotation.
type image struct {
	config, layer descriptor
}

// pushImageBlobs pushes a fresh config and a 4 KiB random layer to repo.
func (c *client) pushImageBlobs(repo string) (image, error) {
	layer := make([]byte, 4096)
	rand.Read(layer)
	config := []byte(`{"architecture":"amd64","os":"linux","rootfs":{"type":"layers",` +
		`"diff_ids":["` + digestOf(layer) + `"]}}`)
	var img image
	var err error
	if img.config, err = c.pushBlob(repo, mtConfig, config); err != nil {
		return img, err
	}
	img.layer, err = c.pushBlob(repo, mtLayer, layer)
	return img, err
}

// manifest returns an image manifest over img, made distinct by note.
func (img image) manifest(note string) []byte {
	b, _ := json.Marshal(map[string]any{
		"schemaVersion": 2, "mediaType": mtManifest, "config": img.config,
		"layers": []descriptor{img.layer}, "annotations": map[string]string{"kvbench": note},
	})
	return b
}

func digestOf(b []byte) string {
	sum := sha256.Sum256(b)
	return "sha256:" + hex.EncodeToString(sum[:])
}
