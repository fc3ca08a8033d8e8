package plugins

import (
	"encoding/json"
	"fmt"
	"strconv"
	"strings"
)

// The ABI this host speaks; see docs/plugin-abi.md.
const (
	// ABIMajor is the ABI major version. A module marks it by exporting the function
	// "berth_abi_v<major>"; any other major is refused before the module runs.
	ABIMajor = 1
	// ABIMinor is the newest minor version this host provides. The marker function
	// returns the minor the module needs; a higher one is refused.
	ABIMinor = 1
	// HostModule is the import module name of the host functions.
	HostModule = "berth_v1"
)

// Names of the module's exports.
const (
	exportMarker   = "berth_abi_v1"
	markerPrefix   = "berth_abi_v"
	exportAlloc    = "berth_alloc"
	exportDescribe = "berth_describe"
	exportInit     = "berth_init"
	exportMemory   = "memory"
	hookPrefix     = "berth_hook_"
	wasiModule     = "wasi_snapshot_preview1"
	initFunction   = "_initialize"
)

// Description is what a module says about itself through berth_describe.
type Description struct {
	// Name is the plugin's own name for itself (informational).
	Name string `json:"name,omitempty"`
	// Version is the plugin's own version (informational).
	Version string `json:"version,omitempty"`
	// Hooks lists the hooks the plugin implements, such as "push".
	Hooks []string `json:"hooks"`
	// Capabilities lists what the plugin uses; a binding must grant all of them.
	Capabilities []Capability `json:"capabilities,omitempty"`
}

// initRequest is the message of berth_init.
type initRequest struct {
	ABI          string          `json:"abi"`
	Config       json.RawMessage `json:"config"`
	Capabilities []Capability    `json:"capabilities"`
}

// envelope is every response of berth_init and berth_hook_*: exactly one member.
type envelope struct {
	Result json.RawMessage `json:"result"`
	Error  *string         `json:"error"`
}

func abiString() string { return fmt.Sprintf("%d.%d", ABIMajor, ABIMinor) }

// markerMajor returns the major named by an export "berth_abi_v<N>".
func markerMajor(name string) (int, bool) {
	rest, ok := strings.CutPrefix(name, markerPrefix)
	if !ok {
		return 0, false
	}
	n, err := strconv.Atoi(rest)
	return n, err == nil
}

// hookExport returns the export name of a hook.
func hookExport(hook string) string { return hookPrefix + hook }

// validHookName reports whether a hook name is lower-case letters, digits and
// underscores, as the export names need.
func validHookName(h string) bool {
	if h == "" {
		return false
	}
	for _, r := range h {
		if (r < 'a' || r > 'z') && (r < '0' || r > '9') && r != '_' {
			return false
		}
	}
	return true
}

// unpack splits a packed (ptr<<32 | len) result.
func unpack(v uint64) (ptr, n uint32) { return uint32(v >> 32), uint32(v) }

// decodeEnvelope parses a response; a plugin error becomes *PluginError.
func decodeEnvelope(plugin, hook string, b []byte) (json.RawMessage, error) {
	var env envelope
	if err := json.Unmarshal(b, &env); err != nil {
		return nil, fmt.Errorf("%w: %s: %v", ErrBadResponse, hook, err)
	}
	if env.Error != nil {
		return nil, &PluginError{Plugin: plugin, Hook: hook, Message: *env.Error}
	}
	if env.Result == nil {
		return nil, fmt.Errorf("%w: %s: neither result nor error", ErrBadResponse, hook)
	}
	return env.Result, nil
}
