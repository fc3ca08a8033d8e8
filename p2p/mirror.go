package p2p

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httputil"
	"strings"

	"github.com/opencontainers/go-digest"
	"github.com/prometheus/client_golang/prometheus/promhttp"
)

// Headers an agent sends with a piece-map request.
const (
	HeaderPeerID    = "Berth-Peer-Id"
	HeaderPeerAddrs = "Berth-Peer-Addrs"
)

// Handler returns the registry mirror: blob GETs come from the swarm; every other
// request, and blob GETs with a Range, pass through to the gateway with the
// client's headers. /metrics serves the agent's metrics.
func (a *Agent) Handler() http.Handler {
	mux := http.NewServeMux()
	mux.Handle("GET /metrics", promhttp.HandlerFor(a.reg, promhttp.HandlerOpts{}))
	mux.HandleFunc("GET /healthz", func(w http.ResponseWriter, _ *http.Request) {
		fmt.Fprintln(w, "ok")
	})
	mux.HandleFunc("POST "+PreheatPath, a.servePreheat)
	mux.HandleFunc("/", func(w http.ResponseWriter, r *http.Request) {
		name, d, ok := blobPath(r.URL.Path)
		if !ok || r.Method != http.MethodGet || r.Header.Get("Range") != "" || a.host == nil {
			a.proxy.ServeHTTP(w, r)
			return
		}
		a.serveBlob(w, r, name, d)
	})
	return mux
}

// blobPath parses /v2/<name>/blobs/<digest>.
func blobPath(path string) (string, digest.Digest, bool) {
	rest, ok := strings.CutPrefix(path, "/v2/")
	if !ok {
		return "", "", false
	}
	i := strings.LastIndex(rest, "/blobs/")
	if i <= 0 {
		return "", "", false
	}
	d, err := digest.Parse(rest[i+len("/blobs/"):])
	if err != nil {
		return "", "", false
	}
	return rest[:i], d, true
}

// rewrite points a passed-through request at the gateway.
func (a *Agent) rewrite(r *httputil.ProxyRequest) {
	r.SetURL(a.gateway)
	r.Out.Host = a.gateway.Host
	r.Out = r.Out.WithContext(context.WithValue(r.Out.Context(), mirrorHostKey{}, r.In.Host))
}

// mirrorHostKey holds, in a passed-through request's context, the host the
// client addressed.
type mirrorHostKey struct{}

// modifyResponse points token realms of the gateway at the mirror (which passes
// token requests through), so that clients that accept a realm only on the
// registry's own host:port, as go-containerregistry does for private addresses,
// authenticate through the mirror.
func (a *Agent) modifyResponse(resp *http.Response) error {
	host, _ := resp.Request.Context().Value(mirrorHostKey{}).(string)
	a.rewriteRealm(resp.Header, host)
	return nil
}

// rewriteRealm replaces the gateway's origin in a WWW-Authenticate realm by the
// mirror's host.
func (a *Agent) rewriteRealm(h http.Header, host string) {
	challenge := h.Get("WWW-Authenticate")
	origin := `realm="` + a.gateway.Scheme + "://" + a.gateway.Host + "/"
	if host == "" || !strings.Contains(challenge, origin) {
		return
	}
	h.Set("WWW-Authenticate", strings.Replace(challenge, origin, `realm="http://`+host+"/", 1))
}

// serveBlob answers a blob GET from the swarm, or passes it through when the
// gateway offers no piece map for it.
func (a *Agent) serveBlob(w http.ResponseWriter, r *http.Request, name string, d digest.Digest) {
	ans, resp, err := a.askPieces(r.Context(), r.Header.Get("Authorization"), name, d)
	if err != nil {
		a.log.Warn("piece map request failed, passing through", "blob", d, "err", err)
		a.proxy.ServeHTTP(w, r)
		return
	}
	if resp != nil {
		a.rewriteRealm(resp.Header, r.Host)
		relay(w, resp)
		return
	}
	e, err := a.cache.acquire(ans.Map)
	if err != nil {
		a.log.Warn("cache refused a blob, passing through", "blob", d, "err", err)
		a.proxy.ServeHTTP(w, r)
		return
	}
	defer e.release()
	dl := a.fetch(e, ans)
	w.Header().Set("Content-Length", fmt.Sprint(ans.Map.Size))
	w.Header().Set("Content-Type", "application/octet-stream")
	w.Header().Set("Docker-Content-Digest", d.String())
	if err := a.stream(r.Context(), w, e, dl); err != nil {
		a.log.Warn("blob stream aborted", "blob", d, "err", err)
		panic(http.ErrAbortHandler) // the client must see a broken body, not a short one
	}
}

// askPieces asks the gateway for the piece map of d with the client's
// credentials. A non-nil response is an answer to relay to the client as is
// (401, 403, 404); an error means the gateway has no P2P for this blob.
func (a *Agent) askPieces(
	ctx context.Context, auth, name string, d digest.Digest,
) (*PiecesAnswer, *http.Response, error) {
	u := fmt.Sprintf("%s/v2/%s/blobs/%s/pieces", a.gateway, name, d)
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, u, nil)
	if err != nil {
		return nil, nil, err
	}
	if auth != "" {
		req.Header.Set("Authorization", auth)
	}
	req.Header.Set(HeaderPeerID, a.host.ID().String())
	req.Header.Set(HeaderPeerAddrs, strings.Join(a.Addrs(), ","))
	resp, err := a.http.Do(req)
	if err != nil {
		return nil, nil, err
	}
	switch resp.StatusCode {
	case http.StatusOK:
	case http.StatusUnauthorized, http.StatusForbidden:
		return nil, resp, nil
	default:
		resp.Body.Close()
		return nil, nil, fmt.Errorf("gateway answered %s", resp.Status)
	}
	defer resp.Body.Close()
	var ans PiecesAnswer
	if err := json.NewDecoder(io.LimitReader(resp.Body, 16<<20)).Decode(&ans); err != nil {
		return nil, nil, err
	}
	if ans.Map == nil || ans.Map.Digest != d {
		return nil, nil, fmt.Errorf("%w: for another blob", ErrMapInvalid)
	}
	if err := ans.Map.Validate(); err != nil {
		return nil, nil, err
	}
	return &ans, nil, nil
}

// relay copies the gateway's response to the client and closes it.
func relay(w http.ResponseWriter, resp *http.Response) {
	defer resp.Body.Close()
	for k, v := range resp.Header {
		w.Header()[k] = v
	}
	w.WriteHeader(resp.StatusCode)
	io.Copy(w, resp.Body)
}

// stream writes the blob of e to w in order, each piece once it is verified, and
// holds the last byte back until the whole blob matched its digest.
func (a *Agent) stream(ctx context.Context, w io.Writer, e *cacheEntry, dl *download) error {
	m := e.m
	whole := m.Digest.Algorithm().Hash()
	for i := range m.Count() {
		data, err := a.waitPiece(ctx, e, dl, i)
		if err != nil {
			return err
		}
		whole.Write(data)
		last := i == m.Count()-1
		if last {
			if digest.NewDigest(m.Digest.Algorithm(), whole) != m.Digest {
				return fmt.Errorf("%w: %s", ErrBlobMismatch, m.Digest)
			}
		}
		if _, err := w.Write(data); err != nil {
			return err
		}
	}
	if m.Count() == 0 && digest.NewDigest(m.Digest.Algorithm(), whole) != m.Digest {
		return fmt.Errorf("%w: %s is not empty", ErrBlobMismatch, m.Digest)
	}
	return nil
}

// waitPiece returns piece i once the entry holds it.
func (a *Agent) waitPiece(
	ctx context.Context, e *cacheEntry, dl *download, i int,
) ([]byte, error) {
	for {
		have, changed := e.snapshot()
		if have.has(i) {
			return e.readPiece(ctx, i)
		}
		var done <-chan struct{}
		if dl != nil {
			done = dl.done
		}
		select {
		case <-changed:
		case <-done:
			if have, _ := e.snapshot(); !have.has(i) {
				return nil, fmt.Errorf("download ended: %w", dl.err)
			}
		case <-ctx.Done():
			return nil, ctx.Err()
		}
	}
}
