#!/usr/bin/env bash
# Installs the pinned tools that Berth's tests and benchmarks use into .tools/bin.
# Go's build cache keeps a second run fast; a tool already at its pinned version is kept.
set -euo pipefail
cd "$(dirname "$0")/.."
TOOLS="$PWD/.tools"
mkdir -p "$TOOLS/bin"

# name  package@version  (one line per tool; the version is the pin)
go_tools=(
  "crane github.com/google/go-containerregistry/cmd/crane@v0.22.1"
  "oras oras.land/oras/cmd/oras@v1.3.6"
  "conformance github.com/opencontainers/distribution-spec/conformance@v0.0.0-20260831232431-97274622c111"
  # MinIO for the S3 tests: a cold build takes 8-14 minutes on two cores, so
  # scripts/test starts this script early and in the background.
  "minio github.com/minio/minio@v0.0.0-20260212201848-7aac2a2c5b7c"
)
if [ "${BERTH_BENCH_TOOLS:-0}" = 1 ]; then
  go_tools+=("registry github.com/distribution/distribution/v3/cmd/registry@v3.1.2")
fi

# Debian packages for the real-client tests (skopeo, containerd's ctr). Needs root.
# apt-get runs in the background while Go compiles the tools above.
need_apt=()
command -v skopeo >/dev/null || need_apt+=(skopeo)
command -v ctr >/dev/null || need_apt+=(containerd)
command -v haproxy >/dev/null || need_apt+=(haproxy) # load balancer of the HA tests
apt_pid=
if [ "${#need_apt[@]}" -gt 0 ]; then
  if [ "$(id -u)" != 0 ]; then
    echo "tools: ${need_apt[*]} missing and not root; their tests will be skipped" >&2
  else
    echo "tools: apt-get install ${need_apt[*]}" >&2
    (
      export DEBIAN_FRONTEND=noninteractive
      apt-get update -qq >/dev/null
      apt-get install -y -qq --no-install-recommends "${need_apt[@]}" >/dev/null
    ) &
    apt_pid=$!
  fi
fi

for line in "${go_tools[@]}"; do
  read -r name pkg <<<"$line"
  stamp="$TOOLS/bin/.$name.version"
  if [ -x "$TOOLS/bin/$name" ] && [ "$(cat "$stamp" 2>/dev/null)" = "$pkg" ]; then
    continue
  fi
  echo "tools: installing $pkg" >&2
  GOBIN="$TOOLS/bin" go install "$pkg"
  echo "$pkg" >"$stamp"
done

if [ -n "$apt_pid" ] && ! wait "$apt_pid"; then
  echo "tools: apt-get install ${need_apt[*]} failed" >&2
  exit 1
fi
