package main

import (
	"bufio"
	"bytes"
	"crypto/rand"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"io"
	"net/http"
	"strconv"
	"strings"
)

// do sends one request to the gateway with the admin's credentials.
func (g *gateway) do(method, path string, body []byte, ctype string) (*http.Response, error) {
	req, err := http.NewRequest(method, g.url+path, bytes.NewReader(body))
	if err != nil {
		return nil, err
	}
	req.SetBasicAuth("admin", g.password)
	if ctype != "" {
		req.Header.Set("Content-Type", ctype)
	}
	return http.DefaultClient.Do(req)
}

func (g *gateway) createProject(name string) error {
	body := fmt.Appendf(nil, `{"name":%q,"public":false}`, name)
	resp, err := g.do("POST", "/api/v1/projects", body, "application/json")
	if err != nil {
		return err
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusCreated && resp.StatusCode != http.StatusConflict {
		return fmt.Errorf("create project %s: %s", name, resp.Status)
	}
	return nil
}

// pushBlob uploads n random bytes to repo and returns their digest.
func (g *gateway) pushBlob(repo string, n int64) (string, error) {
	blob := make([]byte, n)
	rand.Read(blob)
	sum := sha256.Sum256(blob)
	dig := "sha256:" + hex.EncodeToString(sum[:])
	resp, err := g.do("POST", "/v2/"+repo+"/blobs/uploads/?digest="+dig, blob,
		"application/octet-stream")
	if err != nil {
		return "", err
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusCreated {
		return "", fmt.Errorf("push blob: %s", resp.Status)
	}
	return dig, nil
}

// metric sums the samples of name whose series contains label.
func metric(url, name, label string) (float64, error) {
	resp, err := http.Get(url)
	if err != nil {
		return 0, err
	}
	defer resp.Body.Close()
	sum := 0.0
	sc := bufio.NewScanner(resp.Body)
	sc.Buffer(nil, 1<<20)
	for sc.Scan() {
		series, value, ok := strings.Cut(sc.Text(), " ")
		if !ok || !strings.HasPrefix(series, name+"{") || !strings.Contains(series, label) {
			continue
		}
		v, err := strconv.ParseFloat(value, 64)
		if err != nil {
			return 0, err
		}
		sum += v
	}
	return sum, sc.Err()
}

// pull reads the blob through an agent with the admin's credentials and checks
// its digest.
func pull(url, password, dig string) error {
	req, err := http.NewRequest("GET", url, nil)
	if err != nil {
		return err
	}
	req.SetBasicAuth("admin", password)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return fmt.Errorf("GET: %s", resp.Status)
	}
	h := sha256.New()
	if _, err := io.Copy(h, resp.Body); err != nil {
		return err
	}
	if got := "sha256:" + hex.EncodeToString(h.Sum(nil)); got != dig {
		return fmt.Errorf("got %s, want %s", got, dig)
	}
	return nil
}
