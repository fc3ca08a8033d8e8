package e2e

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"slices"
	"time"
)

// regClient speaks the distribution API with plain HTTP to one gateway. Unlike the
// server helpers it returns errors, so that concurrent pushers can share it.
type regClient struct {
	base string // http://host:port
	http *http.Client
}

// newRegClient returns a client of the registry at addr whose requests give up
// after timeout.
func newRegClient(addr string, timeout time.Duration) *regClient {
	tr := &http.Transport{MaxIdleConnsPerHost: 32, IdleConnTimeout: time.Minute}
	return &regClient{base: "http://" + addr, http: &http.Client{Timeout: timeout, Transport: tr}}
}

// do sends one request; pathOrURL is a path on the registry or an absolute URL.
// hdr holds header names and values in turn.
func (c *regClient) do(method, pathOrURL string, body []byte, hdr ...string) (reply, error) {
	u, err := url.Parse(c.base)
	if err != nil {
		return reply{}, err
	}
	ref, err := url.Parse(pathOrURL)
	if err != nil {
		return reply{}, err
	}
	req, err := http.NewRequest(method, u.ResolveReference(ref).String(), bytes.NewReader(body))
	if err != nil {
		return reply{}, err
	}
	for i := 0; i+1 < len(hdr); i += 2 {
		req.Header.Set(hdr[i], hdr[i+1])
	}
	withAdmin(req)
	resp, err := c.http.Do(req)
	if err != nil {
		return reply{}, err
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		return reply{}, fmt.Errorf("%s %s: reading body: %w", method, pathOrURL, err)
	}
	return reply{status: resp.StatusCode, header: resp.Header, body: b}, nil
}

// expect sends a request and fails unless the reply has status want.
func (c *regClient) expect(
	want int, method, pathOrURL string, body []byte, hdr ...string,
) (reply, error) {
	r, err := c.do(method, pathOrURL, body, hdr...)
	if err != nil {
		return r, err
	}
	if r.status != want {
		return r, &statusError{what: method + " " + pathOrURL, r: r, want: want}
	}
	return r, nil
}

// statusError is a reply whose status was not the one wanted.
type statusError struct {
	what string // method and path
	r    reply
	want int
}

func (e *statusError) Error() string {
	return fmt.Sprintf("%s: got %v, want %d", e.what, e.r, e.want)
}

// pushBlob uploads b to repo like crane does: POST a session, then PUT the bytes.
func (c *regClient) pushBlob(repo string, b []byte) error {
	r, err := c.expect(http.StatusAccepted, "POST", "/v2/"+repo+"/blobs/uploads/", nil)
	if err != nil {
		return err
	}
	loc, err := url.Parse(r.header.Get("Location"))
	if err != nil || r.header.Get("Location") == "" {
		return fmt.Errorf("POST upload in %s: bad Location %q", repo, r.header.Get("Location"))
	}
	q := loc.Query()
	q.Set("digest", sha256Digest(b))
	loc.RawQuery = q.Encode()
	_, err = c.expect(http.StatusCreated, "PUT", loc.String(), b,
		"Content-Type", "application/octet-stream")
	return err
}

// putManifest sends an OCI image manifest with PUT and returns the reply unchecked.
func (c *regClient) putManifest(repo, ref string, body []byte) (reply, error) {
	return c.do("PUT", "/v2/"+repo+"/manifests/"+ref, body, "Content-Type", mtManifest)
}

// pushImage uploads the blobs of img, then its manifest under tag, and returns the
// digest the registry acknowledged with 201.
func (c *regClient) pushImage(repo, tag string, img image) (string, error) {
	if err := c.pushBlob(repo, img.config); err != nil {
		return "", err
	}
	if err := c.pushBlob(repo, img.layer); err != nil {
		return "", err
	}
	r, err := c.putManifest(repo, tag, img.manifest)
	if err != nil {
		return "", err
	}
	if r.status != http.StatusCreated {
		return "", &statusError{what: "PUT manifest " + repo + ":" + tag, r: r, want: 201}
	}
	return r.header.Get("Docker-Content-Digest"), nil
}

// pulledDigest fetches repo:tag and returns the digest the registry names, after
// checking that the body has that digest.
func (c *regClient) pulledDigest(repo, tag string) (string, error) {
	r, err := c.expect(http.StatusOK, "GET", "/v2/"+repo+"/manifests/"+tag, nil,
		"Accept", mtManifest)
	if err != nil {
		return "", err
	}
	named := r.header.Get("Docker-Content-Digest")
	if body := sha256Digest(r.body); body != named {
		return "", fmt.Errorf("GET %s:%s: Docker-Content-Digest %s, body digest %s",
			repo, tag, named, body)
	}
	return named, nil
}

// tags returns every tag of repo, sorted, following the registry's pagination.
func (c *regClient) tags(repo string) ([]string, error) {
	var all []string
	last := ""
	for {
		path := "/v2/" + repo + "/tags/list?n=100&last=" + url.QueryEscape(last)
		r, err := c.expect(http.StatusOK, "GET", path, nil)
		if err != nil {
			return nil, err
		}
		var page struct {
			Tags []string `json:"tags"`
		}
		if err := json.Unmarshal(r.body, &page); err != nil {
			return nil, fmt.Errorf("GET %s: %v in %q", path, err, r.body)
		}
		all = append(all, page.Tags...)
		if len(page.Tags) < 100 {
			slices.Sort(all)
			return all, nil
		}
		last = page.Tags[len(page.Tags)-1]
	}
}

// pushed is a push the registry acknowledged with 201.
type pushed struct {
	repo, tag, digest string
}

// checkPulls returns one error for each acknowledged push that is not pullable
// with the digest the push was acknowledged with.
func checkPulls(c *regClient, acked []pushed) []error {
	var errs []error
	for _, p := range acked {
		got, err := c.pulledDigest(p.repo, p.tag)
		switch {
		case err != nil:
			errs = append(errs, fmt.Errorf("acknowledged %s:%s (%s): %v", p.repo, p.tag,
				p.digest, err))
		case got != p.digest:
			errs = append(errs, fmt.Errorf("%s:%s was acknowledged as %s, pulls as %s",
				p.repo, p.tag, p.digest, got))
		}
	}
	return errs
}
