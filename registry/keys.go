package registry

import (
	"fmt"
	"time"

	"github.com/opencontainers/go-digest"
)

// The keyspace of the registry core; docs/keyspace.md documents it. Repository names
// never contain '!', so "repo/<name>!" prefixes never overlap.
const (
	prefixCatalog = "catalog/"
	prefixUpload  = "upload/"
	prefixEvent   = "event/"
	prefixUsage   = "quota/usage/"
	prefixRef     = "quota/ref/"
	keySchema     = "meta/schema"
	schemaVersion = "2"
)

func repoPrefix(repo string) string { return "repo/" + repo + "!" }

func blobKey(repo string, d digest.Digest) string {
	return repoPrefix(repo) + "blob/" + d.String()
}

func manifestKey(repo string, d digest.Digest) string {
	return repoPrefix(repo) + "manifest/" + d.String()
}

func tagPrefix(repo string) string { return repoPrefix(repo) + "tag/" }

func tagKey(repo, tag string) string { return tagPrefix(repo) + tag }

func referrerPrefix(repo string, subject digest.Digest) string {
	return repoPrefix(repo) + "referrer/" + subject.String() + "/"
}

func referrerKey(repo string, subject, d digest.Digest) string {
	return referrerPrefix(repo, subject) + d.String()
}

// Project names never contain '/', so "quota/ref/<project>/" prefixes never overlap.
func usageKey(project string) string { return prefixUsage + project }

func usageRefPrefix(project string) string { return prefixRef + project + "/" }

func usageRefKey(project string, d digest.Digest) string {
	return usageRefPrefix(project) + d.String()
}

func uploadKey(id string) string { return prefixUpload + id }

func catalogKey(repo string) string { return prefixCatalog + repo }

// eventKey orders events by time; the random suffix keeps keys of the same
// nanosecond apart.
func eventKey(t time.Time, suffix string) string {
	return fmt.Sprintf("%s%020d-%s", prefixEvent, t.UnixNano(), suffix)
}
