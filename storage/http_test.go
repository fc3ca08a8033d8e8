package storage

import (
	"fmt"
	"io"
	"net/http"
)

// httpGet returns the body of a 200 answer to GET u.
func httpGet(u string) (string, error) {
	resp, err := http.Get(u)
	if err != nil {
		return "", err
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		return "", err
	}
	if resp.StatusCode != http.StatusOK {
		return "", fmt.Errorf("GET: %s: %s", resp.Status, b)
	}
	return string(b), nil
}
