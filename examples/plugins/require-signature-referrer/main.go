// Command require-signature-referrer is an example Berth plugin: it denies pulls
// by tag of images that have no referrer of a given artifact type, such as a
// Sigstore bundle. It reads the image's referrers through the referrers
// capability. Configuration:
//
//	{"artifact_type": "application/vnd.dev.sigstore.bundle.v0.3+json"}
//
// Only pulls by tag are judged: a client resolves a tag first, and the pulls by
// digest that follow (an index's platform images, the signature itself) carry no
// signature of their own.
package main

import (
	"encoding/json"
	"errors"
	"fmt"
	"strings"

	"berth.dev/berth/sdk"
)

// config is the binding's configuration.
type config struct {
	// ArtifactType is the artifact type a referrer must have.
	ArtifactType string `json:"artifact_type"`
}

func validate(c *config) error {
	if c.ArtifactType == "" {
		return errors.New("artifact_type: required")
	}
	return nil
}

// pull reads the subject's referrers and decides.
func pull(c *config, r *sdk.PullRequest) (sdk.Decision, error) {
	if isDigest(r.Reference) {
		return sdk.Allow(), nil
	}
	doc, err := sdk.Referrers()
	if errors.Is(err, sdk.ErrUnavailable) {
		doc, err = nil, nil // no referrers at all
	}
	if err != nil {
		return sdk.Decision{}, err
	}
	return decide(c, r, doc)
}

// decide denies unless the referrers index doc (nil for none) lists a manifest
// of the configured artifact type.
func decide(c *config, r *sdk.PullRequest, doc []byte) (sdk.Decision, error) {
	var index struct {
		Manifests []struct {
			ArtifactType string `json:"artifactType"`
		} `json:"manifests"`
	}
	if doc != nil {
		if err := json.Unmarshal(doc, &index); err != nil {
			return sdk.Decision{}, fmt.Errorf("referrers index: %w", err)
		}
	}
	for _, m := range index.Manifests {
		if m.ArtifactType == c.ArtifactType {
			return sdk.Allow(), nil
		}
	}
	return sdk.Deny(fmt.Sprintf("%s:%s (%s) has no referrer of type %s; sign it first",
		r.Repository, r.Reference, r.Digest, c.ArtifactType)), nil
}

// isDigest reports whether a reference is a digest ("algorithm:hex") rather than
// a tag, which may not contain ':'.
func isDigest(ref string) bool { return strings.Contains(ref, ":") }

func init() {
	sdk.Register(sdk.Plugin[config]{
		Name:         "require-signature-referrer",
		Version:      "0.1.0",
		Capabilities: []string{sdk.CapReferrers},
		Validate:     validate,
		Pull:         pull,
	})
}

func main() {}
