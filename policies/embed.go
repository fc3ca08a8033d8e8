package policies

import (
	"embed"
	"maps"
	"path"
	"strings"
	"sync"
)

//go:generate go run ./internal/gen -o wasm builtin/*

// modules holds the compiled built-in policies, one NAME.wasm per policy.
//
//go:embed wasm/*.wasm
var modules embed.FS

// Builtin returns the WebAssembly module of every built-in policy, keyed by the
// policy's name (such as "deny-tags"). The map is new on each call; the byte
// slices are shared and must not be modified.
func Builtin() map[string][]byte {
	return maps.Clone(builtin())
}

// builtin reads the embedded modules once.
var builtin = sync.OnceValue(func() map[string][]byte {
	entries, err := modules.ReadDir("wasm")
	if err != nil {
		panic("policies: embedded modules unreadable: " + err.Error())
	}
	out := make(map[string][]byte, len(entries))
	for _, e := range entries {
		b, err := modules.ReadFile(path.Join("wasm", e.Name()))
		if err != nil {
			panic("policies: embedded module unreadable: " + err.Error())
		}
		out[strings.TrimSuffix(e.Name(), ".wasm")] = b
	}
	return out
})
