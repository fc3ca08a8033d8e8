package sdk

// ABI version implemented by this SDK.
const (
	ABIMajor = 1
	ABIMinor = 1 // 1.1 added PushRequest.TagState
)

// Hook names of ABI 1.0.
const (
	HookPush      = "push"       // push admission, before a manifest is committed
	HookPull      = "pull"       // pull admission, before a manifest is served
	HookDelete    = "delete"     // delete admission, before a manifest or tag goes
	HookAfterPush = "after_push" // event after a push committed; cannot refuse
)

// Capability names of ABI 1.0.
const (
	CapLog       = "log"
	CapManifest  = "manifest"
	CapConfig    = "config"
	CapReferrers = "referrers"
)
