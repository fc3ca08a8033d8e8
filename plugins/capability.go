package plugins

import (
	"fmt"
	"slices"
)

// Capability names something a plugin may do beyond computing on its request.
// Every capability is off unless a binding grants it.
type Capability string

// Capabilities of ABI 1.0.
const (
	// CapLog lets the plugin write log records through berth_v1.log.
	CapLog Capability = "log"
	// CapManifest lets the plugin read the subject's manifest (berth_v1.manifest).
	CapManifest Capability = "manifest"
	// CapConfig lets the plugin read the subject's config blob (berth_v1.config).
	CapConfig Capability = "config"
	// CapReferrers lets the plugin read the subject's referrers index
	// (berth_v1.referrers).
	CapReferrers Capability = "referrers"
)

var knownCapabilities = []Capability{CapLog, CapManifest, CapConfig, CapReferrers}

// Valid reports whether c is a capability this host knows.
func (c Capability) Valid() bool { return slices.Contains(knownCapabilities, c) }

// capSet is an immutable set of granted capabilities.
type capSet uint8

func newCapSet(caps []Capability) (capSet, error) {
	var s capSet
	for _, c := range caps {
		i := slices.Index(knownCapabilities, c)
		if i < 0 {
			return 0, fmt.Errorf("%w: %q", ErrUnknownCapability, c)
		}
		s |= 1 << i
	}
	return s, nil
}

func (s capSet) has(c Capability) bool {
	i := slices.Index(knownCapabilities, c)
	return i >= 0 && s&(1<<i) != 0
}

func (s capSet) list() []Capability {
	var out []Capability
	for i, c := range knownCapabilities {
		if s&(1<<i) != 0 {
			out = append(out, c)
		}
	}
	return out
}
