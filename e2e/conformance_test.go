package e2e

import (
	"encoding/xml"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// conformanceEnv configures the OCI conformance program: distribution-spec 1.1,
// every API on, every kind of test data on. Sparse manifests stay off because
// Berth rejects a manifest whose blobs are missing (content addressing is law).
var conformanceEnv = []string{
	"OCI_VERSION=1.1",
	"OCI_TLS=disabled",
	"OCI_REPO1=conformance/repo1",
	"OCI_REPO2=conformance/repo2",
	"OCI_LOG=info", // names each check as it passes: the last one shows where a run hung

	"OCI_API_PING=true",
	"OCI_API_PULL=true",
	"OCI_API_PUSH=true",
	"OCI_API_BLOBS_ATOMIC=true",
	"OCI_API_BLOBS_DELETE=true",
	"OCI_API_BLOBS_DIGEST_HEADER=true",
	"OCI_API_BLOBS_MOUNT_ANONYMOUS=true",
	"OCI_API_BLOBS_UPLOAD_CANCEL=true",
	"OCI_API_MANIFESTS_ATOMIC=true",
	"OCI_API_MANIFESTS_DELETE=true",
	"OCI_API_MANIFESTS_DIGEST_HEADER=true",
	"OCI_API_MANIFESTS_TAG_PARAM=true",
	"OCI_API_TAGS_ATOMIC=true",
	"OCI_API_TAGS_DELETE=true",
	"OCI_API_TAGS_LIST=true",
	"OCI_API_REFERRER=true",

	"OCI_DATA_IMAGE=true",
	"OCI_DATA_INDEX=true",
	"OCI_DATA_INDEX_LIST=true",
	"OCI_DATA_SPARSE=false",
	"OCI_DATA_ARTIFACT=true",
	"OCI_DATA_SUBJECT=true",
	"OCI_DATA_SUBJECT_MISSING=true",
	"OCI_DATA_ARTIFACT_LIST=true",
	"OCI_DATA_SUBJECT_LIST=true",
	"OCI_DATA_DATA_FIELD=true",
	"OCI_DATA_NONDISTRIBUTABLE=true",
	"OCI_DATA_CUSTOM_FIELDS=true",
	"OCI_DATA_NO_LAYERS=true",
	"OCI_DATA_EMPTY_BLOB=true",
	"OCI_DATA_SHA512=true",
}

// minConformanceChecks is well below the number of checks the pinned program
// runs with conformanceEnv; fewer means the run was cut short or misconfigured.
const minConformanceChecks = 100

// detailedFailures is how many failed checks are shown with their requests and
// responses; later ones show only their error messages.
const detailedFailures = 10

const requestsMarker = "\n--- requests and responses:\n"

// junitSuites is the part of the conformance program's junit.xml the test reads.
type junitSuites struct {
	Tests    int `xml:"tests,attr"`
	Failures int `xml:"failures,attr"`
	Errors   int `xml:"errors,attr"`
	Skipped  int `xml:"skipped,attr"`
	Suites   []struct {
		Cases []struct {
			Name      string `xml:"name,attr"`
			Status    string `xml:"status,attr"`
			SystemOut string `xml:"system-out"`
			SystemErr string `xml:"system-err"`
		} `xml:"testcase"`
	} `xml:"testsuite"`
}

// TestOCIConformance runs the OCI distribution-spec conformance program.
func TestOCIConformance(t *testing.T) {
	prog := tool(t, "conformance")
	t.Parallel()
	runConformance(t, prog, startServer(t))
}

// runConformance runs the conformance program against s and fails t for each
// check that failed.
func runConformance(t *testing.T, prog string, s *server) {
	t.Helper()
	work := t.TempDir() // also the working directory: no stray oci-conformance.yaml
	results := filepath.Join(work, "results")

	env := append(withoutOCIEnv(os.Environ()), conformanceEnv...)
	env = append(env, "OCI_REGISTRY="+s.addr, "OCI_RESULTS_DIR="+results)
	if target.kind == "berth" {
		env = append(env, "OCI_USERNAME="+adminUser, "OCI_PASSWORD="+adminPassword)
	}
	stdout, stderr, err := runEnv(t, work, env, prog)
	report := readJUnit(t, results, stdout, stderr, err)

	for i, c := range failedCases(report) {
		if i >= detailedFailures {
			c.detail, _, _ = strings.Cut(c.detail, requestsMarker)
		}
		t.Errorf("conformance check %s: %s\n%s", c.status, c.name, c.detail)
	}
	if err != nil {
		t.Errorf("conformance program: %v\nend of its log:\n%s", err, lastLines(stderr, 20))
	}
	if report.Tests < minConformanceChecks {
		t.Errorf("conformance ran %d checks, want at least %d\nstdout:\n%s",
			report.Tests, minConformanceChecks, stdout)
	}
	logSkipped(t, report)
	t.Logf("conformance: %d checks, %d failed, %d errors, %d skipped",
		report.Tests, report.Failures, report.Errors, report.Skipped)
}

// withoutOCIEnv drops OCI_* variables a developer may have set for other runs.
func withoutOCIEnv(env []string) []string {
	var kept []string
	for _, kv := range env {
		if !strings.HasPrefix(kv, "OCI_") {
			kept = append(kept, kv)
		}
	}
	return kept
}

// readJUnit parses results/junit.xml; the program writes no report when its
// configuration is wrong, so a missing file fails the test with its output.
func readJUnit(t *testing.T, results, stdout, stderr string, runErr error) junitSuites {
	t.Helper()
	b, err := os.ReadFile(filepath.Join(results, "junit.xml"))
	if err != nil {
		t.Fatalf("conformance wrote no report (exit: %v): %v\nstdout:\n%s\nend of its log:\n%s",
			runErr, err, stdout, lastLines(stderr, 20))
	}
	if _, err := os.Stat(filepath.Join(results, "results.yaml")); err != nil {
		t.Errorf("conformance wrote no results.yaml: %v", err)
	}
	var report junitSuites
	if err := xml.Unmarshal(b, &report); err != nil {
		t.Fatalf("junit.xml: %v", err)
	}
	return report
}

type failedCase struct{ name, status, detail string }

// failedCases lists the checks with status failure or error, and what they said.
func failedCases(report junitSuites) []failedCase {
	var failed []failedCase
	for _, suite := range report.Suites {
		for _, c := range suite.Cases {
			if c.Status != "failure" && c.Status != "error" {
				continue
			}
			detail := strings.TrimSpace(c.SystemOut)
			if out := strings.TrimSpace(c.SystemErr); out != "" {
				detail += requestsMarker + lastBytes(out, 6<<10)
			}
			failed = append(failed, failedCase{c.Name, c.Status, detail})
		}
	}
	return failed
}

// logSkipped names the checks the program skipped because the registry
// answered that a feature is unsupported.
func logSkipped(t *testing.T, report junitSuites) {
	seen := map[string]bool{}
	for _, suite := range report.Suites {
		for _, c := range suite.Cases {
			line := c.Name + ": " + strings.TrimSpace(c.SystemOut)
			if c.Status != "skipped" || strings.Contains(c.SystemOut, "disabled") || seen[line] {
				continue
			}
			seen[line] = true
			t.Logf("conformance skipped %s", line)
		}
	}
}

// lastBytes returns the end of s, where the request that failed a check is.
func lastBytes(s string, n int) string {
	if len(s) <= n {
		return s
	}
	return "[...]\n" + s[len(s)-n:]
}

// lastLines returns the last n lines of s.
func lastLines(s string, n int) string {
	lines := strings.Split(strings.TrimRight(s, "\n"), "\n")
	if len(lines) > n {
		lines = lines[len(lines)-n:]
	}
	return strings.Join(lines, "\n")
}

func truncate(s string, n int) string {
	if len(s) <= n {
		return s
	}
	return s[:n] + "\n[... truncated]"
}
