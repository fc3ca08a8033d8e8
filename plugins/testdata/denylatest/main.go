// Command denylatest is a well-behaved test plugin: it denies pushes of listed
// tags ("latest" by default) and, when max_layers is set, of manifests with more
// layers, which it reads through the manifest capability.
package main

import (
	"encoding/json"
	"errors"
	"fmt"
	"slices"

	"berth.dev/berth/sdk"
)

type config struct {
	DenyTags  []string `json:"deny_tags"`
	MaxLayers int      `json:"max_layers"`
}

func validate(c *config) error {
	if c.DenyTags == nil {
		c.DenyTags = []string{"latest"}
	}
	if slices.Contains(c.DenyTags, "") {
		return errors.New("deny_tags: empty tag")
	}
	if c.MaxLayers < 0 {
		return errors.New("max_layers: negative")
	}
	return nil
}

func push(c *config, r *sdk.PushRequest) (sdk.Decision, error) {
	if slices.Contains(c.DenyTags, r.Tag) {
		sdk.Logf(sdk.LevelDebug, "denied tag %s", r.Tag)
		return sdk.Deny(fmt.Sprintf("tag %q may not be pushed to %s", r.Tag, r.Repository)), nil
	}
	if c.MaxLayers == 0 {
		return sdk.Allow(), nil
	}
	raw, err := sdk.Manifest()
	if err != nil {
		return sdk.Decision{}, err
	}
	var m struct{ Layers []json.RawMessage }
	if err := json.Unmarshal(raw, &m); err != nil {
		return sdk.Decision{}, err
	}
	if len(m.Layers) > c.MaxLayers {
		return sdk.Deny(fmt.Sprintf("%d layers, at most %d", len(m.Layers), c.MaxLayers)), nil
	}
	return sdk.Allow(), nil
}

func init() {
	sdk.Register(sdk.Plugin[config]{
		Name:         "deny-latest",
		Version:      "0.1.0",
		Capabilities: []string{sdk.CapLog, sdk.CapManifest},
		Validate:     validate,
		Push:         push,
	})
}

func main() {}
