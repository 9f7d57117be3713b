#!/usr/bin/env bash
# Builds the Prometheus 3 server this module pins, once per version, into a
# cache outside the clone, and prints the binary's path on stdout (progress
# goes to stderr). The end-to-end tests run it beside Debian's Prometheus
# 2.42 when PROMETHEUS3 names it:
#
#   export PROMETHEUS3="$(tools/prometheus3/build.sh)"
#
# A cold build took 16 CPU-minutes (and 42 minutes on a 2-core machine
# busy with other builds); afterwards this prints the cached path at once. The cache key is the Prometheus version in go.mod, so a
# version bump builds a new binary beside the old one.
set -euo pipefail
cd "$(dirname "$0")"

version=$(go list -m -f '{{.Version}}' github.com/prometheus/prometheus)
# The module's v0.316.0 is Prometheus 3.16.0.
release="3.${version#v0.3}"
dir="${XDG_CACHE_HOME:-$HOME/.cache}/obsbundle/prometheus-${version}"
bin="$dir/prometheus"

# is_release BIN: BIN runs and says it is Prometheus $release.
is_release() {
  local out
  out=$("$1" --version 2>/dev/null) || return 1
  [[ $out == "prometheus, version ${release} "* ]]
}

if [ -x "$bin" ] && is_release "$bin"; then
  echo "$bin"
  exit 0
fi

echo "building Prometheus ${version} into $bin (about 16 CPU-minutes cold)" >&2
mkdir -p "$dir"
start=$(date +%s)
# Build to a temporary name and rename, so an interrupted build never
# leaves a binary the check above would take for a good one.
tmp=$(mktemp "$dir/prometheus.XXXXXX")
trap 'rm -f "$tmp"' EXIT
# The version is stamped as Prometheus' own release build does, so that
# --version and /api/v1/status/buildinfo tell which server this is.
go build -trimpath -ldflags "-X github.com/prometheus/common/version.Version=${release} -X github.com/prometheus/common/version.Revision=${version} -X github.com/prometheus/common/version.Branch=${version}" \
  -o "$tmp" github.com/prometheus/prometheus/cmd/prometheus
is_release "$tmp"
mv "$tmp" "$bin"
trap - EXIT
echo "built Prometheus ${version} in $(( $(date +%s) - start ))s" >&2
echo "$bin"
