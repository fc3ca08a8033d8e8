package registry

import (
	"context"
	"encoding/json"
	"errors"
	"strings"

	"github.com/opencontainers/go-digest"
	ocispec "github.com/opencontainers/image-spec/specs-go/v1"

	"berth.dev/berth/kvnode"
)

// MaxPage bounds one page of tags, repositories or referrers.
const MaxPage = 10000

// Tags returns up to n tags of repo after last, in lexical order, and whether more
// follow. A repository with no manifest ever pushed is ErrNameUnknown.
func (r *Registry) Tags(ctx context.Context, repo, last string, n int) ([]string, bool, error) {
	tags, more, err := r.page(ctx, tagPrefix(repo), last, n)
	if err != nil || len(tags) > 0 {
		return tags, more, err
	}
	// No tags on this page: tell an empty repository from an unknown one.
	if _, err := r.store.Get(ctx, catalogKey(repo)); err != nil {
		if errors.Is(err, kvnode.ErrNotFound) {
			return nil, false, ErrNameUnknown
		}
		return nil, false, storeErr(err)
	}
	return tags, more, nil
}

// Catalog returns up to n repository names after last, and whether more follow.
func (r *Registry) Catalog(ctx context.Context, last string, n int) ([]string, bool, error) {
	return r.page(ctx, prefixCatalog, last, n)
}

// page lists key names under prefix, without the prefix.
func (r *Registry) page(ctx context.Context, prefix, last string, n int) ([]string, bool, error) {
	n = min(max(n, 0), MaxPage)
	if n == 0 {
		return []string{}, false, nil
	}
	after := ""
	if last != "" {
		after = prefix + last
	}
	kvs, err := r.store.Range(ctx, prefix, after, n+1)
	if err != nil {
		return nil, false, storeErr(err)
	}
	more := len(kvs) > n
	if more {
		kvs = kvs[:n]
	}
	out := make([]string, len(kvs))
	for i, kv := range kvs {
		out[i] = strings.TrimPrefix(kv.Key, prefix)
	}
	return out, more, nil
}

// tagsOf returns the tags of repo that point at d.
func (r *Registry) tagsOf(ctx context.Context, repo string, d digest.Digest) ([]string, error) {
	var out []string
	after := ""
	for {
		kvs, err := r.store.Range(ctx, tagPrefix(repo), after, 1000)
		if err != nil {
			return nil, storeErr(err)
		}
		for _, kv := range kvs {
			var t tagRecord
			if json.Unmarshal(kv.Value, &t) == nil && t.Digest == d {
				out = append(out, strings.TrimPrefix(kv.Key, tagPrefix(repo)))
			}
		}
		if len(kvs) < 1000 {
			return out, nil
		}
		after = kvs[len(kvs)-1].Key
	}
}

// Referrers returns the descriptors of the manifests in repo whose subject is d,
// keeping only those of artifactType when it is not "".
func (r *Registry) Referrers(
	ctx context.Context, repo string, d digest.Digest, artifactType string,
) ([]ocispec.Descriptor, error) {
	kvs, err := r.store.Range(ctx, referrerPrefix(repo, d), "", MaxPage)
	if err != nil {
		return nil, storeErr(err)
	}
	out := []ocispec.Descriptor{}
	for _, kv := range kvs {
		var desc ocispec.Descriptor
		if err := json.Unmarshal(kv.Value, &desc); err != nil {
			continue
		}
		if artifactType == "" || desc.ArtifactType == artifactType {
			out = append(out, desc)
		}
	}
	return out, nil
}
