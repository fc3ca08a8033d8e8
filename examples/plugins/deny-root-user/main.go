// Command deny-root-user is an example Berth plugin: it refuses images that would
// run as root. It reads the image's config blob through the config capability
// and denies when config.User is empty (the runtime default, root) or names
// user root or UID 0, whatever the group. Configuration, optional:
//
//	{"exempt": ["infra/*"]}
//
// exempt lists globs (path.Match; '*' stops at '/') of repositories not checked.
// An index or an artifact has no image config and is allowed: each image of an
// index is judged when it is pushed.
package main

import (
	"encoding/json"
	"fmt"
	"path"
	"strconv"
	"strings"

	"berth.dev/berth/sdk"
)

// imageConfigTypes are the media types of image config blobs.
var imageConfigTypes = map[string]bool{
	"application/vnd.oci.image.config.v1+json":       true,
	"application/vnd.docker.container.image.v1+json": true,
}

// config is the binding's configuration; its zero value works.
type config struct {
	// Exempt lists globs of repositories whose images are not checked.
	Exempt []string `json:"exempt"`
}

func validate(c *config) error {
	for _, p := range c.Exempt {
		if _, err := path.Match(p, ""); err != nil || p == "" {
			return fmt.Errorf("exempt: bad pattern %q", p)
		}
	}
	return nil
}

// push reads the image's config blob, unless there is none to read, and decides.
func push(c *config, r *sdk.PushRequest) (sdk.Decision, error) {
	if exempt(c, r.Repository) || !isImage(r) {
		return sdk.Allow(), nil
	}
	blob, err := sdk.Config()
	if err != nil {
		return sdk.Decision{}, fmt.Errorf("read image config: %w", err)
	}
	return decide(r, blob)
}

// decide denies when the image config blob names no user, or root.
func decide(r *sdk.PushRequest, blob []byte) (sdk.Decision, error) {
	var img struct {
		Config struct{ User string } `json:"config"`
	}
	if err := json.Unmarshal(blob, &img); err != nil {
		return sdk.Decision{}, fmt.Errorf("image config: %w", err)
	}
	if !isRoot(img.Config.User) {
		return sdk.Allow(), nil
	}
	return sdk.Deny(fmt.Sprintf("image %s runs as root (config.User %q); set a "+
		"non-root USER in its Dockerfile", r.Digest, img.Config.User)), nil
}

// isRoot reports whether a config.User value ("user", "uid", "user:group", or
// empty for the default) runs as root.
func isRoot(user string) bool {
	u, _, _ := strings.Cut(user, ":")
	if uid, err := strconv.Atoi(u); err == nil {
		return uid == 0
	}
	return u == "" || u == "root"
}

func exempt(c *config, repo string) bool {
	for _, p := range c.Exempt {
		if ok, _ := path.Match(p, repo); ok {
			return true
		}
	}
	return false
}

// isImage reports whether r pushes an image, which has an image config blob.
func isImage(r *sdk.PushRequest) bool {
	cfg := r.Manifest.Config
	return cfg != nil && imageConfigTypes[cfg.MediaType]
}

func init() {
	sdk.Register(sdk.Plugin[config]{
		Name:         "deny-root-user",
		Version:      "0.1.0",
		Capabilities: []string{sdk.CapConfig},
		Validate:     validate,
		Push:         push,
	})
}

func main() {}
