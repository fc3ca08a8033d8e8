package p2p

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"runtime"
	"strings"
	"sync"
	"time"

	"github.com/opencontainers/go-digest"
	ocispec "github.com/opencontainers/image-spec/specs-go/v1"
)

// PreheatPath is the agent endpoint that fetches an image into its cache:
// POST /_berth/preheat?image=<name>:<tag> (or <name>@<digest>) with the caller's
// credentials. The answer streams PreheatEvent lines (JSON) until done.
const PreheatPath = "/_berth/preheat"

// PreheatEvent is one line of a preheat's progress.
type PreheatEvent struct {
	Blob   digest.Digest `json:"blob,omitempty"`
	Size   int64         `json:"size,omitempty"`
	Pieces int           `json:"pieces,omitempty"`
	Have   int           `json:"have,omitempty"`
	Done   bool          `json:"done,omitempty"`
	Error  string        `json:"error,omitempty"`
}

// preheatTick is how often a preheat reports progress.
const preheatTick = 500 * time.Millisecond

// manifestAccept lists the manifest types a preheat resolves.
var manifestAccept = strings.Join([]string{ocispec.MediaTypeImageIndex,
	ocispec.MediaTypeImageManifest, "application/vnd.docker.distribution.manifest.list.v2+json",
	"application/vnd.docker.distribution.manifest.v2+json"}, ", ")

func (a *Agent) servePreheat(w http.ResponseWriter, r *http.Request) {
	name, ref, ok := splitImage(r.URL.Query().Get("image"))
	if !ok || a.host == nil {
		http.Error(w, "want ?image=<name>:<tag> or <name>@<digest>, and P2P on",
			http.StatusBadRequest)
		return
	}
	w.Header().Set("Content-Type", "application/x-ndjson")
	enc := json.NewEncoder(w)
	var mu sync.Mutex // the blobs of the image report from goroutines of their own
	flush := func(ev PreheatEvent) {
		mu.Lock()
		defer mu.Unlock()
		enc.Encode(ev)
		if f, ok := w.(http.Flusher); ok {
			f.Flush()
		}
	}
	err := a.preheat(r.Context(), r.Header.Get("Authorization"), name, ref, flush)
	if err != nil {
		flush(PreheatEvent{Error: err.Error()})
		return
	}
	flush(PreheatEvent{Done: true})
}

// splitImage splits name:tag or name@digest.
func splitImage(image string) (name, ref string, ok bool) {
	if n, d, found := strings.Cut(image, "@"); found {
		return n, d, n != "" && d != ""
	}
	i := strings.LastIndexByte(image, ':')
	if i <= 0 || strings.Contains(image[i:], "/") {
		return image, "latest", image != ""
	}
	return image[:i], image[i+1:], true
}

// preheat fetches every blob of the image (this platform's, for an index) into
// the cache, reporting progress.
func (a *Agent) preheat(
	ctx context.Context, auth, name, ref string, report func(PreheatEvent),
) error {
	blobs, err := a.imageBlobs(ctx, auth, name, ref)
	if err != nil {
		return err
	}
	var wg sync.WaitGroup
	errs := make([]error, len(blobs))
	for i, d := range blobs {
		wg.Go(func() { errs[i] = a.preheatBlob(ctx, auth, name, d, report) })
	}
	wg.Wait()
	return errors.Join(errs...)
}

// preheatBlob fetches one blob and reports its progress until it is complete.
func (a *Agent) preheatBlob(
	ctx context.Context, auth, name string, d digest.Digest, report func(PreheatEvent),
) error {
	ans, resp, err := a.askPieces(ctx, auth, name, d)
	if resp != nil {
		resp.Body.Close()
		return fmt.Errorf("%s: gateway answered %s", d, resp.Status)
	}
	if err != nil {
		return fmt.Errorf("%s: %w", d, err)
	}
	e, err := a.cache.acquire(ans.Map)
	if err != nil {
		return err
	}
	defer e.release()
	dl := a.fetch(e, ans)
	tick := time.NewTicker(preheatTick)
	defer tick.Stop()
	for {
		have, _ := e.snapshot()
		ev := PreheatEvent{Blob: d, Size: e.m.Size, Pieces: e.m.Count(), Have: have.count()}
		report(ev)
		if ev.Have == ev.Pieces {
			return nil
		}
		var done <-chan struct{}
		if dl != nil {
			done = dl.done
		}
		select {
		case <-tick.C:
		case <-done:
			if !e.complete() {
				return fmt.Errorf("%s: %w", d, dl.err)
			}
		case <-ctx.Done():
			return ctx.Err()
		}
	}
}

// imageBlobs returns the config and layers of the image, choosing this
// machine's platform from an index.
func (a *Agent) imageBlobs(ctx context.Context, auth, name, ref string) ([]digest.Digest, error) {
	var m struct {
		MediaType string               `json:"mediaType"`
		Manifests []ocispec.Descriptor `json:"manifests"`
		Config    ocispec.Descriptor   `json:"config"`
		Layers    []ocispec.Descriptor `json:"layers"`
	}
	for range 2 {
		if err := a.getManifest(ctx, auth, name, ref, &m); err != nil {
			return nil, err
		}
		if len(m.Manifests) == 0 {
			break
		}
		child, ok := pickPlatform(m.Manifests)
		if !ok {
			return nil, fmt.Errorf("p2p: %s:%s has no manifest for %s/%s", name, ref,
				runtime.GOOS, runtime.GOARCH)
		}
		ref, m.Manifests = child.String(), nil
	}
	out := []digest.Digest{m.Config.Digest}
	for _, l := range m.Layers {
		out = append(out, l.Digest)
	}
	return out, nil
}

func pickPlatform(list []ocispec.Descriptor) (digest.Digest, bool) {
	for _, d := range list {
		if d.Platform != nil && d.Platform.OS == runtime.GOOS &&
			d.Platform.Architecture == runtime.GOARCH {
			return d.Digest, true
		}
	}
	return "", false
}

// getManifest reads a manifest from the gateway into v.
func (a *Agent) getManifest(ctx context.Context, auth, name, ref string, v any) error {
	u := fmt.Sprintf("%s/v2/%s/manifests/%s", a.gateway, name, ref)
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, u, nil)
	if err != nil {
		return err
	}
	req.Header.Set("Accept", manifestAccept)
	if auth != "" {
		req.Header.Set("Authorization", auth)
	}
	resp, err := a.http.Do(req)
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return fmt.Errorf("p2p: manifest %s:%s: gateway answered %s", name, ref, resp.Status)
	}
	return json.NewDecoder(io.LimitReader(resp.Body, 4<<20)).Decode(v)
}
