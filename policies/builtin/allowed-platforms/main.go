// Command allowed-platforms is Berth's built-in policy that refuses indexes with
// entries for platforms outside a list. Configuration:
//
//	{"platforms": ["linux/amd64", "linux/arm64", "linux/arm/v7"]}
//
// Each platform is OS/ARCHITECTURE or OS/ARCHITECTURE/VARIANT; at least one is
// required. An entry without a variant allows every variant of its architecture.
//
// The policy judges the platforms of an index's entries and, when the request
// carries it, an image's own platform; an image whose platform the host did not
// report is allowed. Entries for "unknown/unknown" (attestation manifests, which
// BuildKit attaches to indexes) are not platforms and are ignored.
package main

import (
	"fmt"
	"slices"
	"strings"

	"berth.dev/berth/sdk"
)

// config is the binding's configuration.
type config struct {
	// Platforms are the platforms allowed, e.g. "linux/amd64".
	Platforms []string `json:"platforms"`
}

func validate(c *config) error {
	if len(c.Platforms) == 0 {
		return fmt.Errorf("platforms: at least one platform is required")
	}
	for _, p := range c.Platforms {
		if _, err := parse(p); err != nil {
			return err
		}
	}
	return nil
}

// push denies a manifest naming a platform outside the list.
func push(c *config, r *sdk.PushRequest) (sdk.Decision, error) {
	var outside []string
	for _, p := range platforms(&r.Manifest) {
		s := format(p)
		if !allowed(c.Platforms, p) && !slices.Contains(outside, s) {
			outside = append(outside, s)
		}
	}
	if len(outside) == 0 {
		return sdk.Allow(), nil
	}
	return sdk.Deny(fmt.Sprintf("manifest %s is for platform(s) %s; %s allows only %s",
		r.Digest, strings.Join(outside, ", "), r.Repository,
		strings.Join(c.Platforms, ", "))), nil
}

// platforms returns the platforms a manifest declares, attestations left out.
func platforms(m *sdk.ManifestSummary) []sdk.Platform {
	all := slices.Clone(m.Platforms)
	for _, d := range m.Manifests {
		if d.Platform != nil {
			all = append(all, *d.Platform)
		}
	}
	return slices.DeleteFunc(all, func(p sdk.Platform) bool {
		return p.OS == "unknown" && p.Architecture == "unknown"
	})
}

// allowed reports whether p is one of the configured platforms.
func allowed(list []string, p sdk.Platform) bool {
	for _, s := range list {
		want, _ := parse(s)
		if want.OS == p.OS && want.Architecture == p.Architecture &&
			(want.Variant == "" || want.Variant == p.Variant) {
			return true
		}
	}
	return false
}

// parse reads OS/ARCHITECTURE[/VARIANT].
func parse(s string) (sdk.Platform, error) {
	parts := strings.Split(s, "/")
	if len(parts) < 2 || len(parts) > 3 || slices.Contains(parts, "") {
		return sdk.Platform{}, fmt.Errorf("platforms: %q is not os/architecture[/variant]", s)
	}
	p := sdk.Platform{OS: parts[0], Architecture: parts[1]}
	if len(parts) == 3 {
		p.Variant = parts[2]
	}
	return p, nil
}

func format(p sdk.Platform) string {
	if p.Variant == "" {
		return p.OS + "/" + p.Architecture
	}
	return p.OS + "/" + p.Architecture + "/" + p.Variant
}

func init() {
	sdk.Register(sdk.Plugin[config]{
		Name:     "allowed-platforms",
		Version:  "1.0.0",
		Validate: validate,
		Push:     push,
	})
}

func main() {}
