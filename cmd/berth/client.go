package main

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"time"
)

// credentials are what `berth login` stores for the admin commands.
type credentials struct {
	URL      string `json:"url"`
	Username string `json:"username"`
	Password string `json:"password"`
}

// credentialsPath is $BERTH_CONFIG_DIR/credentials.json, by default under the
// user's configuration directory (~/.config/berth on Linux).
func credentialsPath() (string, error) {
	dir := os.Getenv("BERTH_CONFIG_DIR")
	if dir == "" {
		base, err := os.UserConfigDir()
		if err != nil {
			return "", fmt.Errorf("no configuration directory: set BERTH_CONFIG_DIR (%w)", err)
		}
		dir = filepath.Join(base, "berth")
	}
	return filepath.Join(dir, "credentials.json"), nil
}

// loadCredentials reads the stored login, then lets BERTH_URL, BERTH_USERNAME and
// BERTH_PASSWORD override it (for CI jobs that keep no file).
func loadCredentials() (credentials, error) {
	var c credentials
	path, err := credentialsPath()
	if err != nil {
		return c, err
	}
	b, err := os.ReadFile(path)
	if err == nil {
		if err := json.Unmarshal(b, &c); err != nil {
			return c, fmt.Errorf("%s is not valid: run `berth login` again", path)
		}
	} else if !errors.Is(err, os.ErrNotExist) {
		return c, err
	}
	for env, dst := range map[string]*string{
		"BERTH_URL": &c.URL, "BERTH_USERNAME": &c.Username, "BERTH_PASSWORD": &c.Password,
	} {
		if v := os.Getenv(env); v != "" {
			*dst = v
		}
	}
	if c.URL == "" || c.Username == "" {
		return c, errors.New("not logged in: run `berth login URL --username NAME` " +
			"or set BERTH_URL, BERTH_USERNAME and BERTH_PASSWORD")
	}
	return c, nil
}

// saveCredentials writes c readable by the owner only.
func saveCredentials(c credentials) (string, error) {
	path, err := credentialsPath()
	if err != nil {
		return "", err
	}
	if err := os.MkdirAll(filepath.Dir(path), 0o700); err != nil {
		return "", err
	}
	b, _ := json.MarshalIndent(c, "", "  ")
	tmp := path + ".tmp"
	if err := os.WriteFile(tmp, b, 0o600); err != nil {
		return "", err
	}
	return path, os.Rename(tmp, path)
}

// apiClient calls Berth's admin API with Basic credentials.
type apiClient struct {
	creds credentials
	http  *http.Client
}

func newAPIClient() (*apiClient, error) {
	c, err := loadCredentials()
	if err != nil {
		return nil, err
	}
	return &apiClient{creds: c, http: &http.Client{Timeout: time.Minute}}, nil
}

// apiError is an error answer of the API, shown as its message and code.
type apiError struct {
	Status  int
	Code    string
	Message string
}

func (e *apiError) Error() string {
	return fmt.Sprintf("%s (%s, HTTP %d)", e.Message, e.Code, e.Status)
}

// call sends in (nil for no body) as JSON and decodes the answer into out (nil to
// drop it).
func (c *apiClient) call(ctx context.Context, method, path string, in, out any) error {
	var body io.Reader
	if in != nil {
		b, err := json.Marshal(in)
		if err != nil {
			return err
		}
		body = bytes.NewReader(b)
	}
	u := strings.TrimSuffix(c.creds.URL, "/") + "/api/v1" + path
	req, err := http.NewRequestWithContext(ctx, method, u, body)
	if err != nil {
		return err
	}
	req.SetBasicAuth(c.creds.Username, c.creds.Password)
	req.Header.Set("Content-Type", "application/json")
	resp, err := c.http.Do(req)
	if err != nil {
		return fmt.Errorf("cannot reach %s: %w", c.creds.URL, errors.Unwrap(err))
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(io.LimitReader(resp.Body, 16<<20))
	if err != nil {
		return err
	}
	if resp.StatusCode >= 300 {
		return answerError(resp.StatusCode, b)
	}
	if out == nil || len(b) == 0 {
		return nil
	}
	return json.Unmarshal(b, out)
}

// answerError decodes an OCI-style error body.
func answerError(status int, b []byte) error {
	var e struct {
		Errors []struct {
			Code    string `json:"code"`
			Message string `json:"message"`
		} `json:"errors"`
	}
	if json.Unmarshal(b, &e) == nil && len(e.Errors) > 0 {
		return &apiError{Status: status, Code: e.Errors[0].Code, Message: e.Errors[0].Message}
	}
	return &apiError{Status: status, Code: "UNKNOWN", Message: http.StatusText(status)}
}

// esc escapes one path segment (robot names hold '$' and '+').
func esc(s string) string { return url.PathEscape(s) }
