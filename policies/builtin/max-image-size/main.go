// Command max-image-size is Berth's built-in policy that refuses images larger
// than a limit. Configuration:
//
//	{"max_bytes": 2147483648}
//
// max_bytes must be positive. An image's size is the sum of its config and layer
// sizes as its manifest declares them (or the request's total_size when that is
// larger). An index has neither and is allowed: each of its images is judged when
// it is pushed.
package main

import (
	"errors"
	"fmt"
	"math"

	"berth.dev/berth/sdk"
)

// config is the binding's configuration.
type config struct {
	// MaxBytes is the largest image allowed, in bytes.
	MaxBytes int64 `json:"max_bytes"`
}

func validate(c *config) error {
	if c.MaxBytes <= 0 {
		return errors.New("max_bytes: must be a positive number of bytes")
	}
	return nil
}

// push denies an image whose size exceeds the limit.
func push(c *config, r *sdk.PushRequest) (sdk.Decision, error) {
	size, err := imageSize(&r.Manifest)
	if err != nil {
		return sdk.Decision{}, err
	}
	if size <= c.MaxBytes {
		return sdk.Allow(), nil
	}
	return sdk.Deny(fmt.Sprintf("image %s is %d bytes (config and layers), more than "+
		"the %d allowed in %s", r.Digest, size, c.MaxBytes, r.Repository)), nil
}

// imageSize returns the sum of the config and layer sizes, or the summary's total
// when that is larger. A sum past MaxInt64 saturates.
func imageSize(m *sdk.ManifestSummary) (int64, error) {
	descs := m.Layers
	if m.Config != nil {
		descs = append([]sdk.Descriptor{*m.Config}, descs...)
	}
	var sum int64
	for _, d := range descs {
		if d.Size < 0 {
			return 0, fmt.Errorf("max-image-size: blob %s has negative size %d",
				d.Digest, d.Size)
		}
		if sum > math.MaxInt64-d.Size {
			return math.MaxInt64, nil
		}
		sum += d.Size
	}
	return max(sum, m.TotalSize), nil
}

func init() {
	sdk.Register(sdk.Plugin[config]{
		Name:     "max-image-size",
		Version:  "1.0.0",
		Validate: validate,
		Push:     push,
	})
}

func main() {}
