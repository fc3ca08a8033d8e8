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
	"strings"

	"berth.dev/berth/policies"
)

// apiCatalog is the plugin catalog of a running gateway, reached through the
// admin API (docs/api.md) with the credentials of `berth login`.
type apiCatalog struct{ c *apiClient }

var _ catalogClient = apiCatalog{}

func (a apiCatalog) Install(ctx context.Context, name string,
	wasm []byte) (policies.PluginRecord, error) {
	var rec policies.PluginRecord
	u := strings.TrimSuffix(a.c.creds.URL, "/") + "/api/v1/plugins?name=" + url.QueryEscape(name)
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, u, bytes.NewReader(wasm))
	if err != nil {
		return rec, err
	}
	req.SetBasicAuth(a.c.creds.Username, a.c.creds.Password)
	req.Header.Set("Content-Type", "application/wasm")
	resp, err := a.c.http.Do(req)
	if err != nil {
		return rec, fmt.Errorf("cannot reach %s: %w", a.c.creds.URL, errors.Unwrap(err))
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(io.LimitReader(resp.Body, 1<<20))
	if err != nil {
		return rec, err
	}
	if resp.StatusCode >= 300 {
		return rec, answerError(resp.StatusCode, b)
	}
	return rec, json.Unmarshal(b, &rec)
}

func (a apiCatalog) Plugins(ctx context.Context) ([]policies.PluginRecord, error) {
	var out struct{ Items []policies.PluginRecord }
	err := a.c.call(ctx, http.MethodGet, "/plugins", nil, &out)
	return out.Items, err
}

func (a apiCatalog) Uninstall(ctx context.Context, name string) error {
	return a.c.call(ctx, http.MethodDelete, "/plugins/"+esc(name), nil, nil)
}

func (a apiCatalog) Attach(ctx context.Context, b policies.Binding) (policies.Binding, error) {
	var got policies.Binding
	err := a.c.call(ctx, http.MethodPost, "/policies", b, &got)
	return got, err
}

func (a apiCatalog) Bindings(ctx context.Context) ([]policies.Binding, error) {
	var out struct{ Items []policies.Binding }
	err := a.c.call(ctx, http.MethodGet, "/policies", nil, &out)
	return out.Items, err
}

func (a apiCatalog) Binding(ctx context.Context, id string) (policies.Binding, error) {
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

func (a apiCatalog) Detach(ctx context.Context, id string) error {
	return a.c.call(ctx, http.MethodDelete, "/policies/"+esc(id), nil, nil)
}
