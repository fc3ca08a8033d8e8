package registry

import (
	"context"
	"errors"
	"strings"

	"github.com/opencontainers/go-digest"

	"berth.dev/berth/kvnode"
)

// repoDeleteBatch bounds the keys deleted per transaction: each key costs a delete, a
// reference count update and their comparisons, within etcd's default of 128
// operations per list.
const repoDeleteBatch = 40

// DeleteRepository deletes repository repo: every manifest, tag, referrer and blob
// link, its catalog entry, and the project usage they held; one delete event records
// it. Blobs themselves stay in storage for garbage collection, as with every unlink.
//
// It runs in batches, not in one transaction: a crash part-way leaves the repository
// partly deleted and a second call finishes it. Pushes to the repository while it is
// being deleted may survive it.
func (r *Registry) DeleteRepository(ctx context.Context, repo string) error {
	if err := ValidateName(repo); err != nil {
		return err
	}
	if a := r.opts.Admission; a != nil {
		if err := a.AdmitDelete(ctx, DeleteInfo{Repository: repo}); err != nil {
			return err
		}
	}
	found, err := r.deleteRepoKeys(ctx, repo)
	if err != nil {
		return err
	}
	return r.update(ctx, func(tx kvnode.Txn) error {
		if _, err := tx.Get(catalogKey(repo)); err != nil && !found {
			return unknownName(err)
		}
		tx.Delete(catalogKey(repo))
		r.putEvent(ctx, tx, Event{Action: ActionDelete, Repository: repo})
		return nil
	})
}

// deleteRepoKeys deletes the keys of repo in batches and reports whether there were any.
func (r *Registry) deleteRepoKeys(ctx context.Context, repo string) (bool, error) {
	found := false
	project := ProjectOf(repo)
	for {
		kvs, err := r.store.Range(ctx, repoPrefix(repo), "", repoDeleteBatch)
		if err != nil {
			return found, storeErr(err)
		}
		if len(kvs) == 0 {
			return found, nil
		}
		found = true
		err = r.update(ctx, func(tx kvnode.Txn) error {
			for _, kv := range kvs {
				tx.Delete(kv.Key)
				if d, ok := linkedDigest(repo, kv.Key); ok {
					if err := dropRef(tx, project, d); err != nil {
						return err
					}
				}
			}
			return nil
		})
		if err != nil {
			return found, err
		}
	}
}

// linkedDigest returns the digest of a blob or manifest link key of repo.
func linkedDigest(repo, key string) (digest.Digest, bool) {
	rest := strings.TrimPrefix(key, repoPrefix(repo))
	for _, kind := range []string{"blob/", "manifest/"} {
		if d, ok := strings.CutPrefix(rest, kind); ok {
			return digest.Digest(d), true
		}
	}
	return "", false
}

func unknownName(err error) error {
	if errors.Is(err, kvnode.ErrNotFound) {
		return ErrNameUnknown
	}
	return err
}
