package main

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"path/filepath"
	"strings"

	"berth.dev/berth/plugins"
	"berth.dev/berth/policies"
	"berth.dev/berth/registry"
	"berth.dev/berth/sdk"
)

// admission asks the policy engine on behalf of the registry core.
type admission struct {
	e *policies.Engine
}

func (a admission) AdmitPush(ctx context.Context, p registry.PushInfo) error {
	return denied(a.e.Push(ctx, sdk.PushRequest{
		Repository: p.Repository, Tag: p.Tag, Digest: p.Digest.String(),
		MediaType: p.MediaType, Manifest: policies.Summarize(p.Manifest),
	}))
}

func (a admission) AdmitPull(ctx context.Context, p registry.PullInfo) error {
	return denied(a.e.Pull(ctx, sdk.PullRequest{
		Repository: p.Repository, Reference: p.Reference, Digest: p.Digest.String(),
		MediaType: p.MediaType,
	}))
}

func (a admission) AdmitDelete(ctx context.Context, d registry.DeleteInfo) error {
	return denied(a.e.Delete(ctx, sdk.DeleteRequest{
		Repository: d.Repository, Tag: d.Tag, Digest: d.Digest.String(),
	}))
}

// denied turns a policy's denial into the registry's, keeping the reason.
func denied(err error) error {
	if !errors.Is(err, policies.ErrDenied) {
		return err
	}
	reason := strings.TrimPrefix(err.Error(), policies.ErrDenied.Error()+": ")
	return fmt.Errorf("%w: %s", registry.ErrDenied, reason)
}

// startPolicies binds the configured policies; with none it returns nil, nil.
func startPolicies(ctx context.Context, specs []policies.BindingSpec, dataDir string,
	log *slog.Logger) (*policies.Engine, func(), error) {
	if len(specs) == 0 {
		return nil, func() {}, nil
	}
	host, err := plugins.NewHost(ctx, log,
		plugins.Config{CacheDir: filepath.Join(dataDir, "plugins-cache")})
	if err != nil {
		return nil, nil, err
	}
	e, err := policies.NewEngine(ctx, host, specs, log)
	if err != nil {
		host.Close(ctx)
		return nil, nil, err
	}
	return e, func() { e.Close(context.Background()); host.Close(context.Background()) }, nil
}
