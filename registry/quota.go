package registry

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"strings"

	"github.com/opencontainers/go-digest"

	"berth.dev/berth/kvnode"
)

// QuotaSource tells the registry the storage quota of a project in bytes; 0 means
// unlimited. The registry asks it once before each transaction that links a blob or
// a manifest.
type QuotaSource interface {
	Quota(ctx context.Context, project string) (int64, error)
}

// ProjectOf returns the project of a repository: its first path component
// ("library/nginx" is in "library"). A repository of one component ("nginx") is the
// only repository of the project of that name, so that every repository counts
// against exactly one quota.
func ProjectOf(repo string) string {
	project, _, _ := strings.Cut(repo, "/")
	return project
}

// usageRecord is a project's usage: the bytes of the unique blobs and manifests
// linked into its repositories.
type usageRecord struct {
	Bytes int64 `json:"bytes"`
}

// usageRef counts the links of one digest in one project; the digest's size counts
// in the usage while Refs is positive.
type usageRef struct {
	Size int64 `json:"size"`
	Refs int64 `json:"refs"`
}

// projectQuota is a project's quota as read before a linking transaction.
type projectQuota struct {
	project string
	limit   int64 // 0: unlimited
}

// quotaFor reads the quota of repo's project.
func (r *Registry) quotaFor(ctx context.Context, repo string) (projectQuota, error) {
	q := projectQuota{project: ProjectOf(repo)}
	if r.opts.Quotas == nil {
		return q, nil
	}
	limit, err := r.opts.Quotas.Quota(ctx, q.project)
	if err != nil {
		return q, fmt.Errorf("registry: quota of project %q: %w", q.project, err)
	}
	q.limit = max(limit, 0)
	return q, nil
}

// Usage returns the bytes stored by project: the sum of the sizes of the unique
// blobs and manifests linked into its repositories.
func (r *Registry) Usage(ctx context.Context, project string) (int64, error) {
	var u usageRecord
	err := r.getJSON(ctx, usageKey(project), &u)
	if errors.Is(err, kvnode.ErrNotFound) {
		return 0, nil
	}
	return u.Bytes, err
}

func txUsage(tx kvnode.Txn, project string) (int64, error) {
	var u usageRecord
	err := txGetJSON(tx, usageKey(project), &u)
	if errors.Is(err, kvnode.ErrNotFound) {
		return 0, nil
	}
	return u.Bytes, err
}

func putUsage(tx kvnode.Txn, project string, n int64) {
	if n <= 0 {
		tx.Delete(usageKey(project))
		return
	}
	txPutJSON(tx, usageKey(project), usageRecord{Bytes: n})
}

// addRef counts one more link of d in q's project. The first link adds size to the
// project's usage, or fails with ErrQuotaExceeded when that passes the quota.
func addRef(tx kvnode.Txn, q projectQuota, d digest.Digest, size int64) error {
	key := usageRefKey(q.project, d)
	var ref usageRef
	err := txGetJSON(tx, key, &ref)
	if err == nil {
		ref.Refs++
		txPutJSON(tx, key, ref)
		return nil
	}
	if !errors.Is(err, kvnode.ErrNotFound) {
		return err
	}
	used, err := txUsage(tx, q.project)
	if err != nil {
		return err
	}
	if q.limit > 0 && used+size > q.limit {
		return fmt.Errorf("%w: project %q has a quota of %d bytes and uses %d; %s adds %d",
			ErrQuotaExceeded, q.project, q.limit, used, d, size)
	}
	txPutJSON(tx, key, usageRef{Size: size, Refs: 1})
	putUsage(tx, q.project, used+size)
	return nil
}

// dropRef counts one link of d fewer in project; the last link's removal takes the
// size off the usage. A link made before usage was counted has no reference.
func dropRef(tx kvnode.Txn, project string, d digest.Digest) error {
	key := usageRefKey(project, d)
	var ref usageRef
	err := txGetJSON(tx, key, &ref)
	if errors.Is(err, kvnode.ErrNotFound) {
		return nil
	}
	if err != nil {
		return err
	}
	if ref.Refs > 1 {
		ref.Refs--
		txPutJSON(tx, key, ref)
		return nil
	}
	tx.Delete(key)
	used, err := txUsage(tx, project)
	if err != nil {
		return err
	}
	putUsage(tx, project, used-ref.Size)
	return nil
}

// linkBlob makes blob d visible in repo and counts it in the project's usage;
// linking a blob twice changes nothing.
func linkBlob(tx kvnode.Txn, q projectQuota, repo string, d digest.Digest, size int64) error {
	if linked, err := txExists(tx, blobKey(repo, d)); err != nil || linked {
		return err
	}
	if err := addRef(tx, q, d, size); err != nil {
		return err
	}
	txPutJSON(tx, blobKey(repo, d), blobLink{Size: size})
	return nil
}

// countManifest counts manifest d in the project's usage unless repo holds it
// already; the caller writes the manifest record.
func countManifest(tx kvnode.Txn, q projectQuota, repo string, d digest.Digest, size int64) error {
	if linked, err := txExists(tx, manifestKey(repo, d)); err != nil || linked {
		return err
	}
	return addRef(tx, q, d, size)
}

func txExists(tx kvnode.Txn, key string) (bool, error) {
	_, err := tx.Get(key)
	if errors.Is(err, kvnode.ErrNotFound) {
		return false, nil
	}
	return err == nil, err
}

// RecountUsage recomputes the usage of project from the blob and manifest links of
// its repositories, replacing its reference counts.
//
// BUG(quota): a link or unlink committed in the project while RecountUsage runs may
// be missed by the count; run it when the project is quiet (Start runs it before
// the gateway serves).
func (r *Registry) RecountUsage(ctx context.Context, project string) error {
	refs := map[digest.Digest]usageRef{}
	for _, prefix := range []string{repoPrefix(project), "repo/" + project + "/"} {
		if err := r.scanLinks(ctx, prefix, refs); err != nil {
			return err
		}
	}
	if err := r.deletePrefix(ctx, usageRefPrefix(project)); err != nil {
		return err
	}
	var total int64
	digests := make([]digest.Digest, 0, len(refs))
	for d, ref := range refs {
		total += ref.Size
		digests = append(digests, d)
	}
	err := r.updateBatches(ctx, len(digests), func(tx kvnode.Txn, i int) {
		txPutJSON(tx, usageRefKey(project, digests[i]), refs[digests[i]])
	})
	if err != nil {
		return err
	}
	return r.update(ctx, func(tx kvnode.Txn) error {
		putUsage(tx, project, total)
		return nil
	})
}

// scanLinks counts the blob and manifest links of the repositories under prefix.
func (r *Registry) scanLinks(
	ctx context.Context, prefix string, refs map[digest.Digest]usageRef,
) error {
	after := ""
	for {
		kvs, err := r.store.Range(ctx, prefix, after, 500)
		if err != nil {
			return storeErr(err)
		}
		for _, kv := range kvs {
			d, size, ok := parseLink(kv)
			if !ok {
				continue
			}
			ref := refs[d]
			ref.Size = size
			ref.Refs++
			refs[d] = ref
		}
		if len(kvs) < 500 {
			return nil
		}
		after = kvs[len(kvs)-1].Key
	}
}

// parseLink reads a "repo/<r>!blob/<d>" or "repo/<r>!manifest/<d>" key and its size.
func parseLink(kv kvnode.KV) (digest.Digest, int64, bool) {
	_, rest, _ := strings.Cut(kv.Key, "!")
	s, ok := strings.CutPrefix(rest, "blob/")
	if !ok {
		if s, ok = strings.CutPrefix(rest, "manifest/"); !ok {
			return "", 0, false
		}
	}
	var v struct {
		Size int64 `json:"size"`
	}
	d, err := digest.Parse(s)
	if err != nil || json.Unmarshal(kv.Value, &v) != nil {
		return "", 0, false
	}
	return d, v.Size, true
}

// deletePrefix deletes every key under prefix, in batches.
func (r *Registry) deletePrefix(ctx context.Context, prefix string) error {
	for {
		kvs, err := r.store.Range(ctx, prefix, "", maxEventBatch)
		if err != nil {
			return storeErr(err)
		}
		if len(kvs) == 0 {
			return nil
		}
		err = r.update(ctx, func(tx kvnode.Txn) error {
			for _, kv := range kvs {
				tx.Delete(kv.Key)
			}
			return nil
		})
		if err != nil {
			return err
		}
	}
}

// countExistingUsage recounts every project that holds links: repositories pushed
// before schema 2 have no usage records. It visits each repository once by skipping
// past its keys.
func (r *Registry) countExistingUsage(ctx context.Context) error {
	projects := map[string]bool{}
	after := ""
	for {
		kvs, err := r.store.Range(ctx, "repo/", after, 1)
		if err != nil {
			return storeErr(err)
		}
		if len(kvs) == 0 {
			break
		}
		repo, _, _ := strings.Cut(strings.TrimPrefix(kvs[0].Key, "repo/"), "!")
		projects[ProjectOf(repo)] = true
		after = repoPrefix(repo) + "\xff"
	}
	for p := range projects {
		if err := r.RecountUsage(ctx, p); err != nil {
			return err
		}
	}
	return nil
}
