#!/usr/bin/env bash
# Builds Cortex's single binary, at the version this module's go.mod pins,
# into a cache outside the clone (once per version) and prints its path:
#
#   export OBSBUNDLE_CORTEX=$(tools/cortex/build.sh)
#
# The ruler test (ruler/) runs it. A cold build takes several minutes on
# two cores; the binary is kept at
# ${XDG_CACHE_HOME:-$HOME/.cache}/obsbundle/cortex-<version>/cortex.
set -euo pipefail
cd "$(dirname "$0")"
version=$(go list -m -f '{{.Version}}' github.com/cortexproject/cortex)
dir="${XDG_CACHE_HOME:-$HOME/.cache}/obsbundle/cortex-$version"
bin="$dir/cortex"
if [ ! -x "$bin" ]; then
  mkdir -p "$dir"
  began=$(date +%s)
  # Cortex's own build tags (its Makefile): it converts between
  # labels.Labels and its protobuf label slices in place, which only holds
  # with Prometheus' slice implementation of labels; without the tag the
  # ruler API panics on a rule with labels.
  go build -tags netgo,slicelabels -ldflags "-X main.Version=${version#v}" -o "$bin.partial.$$" github.com/cortexproject/cortex/cmd/cortex
  mv "$bin.partial.$$" "$bin"
  echo "built Cortex $version in $(( $(date +%s) - began ))s: $bin" >&2
fi
echo "$bin"
