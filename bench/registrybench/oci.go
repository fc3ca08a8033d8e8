package main

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"net/http"
	"net/url"

	"github.com/opencontainers/go-digest"
)

// client speaks the parts of the OCI Distribution API the benchmark needs. It sends
// the server's Basic credentials, if any, with every request.
type client struct {
	base       *url.URL
	hc         *http.Client
	user, pass string
}

func newClient(s *server) (*client, error) {
	base, err := url.Parse(s.url)
	if err != nil {
		return nil, err
	}
	return &client{base: base, hc: &http.Client{}, user: s.user, pass: s.pass}, nil
}

// do sends req and checks that the response has status want; the caller closes
// the body of a successful response.
func (c *client) do(req *http.Request, want int) (*http.Response, error) {
	resp, err := c.hc.Do(req)
	if err != nil {
		return nil, err
	}
	if resp.StatusCode != want {
		msg, _ := io.ReadAll(io.LimitReader(resp.Body, 300))
		resp.Body.Close()
		return nil, fmt.Errorf("%s %s: status %d, want %d: %s",
			req.Method, req.URL.Path, resp.StatusCode, want, bytes.TrimSpace(msg))
	}
	return resp, nil
}

func (c *client) request(ctx context.Context, method, ref string, body io.Reader,
) (*http.Request, error) {
	u, err := c.base.Parse(ref)
	if err != nil {
		return nil, err
	}
	req, err := http.NewRequestWithContext(ctx, method, u.String(), body)
	if err == nil && c.user != "" {
		req.SetBasicAuth(c.user, c.pass)
	}
	return req, err
}

// pushBlob uploads size bytes from body as blob dgst. Mode "put" sends the body in the
// closing PUT; mode "patch" sends it in one PATCH before an empty closing PUT.
func (c *client) pushBlob(ctx context.Context, repo string, body io.Reader, size int64,
	dgst digest.Digest, mode string) error {
	loc, err := c.startUpload(ctx, repo)
	if err != nil {
		return err
	}
	if mode == "patch" {
		loc, err = c.send(ctx, http.MethodPatch, loc, body, size, http.StatusAccepted)
		if err != nil {
			return err
		}
		body, size = http.NoBody, 0
	}
	loc, err = withDigest(loc, dgst)
	if err != nil {
		return err
	}
	_, err = c.send(ctx, http.MethodPut, loc, body, size, http.StatusCreated)
	return err
}

// startUpload opens an upload session and returns its location.
func (c *client) startUpload(ctx context.Context, repo string) (string, error) {
	req, err := c.request(ctx, http.MethodPost, "/v2/"+repo+"/blobs/uploads/", nil)
	if err != nil {
		return "", err
	}
	resp, err := c.do(req, http.StatusAccepted)
	if err != nil {
		return "", err
	}
	resp.Body.Close()
	return resp.Header.Get("Location"), nil
}

// send writes size bytes of body to loc and returns the Location of the answer.
func (c *client) send(ctx context.Context, method, loc string, body io.Reader, size int64,
	want int) (string, error) {
	req, err := c.request(ctx, method, loc, body)
	if err != nil {
		return "", err
	}
	req.ContentLength = size
	req.Header.Set("Content-Type", "application/octet-stream")
	resp, err := c.do(req, want)
	if err != nil {
		return "", err
	}
	io.Copy(io.Discard, resp.Body)
	resp.Body.Close()
	return resp.Header.Get("Location"), nil
}

func withDigest(loc string, dgst digest.Digest) (string, error) {
	u, err := url.Parse(loc)
	if err != nil {
		return "", err
	}
	q := u.Query()
	q.Set("digest", dgst.String())
	u.RawQuery = q.Encode()
	return u.String(), nil
}

// pullBlob downloads blob dgst, discards it and verifies its digest and length.
func (c *client) pullBlob(ctx context.Context, repo string, dgst digest.Digest,
	size int64) error {
	req, err := c.request(ctx, http.MethodGet, "/v2/"+repo+"/blobs/"+dgst.String(), nil)
	if err != nil {
		return err
	}
	resp, err := c.do(req, http.StatusOK)
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	verifier := dgst.Verifier()
	n, err := io.CopyBuffer(verifier, resp.Body, make([]byte, 1<<20))
	if err != nil {
		return fmt.Errorf("pull %s: %w", dgst, err)
	}
	if n != size || !verifier.Verified() {
		return fmt.Errorf("pull %s: got %d bytes that do not match the digest", dgst, n)
	}
	return nil
}

// putManifest uploads a manifest of the given media type under ref (a tag or digest).
func (c *client) putManifest(ctx context.Context, repo, ref, mediaType string,
	body []byte) error {
	req, err := c.request(ctx, http.MethodPut, "/v2/"+repo+"/manifests/"+ref,
		bytes.NewReader(body))
	if err != nil {
		return err
	}
	req.Header.Set("Content-Type", mediaType)
	resp, err := c.do(req, http.StatusCreated)
	if err != nil {
		return err
	}
	resp.Body.Close()
	return nil
}

// checkManifest GETs a manifest once and checks its media type and digest, so the
// load test below measures correct answers.
func (c *client) checkManifest(ctx context.Context, manifestURL, mediaType string,
	want digest.Digest) error {
	req, err := c.request(ctx, http.MethodGet, manifestURL, nil)
	if err != nil {
		return err
	}
	req.Header.Set("Accept", mediaType)
	resp, err := c.do(req, http.StatusOK)
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(resp.Body)
	if err != nil {
		return err
	}
	if got := resp.Header.Get("Content-Type"); got != mediaType {
		return fmt.Errorf("manifest GET: Content-Type %q, want %q", got, mediaType)
	}
	if got := digest.FromBytes(body); got != want {
		return fmt.Errorf("manifest GET: body digest %s, want %s", got, want)
	}
	return nil
}
