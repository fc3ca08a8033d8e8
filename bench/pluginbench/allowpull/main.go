// Command allowpull is pluginbench's pull plugin: it allows every pull with a
// repository, so that the benchmark measures the host's cost, not a policy's.
package main

import (
	"errors"

	"berth.dev/berth/sdk"
)

func pull(_ *struct{}, r *sdk.PullRequest) (sdk.Decision, error) {
	if r.Repository == "" {
		return sdk.Decision{}, errors.New("no repository")
	}
	return sdk.Allow(), nil
}

func init() {
	sdk.Register(sdk.Plugin[struct{}]{Name: "allowpull", Version: "1.0.0", Pull: pull})
}

func main() {}
