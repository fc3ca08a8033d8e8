// Package policies binds plugins to the registry's hooks and holds Berth's
// built-in policies, compiled to WebAssembly and embedded so that `berth serve` has
// them without a build step.
//
// Bindings, in the order a gateway meets them:
//
//  1. A Catalog (NewCatalog) keeps installed plugins (modules in blob storage by
//     digest, records under plugins/module/) and bindings (plugins/binding/) in
//     metadata; docs/keyspace.md lists the keys. Install refuses a module the host
//     refuses; Attach refuses a binding the plugin refuses. The admin API and the
//     CLI call it; authorization is theirs.
//  2. An Engine (NewEngine) binds the configuration file's bindings and the stored
//     ones. Run Follow in a goroutine: it watches the records and rebuilds the
//     bindings at once on every change, keeping the pools of unchanged ones.
//  3. Push, Pull and Delete decide; a denial wraps ErrDenied with the plugin's
//     reason. A hook's bindings are asked in parallel; a failing plugin denies
//     unless its binding fails open. AfterPush calls after-push hooks and only logs.
//
// Built-in policies: each is an ordinary plugin written with package sdk, in
// policies/builtin/<name>, and speaks the plugin ABI like any user's plugin
// (docs/plugin-abi.md). Its compiled module is committed as policies/wasm/<name>.wasm.
//
//   - tag-immutability: a tag matching a pattern may not move to another digest.
//   - deny-tags: tags matching a pattern may not be pushed.
//   - max-image-size: an image's config and layers may not exceed a size.
//   - required-annotations: a manifest must carry annotations.
//   - allowed-platforms: an index may only name listed platforms.
//
// Using them:
//
//  1. Builtin returns the modules by name; load one into a plugins.Host with its
//     name and bind it with the JSON configuration its README.md describes. No
//     built-in policy needs a capability.
//  2. After changing a policy's source, run `task policies` (or go generate) to
//     rebuild its module and commit both. The build is reproducible (package
//     wasmbuild); scripts/check-policies fails when a committed module differs
//     from a rebuild, so CI catches a module that was not rebuilt.
package policies
