// Command required-annotations is Berth's built-in policy that refuses manifests
// lacking annotations. Configuration:
//
//	{"keys": ["org.opencontainers.image.source", "org.opencontainers.image.revision"]}
//
// At least one key is required. An annotation counts only with a non-empty value.
// The policy applies to every manifest pushed: images, indexes and artifacts.
package main

import (
	"errors"
	"fmt"
	"strings"

	"berth.dev/berth/sdk"
)

// config is the binding's configuration.
type config struct {
	// Keys are the annotations every manifest must carry.
	Keys []string `json:"keys"`
}

func validate(c *config) error {
	if len(c.Keys) == 0 {
		return errors.New("keys: at least one annotation key is required")
	}
	for _, k := range c.Keys {
		if strings.TrimSpace(k) == "" {
			return errors.New("keys: empty annotation key")
		}
	}
	return nil
}

// push denies a manifest missing any of the keys, naming all it misses.
func push(c *config, r *sdk.PushRequest) (sdk.Decision, error) {
	var missing []string
	for _, k := range c.Keys {
		if r.Manifest.Annotations[k] == "" {
			missing = append(missing, k)
		}
	}
	if len(missing) == 0 {
		return sdk.Allow(), nil
	}
	return sdk.Deny(fmt.Sprintf("manifest %s lacks the required annotation(s) %s",
		r.Digest, strings.Join(missing, ", "))), nil
}

func init() {
	sdk.Register(sdk.Plugin[config]{
		Name:     "required-annotations",
		Version:  "1.0.0",
		Validate: validate,
		Push:     push,
	})
}

func main() {}
