// Command log-pushes is an example Berth plugin of the after-push hook: after each
// committed push it writes one log record naming the repository, tag, digest and
// size, through the log capability. Berth calls the hook asynchronously, so the
// plugin cannot slow or refuse a push. Configuration:
//
//	{"min_bytes": 1048576}
//
// Only images of at least min_bytes (config plus layers) are logged; zero logs all.
package main

import (
	"errors"
	"fmt"

	"berth.dev/berth/sdk"
)

// config is the binding's configuration.
type config struct {
	// MinBytes is the smallest image size logged.
	MinBytes int64 `json:"min_bytes"`
}

func validate(c *config) error {
	if c.MinBytes < 0 {
		return errors.New("min_bytes: must not be negative")
	}
	return nil
}

// record returns the log record of a push, or "" when it is not logged.
func record(c *config, ev *sdk.PushEvent) string {
	if ev.Manifest.TotalSize < c.MinBytes {
		return ""
	}
	ref := ev.Repository + "@" + ev.Digest
	if ev.Tag != "" {
		ref = ev.Repository + ":" + ev.Tag + "@" + ev.Digest
	}
	return fmt.Sprintf("pushed %s (%d bytes, %d layers)", ref, ev.Manifest.TotalSize,
		len(ev.Manifest.Layers))
}

func afterPush(c *config, ev *sdk.PushEvent) error {
	if msg := record(c, ev); msg != "" {
		sdk.Log(sdk.LevelInfo, msg)
	}
	return nil
}

func init() {
	sdk.Register(sdk.Plugin[config]{
		Name:         "log-pushes",
		Version:      "0.1.0",
		Capabilities: []string{sdk.CapLog},
		Validate:     validate,
		AfterPush:    afterPush,
	})
}

func main() {}
