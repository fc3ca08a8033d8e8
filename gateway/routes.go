package gateway

import (
	"strings"
)

// routeKind names what a /v2/ path addresses. It is also the "route" label of the
// request metrics, so its values are few and fixed.
type routeKind string

const (
	routeBase        routeKind = "base"
	routeCatalog     routeKind = "catalog"
	routeTags        routeKind = "tags"
	routeManifest    routeKind = "manifest"
	routeBlob        routeKind = "blob"
	routeUploadStart routeKind = "upload_start"
	routeUpload      routeKind = "upload"
	routeReferrers   routeKind = "referrers"
	routeUnknown     routeKind = "unknown"
)

// route is a parsed /v2/ path. Strings are copies, safe to keep after the request.
type route struct {
	kind routeKind
	name string // repository name, not yet validated
	ref  string // manifest reference, blob or subject digest, or upload id
}

// parseV2Path splits a request path under /v2/. Repository names contain slashes,
// so the path is matched from its end: the last segments name the endpoint and
// everything before them is the name.
func parseV2Path(path string) route {
	rest, ok := strings.CutPrefix(path, "/v2/")
	if !ok {
		return route{kind: routeUnknown}
	}
	switch rest {
	case "":
		return route{kind: routeBase}
	case "_catalog":
		return route{kind: routeCatalog}
	}
	if rt, ok := parsePiecesPath(rest); ok {
		return rt
	}
	if name, ok := strings.CutSuffix(rest, "/tags/list"); ok {
		return named(routeTags, name, "")
	}
	if name, ok := strings.CutSuffix(rest, "/blobs/uploads/"); ok {
		return named(routeUploadStart, name, "")
	}
	if name, ok := strings.CutSuffix(rest, "/blobs/uploads"); ok {
		return named(routeUploadStart, name, "")
	}
	i := strings.LastIndexByte(rest, '/')
	if i < 0 {
		return route{kind: routeUnknown}
	}
	head, last := rest[:i], rest[i+1:]
	j := strings.LastIndexByte(head, '/')
	if j < 0 {
		return route{kind: routeUnknown}
	}
	name, verb := head[:j], head[j+1:]
	switch verb {
	case "manifests":
		return named(routeManifest, name, last)
	case "referrers":
		return named(routeReferrers, name, last)
	case "blobs":
		return named(routeBlob, name, last)
	case "uploads":
		if name, ok := strings.CutSuffix(name, "/blobs"); ok {
			return named(routeUpload, name, last)
		}
	}
	return route{kind: routeUnknown}
}

func named(kind routeKind, name, ref string) route {
	if name == "" {
		return route{kind: routeUnknown}
	}
	return route{kind: kind, name: strings.Clone(name), ref: strings.Clone(ref)}
}
