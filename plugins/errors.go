package plugins

import (
	"errors"
	"fmt"
)

// Errors returned by the host. Callers compare with errors.Is.
var (
	// ErrABIVersion reports a module that does not speak ABI major 1, or needs a
	// newer minor version than this host provides.
	ErrABIVersion = errors.New("plugins: unsupported plugin ABI version")
	// ErrNotPlugin reports a module that lacks a required export of the ABI.
	ErrNotPlugin = errors.New("plugins: module does not implement the plugin ABI")
	// ErrUnknownImport reports a module importing a function the host does not provide.
	ErrUnknownImport = errors.New("plugins: module imports an unknown function")
	// ErrInvalidConfig reports a binding configuration the plugin refused.
	ErrInvalidConfig = errors.New("plugins: invalid binding configuration")
	// ErrInvalidLimits reports limits outside what the host accepts.
	ErrInvalidLimits = errors.New("plugins: invalid limits")
	// ErrUnknownCapability reports a capability name the host does not know.
	ErrUnknownCapability = errors.New("plugins: unknown capability")
	// ErrCapabilityNotGranted reports a plugin that requested or used a capability its
	// binding does not grant.
	ErrCapabilityNotGranted = errors.New("plugins: capability not granted")
	// ErrHookNotImplemented reports a call of a hook the plugin did not declare.
	ErrHookNotImplemented = errors.New("plugins: hook not implemented by plugin")
	// ErrTimeout reports a call that passed its deadline; the instance was discarded.
	ErrTimeout = errors.New("plugins: call deadline exceeded")
	// ErrMemoryLimit reports a guest that ran out of its memory cap.
	ErrMemoryLimit = errors.New("plugins: plugin exceeded its memory limit")
	// ErrTrapped reports a guest that trapped or exited during a call.
	ErrTrapped = errors.New("plugins: plugin trapped")
	// ErrOutputTooLarge reports a response larger than the binding's output limit.
	ErrOutputTooLarge = errors.New("plugins: plugin output exceeds limit")
	// ErrBadResponse reports a response that is not a valid ABI envelope.
	ErrBadResponse = errors.New("plugins: malformed plugin response")
	// ErrPluginFailed reports a plugin that answered with an error; see PluginError.
	ErrPluginFailed = errors.New("plugins: plugin returned an error")
	// ErrClosed reports use of a closed host, module or binding.
	ErrClosed = errors.New("plugins: closed")
)

// PluginError is the error a plugin returned as data (the "error" member of its
// response envelope). It matches ErrPluginFailed with errors.Is.
type PluginError struct {
	Plugin  string // name given to Host.Load
	Hook    string // hook called, or "init" for configuration
	Message string // the plugin's own message
}

// Error implements error.
func (e *PluginError) Error() string {
	return fmt.Sprintf("plugins: %s: %s: %s", e.Plugin, e.Hook, e.Message)
}

// Unwrap returns ErrPluginFailed.
func (e *PluginError) Unwrap() error { return ErrPluginFailed }
