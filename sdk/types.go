package sdk

import "time"

// Decision is an admission hook's answer.
type Decision struct {
	// Allow reports whether the operation may proceed.
	Allow bool `json:"allow"`
	// Reason explains a denial; Berth shows it to the client.
	Reason string `json:"reason,omitempty"`
}

// Allow returns a Decision that allows.
func Allow() Decision { return Decision{Allow: true} }

// Deny returns a Decision that denies for reason.
func Deny(reason string) Decision { return Decision{Reason: reason} }

// PushRequest asks whether a manifest may be pushed.
type PushRequest struct {
	Repository string          `json:"repository"`      // e.g. "library/nginx"
	Tag        string          `json:"tag,omitempty"`   // empty for a push by digest
	Digest     string          `json:"digest"`          // manifest digest
	MediaType  string          `json:"media_type"`      // manifest media type
	Actor      string          `json:"actor,omitempty"` // user pushing; empty if anonymous
	Manifest   ManifestSummary `json:"manifest"`        // what the manifest says
	// TagState is what Tag names before the push (ABI 1.1); nil for a push by
	// digest, and from hosts of ABI 1.0.
	TagState *TagState `json:"tag_state,omitempty"`
}

// TagState is what a pushed tag names before the push.
type TagState struct {
	Exists bool   `json:"exists"`           // whether the tag exists in the repository
	Digest string `json:"digest,omitempty"` // the manifest it names, when it exists
}

// ManifestSummary is what the host extracts from a manifest so that most plugins
// need no capability to read it.
type ManifestSummary struct {
	ArtifactType string            `json:"artifact_type,omitempty"`
	Config       *Descriptor       `json:"config,omitempty"`      // absent for an index
	Layers       []Descriptor      `json:"layers,omitempty"`      // image layers
	Manifests    []Descriptor      `json:"manifests,omitempty"`   // index entries
	TotalSize    int64             `json:"total_size"`            // config plus layers
	Annotations  map[string]string `json:"annotations,omitempty"` // manifest annotations
	Subject      string            `json:"subject,omitempty"`     // digest it refers to
	// Platforms lists the platforms of an index's entries, or the image's own
	// platform when the host knows it.
	Platforms []Platform `json:"platforms,omitempty"`
}

// Descriptor names a blob or manifest.
type Descriptor struct {
	MediaType string    `json:"media_type"`
	Digest    string    `json:"digest"`
	Size      int64     `json:"size"`
	Platform  *Platform `json:"platform,omitempty"` // index entries only
}

// Platform is an OCI platform.
type Platform struct {
	OS           string `json:"os"`
	Architecture string `json:"architecture"`
	Variant      string `json:"variant,omitempty"`
}

// PullRequest asks whether a manifest may be pulled.
type PullRequest struct {
	Repository string `json:"repository"`
	Reference  string `json:"reference"`        // tag or digest as the client asked
	Digest     string `json:"digest,omitempty"` // resolved digest
	MediaType  string `json:"media_type,omitempty"`
	Actor      string `json:"actor,omitempty"`
}

// DeleteRequest asks whether a manifest or a tag may be deleted.
type DeleteRequest struct {
	Repository string `json:"repository"`
	Tag        string `json:"tag,omitempty"`    // set when a tag is deleted
	Digest     string `json:"digest,omitempty"` // set when a manifest is deleted
	Actor      string `json:"actor,omitempty"`
}

// PushEvent reports a committed push (hook after_push).
type PushEvent struct {
	PushRequest
	Time time.Time `json:"time"`
}
