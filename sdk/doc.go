// Package sdk is what Berth plugin authors import. A plugin is a plain Go program
// compiled to a WebAssembly reactor:
//
//	GOOS=wasip1 GOARCH=wasm go build -buildmode=c-shared -o policy.wasm .
//
// The SDK implements the plugin ABI (docs/plugin-abi.md): the marker export, the
// allocator, the JSON envelopes and the host functions. An author writes only
// typed handlers. The package has no dependency on the Berth host.
//
// Writing a plugin:
//
//  1. Declare a configuration type C (a struct decoded from the binding's JSON
//     configuration) and, if it needs checking, a Validate function for it.
//  2. Write a handler per hook you implement: Push, Pull and Delete return a
//     Decision (Allow, or a denial with a Reason shown to the client); AfterPush
//     receives an event and returns only an error.
//  3. Call Register from an init function (a reactor never runs main) with a
//     Plugin[C] naming the handlers and the capabilities you use. Keep an empty
//     main function.
//  4. Returning an error from a handler, or panicking, reports a plugin error to
//     the host: the host cannot tell allow from deny then and applies the binding's
//     failure mode (closed by default). Deny with a Decision instead when you mean no.
//  5. Capabilities you list must be granted by the binding. Log is a no-op unless
//     CapLog is granted; Manifest, Config and Referrers return ErrNotGranted unless
//     theirs is.
//  6. Build with the command above and load the .wasm into Berth.
//
// A handler runs with the deadline and memory cap of its binding; an instance that
// loops, exhausts memory or crashes is thrown away by the host.
package sdk
