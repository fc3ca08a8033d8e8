package registry

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"time"

	"berth.dev/berth/kvnode"
)

// janitorInterval is how often every replica runs cleanUploads after Start.
const janitorInterval = 10 * time.Minute

// cleanUploads removes staged parts that no session owns (left by a writer that
// died between writing and recording, or lost a race and then died), sessions idle
// for longer than the upload TTL, and, through the driver's Sweep, writes
// abandoned longer ago than the TTL. Sessions exist before their first part, so an
// upload without a session is never one being written. Every replica may run it.
func (r *Registry) cleanUploads(ctx context.Context) error {
	swept, err := r.blobs.Sweep(ctx, time.Now().Add(-r.opts.UploadTTL))
	if err != nil {
		return fmt.Errorf("registry: sweep storage: %w", err)
	}
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
		if err := r.dropUpload(ctx, s.ID); err != nil {
			return err
		}
		removed++
	}
	if removed > 0 || swept > 0 {
		r.log.Info("removed abandoned uploads", "count", removed, "swept", swept)
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
