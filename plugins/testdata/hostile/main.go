// Command hostile is a test plugin that misbehaves on demand: the tag of a push
// names the misdeed. Any other tag is allowed. The configuration {"at_init": MISDEED}
// misbehaves while the binding validates it instead.
package main

import (
	"strings"
	"unsafe"

	"berth.dev/berth/sdk"
)

//go:wasmimport berth_v1 manifest
func rawManifest(ptr unsafe.Pointer, capacity uint32) int64

var hoard [][]byte

// config is the binding's configuration.
type config struct {
	AtInit string `json:"at_init"`
}

func validate(c *config) error {
	_, err := misbehave(c.AtInit)
	return err
}

func push(_ *config, r *sdk.PushRequest) (sdk.Decision, error) {
	return misbehave(r.Tag)
}

func misbehave(what string) (sdk.Decision, error) {
	switch what {
	case "loop":
		for {
		}
	case "bomb":
		for {
			hoard = append(hoard, make([]byte, 1<<20))
		}
	case "panic":
		panic("handler panicked")
	case "crash":
		done := make(chan struct{})
		go func() { panic("goroutine panicked") }()
		<-done
	case "huge":
		return sdk.Deny(strings.Repeat("x", 1<<20)), nil
	case "manifest":
		// Bypasses the SDK's check to reach the host function directly.
		rawManifest(nil, 0)
	}
	return sdk.Allow(), nil
}

func init() {
	sdk.Register(sdk.Plugin[config]{Name: "hostile", Validate: validate, Push: push})
}

func main() {}
