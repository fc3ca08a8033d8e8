// Package plugins is Berth's WebAssembly plugin host. It loads untrusted modules
// that speak the Berth plugin ABI (docs/plugin-abi.md), keeps pools of initialized
// instances per binding, and calls their hooks with JSON messages under a deadline,
// a memory cap and output and log limits. It knows nothing of the registry: what a
// plugin may read about the image it judges comes through the Subject interface the
// caller implements.
//
// The contract, in the order a caller meets it:
//
//  1. Create one Host per process with NewHost. Give it a CacheDir so that modules
//     compile once per machine (about 0.1 s instead of 2-3 s for a Go guest).
//  2. Load a module's bytes with Host.Load. Load refuses a module whose ABI major is
//     not 1 before any of its code runs, then instantiates it once to read its
//     description (hooks and capabilities it requests).
//  3. Bind the module to a configuration with Module.Bind. Bind grants capabilities
//     (all are off unless granted), fixes the limits and asks the plugin to validate
//     its configuration; a refusal is returned as ErrInvalidConfig.
//  4. Call a hook with Binding.Call. A denial is data in the response; an error means
//     the plugin could not decide (it failed, trapped, timed out or exceeded a limit)
//     and the caller applies its failure mode, closed by default. An instance that
//     trapped, timed out or exceeded a limit is closed and never reused.
//  5. Close bindings, modules and finally the Host. Closing the Host closes all.
//
// The host exposes no filesystem, no network, no environment and no arguments to
// guests. WASI is linked only for what language runtimes need: clocks, random bytes,
// and stdout and stderr, which are captured into the call's log budget.
package plugins
