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
	"strings"
	"time"

	"berth.dev/berth/policies"
)

// apiCatalog is the plugin catalog of a running gateway, reached through the
// admin API (docs/api.md) with Basic credentials.
//
// TODO(login): take the server and credentials stored by `berth login` once it
// exists; until then --server, --user and BERTH_PASSWORD name them.
type apiCatalog struct {
	base     string // http(s)://host:port
	user     string
	password string
	client   *http.Client
}

func newAPICatalog(server, user string) (*apiCatalog, error) {
	if !strings.Contains(server, "://") {
		server = "http://" + server
	}
	u, err := url.Parse(server)
	if err != nil || u.Host == "" {
		return nil, fmt.Errorf("--server %q is not a URL", server)
	}
	pw := os.Getenv("BERTH_PASSWORD")
	if user == "" || pw == "" {
		return nil, errors.New("with --server, give --user NAME and the password in BERTH_PASSWORD")
	}
	return &apiCatalog{base: strings.TrimSuffix(u.String(), "/"), user: user, password: pw,
		client: &http.Client{Timeout: 5 * time.Minute}}, nil
}

// do sends a request to path and decodes a JSON answer into out (nil skips it).
func (a *apiCatalog) do(ctx context.Context, method, path, ctype string, body []byte,
	out any) error {
	req, err := http.NewRequestWithContext(ctx, method, a.base+"/api/v1"+path,
		bytes.NewReader(body))
	if err != nil {
		return err
	}
	req.SetBasicAuth(a.user, a.password)
	if ctype != "" {
		req.Header.Set("Content-Type", ctype)
	}
	resp, err := a.client.Do(req)
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	if resp.StatusCode >= 300 {
		return apiFailure(resp)
	}
	if out == nil {
		return nil
	}
	return json.NewDecoder(resp.Body).Decode(out)
}

// apiFailure turns an error answer into an error with the server's message.
func apiFailure(resp *http.Response) error {
	var body struct {
		Errors []struct{ Code, Message string } `json:"errors"`
	}
	b, _ := io.ReadAll(io.LimitReader(resp.Body, 64<<10))
	if json.Unmarshal(b, &body) == nil && len(body.Errors) > 0 {
		return fmt.Errorf("%s: %s", body.Errors[0].Code, body.Errors[0].Message)
	}
	return fmt.Errorf("server answered %s", resp.Status)
}

func (a *apiCatalog) Install(ctx context.Context, name string,
	wasm []byte) (policies.PluginRecord, error) {
	var rec policies.PluginRecord
	err := a.do(ctx, http.MethodPost, "/plugins?name="+url.QueryEscape(name),
		"application/wasm", wasm, &rec)
	return rec, err
}

func (a *apiCatalog) Plugins(ctx context.Context) ([]policies.PluginRecord, error) {
	var out struct{ Items []policies.PluginRecord }
	err := a.do(ctx, http.MethodGet, "/plugins", "", nil, &out)
	return out.Items, err
}

func (a *apiCatalog) Uninstall(ctx context.Context, name string) error {
	return a.do(ctx, http.MethodDelete, "/plugins/"+url.PathEscape(name), "", nil, nil)
}

func (a *apiCatalog) Attach(ctx context.Context, b policies.Binding) (policies.Binding, error) {
	body, err := json.Marshal(b)
	if err != nil {
		return b, err
	}
	var got policies.Binding
	err = a.do(ctx, http.MethodPost, "/policies", "application/json", body, &got)
	return got, err
}

func (a *apiCatalog) Bindings(ctx context.Context) ([]policies.Binding, error) {
	var out struct{ Items []policies.Binding }
	err := a.do(ctx, http.MethodGet, "/policies", "", nil, &out)
	return out.Items, err
}

func (a *apiCatalog) Detach(ctx context.Context, id string) error {
	return a.do(ctx, http.MethodDelete, "/policies/"+url.PathEscape(id), "", nil, nil)
}

func (a *apiCatalog) Binding(ctx context.Context, id string) (policies.Binding, error) {
	bs, err := a.Bindings(ctx)
	for _, b := range bs {
		if b.ID == id {
			return b, nil
		}
	}
	if err == nil {
		err = fmt.Errorf("%w: %q", policies.ErrNoBinding, id)
	}
	return policies.Binding{}, err
}
