package registry

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"time"

	"berth.dev/berth/kvnode"
)

// cleanUploads removes staged files that no session owns (left by a crash between
// writing and recording) and sessions idle for longer than the upload TTL.
func (r *Registry) cleanUploads(ctx context.Context) error {
	staged, err := r.blobs.ListUploads(ctx)
	if err != nil {
		return fmt.Errorf("registry: list uploads: %w", err)
	}
	removed := 0
	for _, s := range staged {
		var u Upload
		err := r.getJSON(ctx, uploadKey(s.ID), &u)
		switch {
		case errors.Is(err, kvnode.ErrNotFound):
		case err != nil:
			return err
		case time.Since(u.Updated) < r.opts.UploadTTL:
			continue
		}
		unlock, err := r.blobs.LockUpload(ctx, s.ID)
		if err != nil {
			continue // in use (a monolithic upload in flight), or already gone
		}
		err = r.dropUpload(ctx, s.ID)
		unlock()
		if err != nil {
			return err
		}
		removed++
	}
	if removed > 0 {
		r.log.Info("removed abandoned uploads", "count", removed)
	}
	return nil
}

func (r *Registry) dropUpload(ctx context.Context, id string) error {
	err := r.update(ctx, func(tx kvnode.Txn) error {
		tx.Delete(uploadKey(id))
		return nil
	})
	if err != nil {
		return err
	}
	return r.blobs.AbortUpload(ctx, id)
}

// pruneCompleted deletes the markers of uploads completed before cutoff.
func (r *Registry) pruneCompleted(ctx context.Context, cutoff time.Time) error {
	after := ""
	for {
		kvs, err := r.store.Range(ctx, prefixUpload, after, 500)
		if err != nil {
			return storeErr(err)
		}
		var old []string
		for _, kv := range kvs {
			var u Upload
			if json.Unmarshal(kv.Value, &u) == nil && u.Completed != "" && u.Updated.Before(cutoff) {
				old = append(old, kv.Key)
			}
		}
		if len(old) > 0 {
			err := r.update(ctx, func(tx kvnode.Txn) error {
				for _, k := range old {
					tx.Delete(k)
				}
				return nil
			})
			if err != nil {
				return err
			}
		}
		if len(kvs) < 500 {
			return nil
		}
		after = kvs[len(kvs)-1].Key
	}
}
