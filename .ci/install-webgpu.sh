#!/usr/bin/env bash
# Installs what the tests need from Debian: Mesa's lavapipe Vulkan driver (version 25, from
# bookworm-backports) so that Dawn (the `webgpu` npm package) finds an adapter on a machine
# without a GPU, and ONNX's own backend test cases (`libonnx-testdata`, under
# /usr/share/libonnx-testdata/data) for the conformance suites.
#
# The backports entry is derived from the machine's own Debian apt source (its mirror URI and
# keyring), so the script works behind whatever mirror the machine uses. Running it twice
# changes nothing: the entry is written only when no bookworm-backports source exists.
#
#   bash .ci/install-webgpu.sh                 install
#   bash .ci/install-webgpu.sh --print-entry   only print the backports entry it would add
# KILN_APT_DIR (default /etc/apt) is where apt's sources are read from (for the script's test).
set -euo pipefail
APT_DIR="${KILN_APT_DIR:-/etc/apt}"
SUDO=""
if [ "$(id -u)" != "0" ]; then SUDO="sudo"; fi

backports_entry() {
  # deb822 sources first: the first stanza whose Suites include bookworm (not -security).
  local f
  for f in "$APT_DIR"/sources.list.d/*.sources; do
    [ -f "$f" ] || continue
    local entry
    entry=$(awk '
      BEGIN { RS = ""; FS = "\n" }
      {
        uri = ""; suites = ""; comps = ""; signed = ""; types = ""
        for (i = 1; i <= NF; i++) {
          if ($i ~ /^URIs:/)       { uri = $i; sub(/^URIs:[ \t]*/, "", uri); split(uri, u, /[ \t]+/); uri = u[1] }
          if ($i ~ /^Suites:/)     { suites = $i }
          if ($i ~ /^Signed-By:/)  { signed = $i; sub(/^Signed-By:[ \t]*/, "", signed) }
          if ($i ~ /^Types:/)      { types = $i }
        }
        if (types ~ /deb([ \t]|$)/ && suites ~ /[ \t]bookworm([ \t]|$)/ && uri != "") {
          printf "Types: deb\nURIs: %s\nSuites: bookworm-backports\nComponents: main\n", uri
          if (signed != "") printf "Signed-By: %s\n", signed
          exit
        }
      }' "$f")
    if [ -n "$entry" ]; then
      printf '%s\n' "$entry"
      return 0
    fi
  done
  # One-line sources.list: the first `deb URI bookworm ...` line.
  if [ -f "$APT_DIR/sources.list" ]; then
    local line
    line=$(grep -E '^[[:space:]]*deb[[:space:]]' "$APT_DIR/sources.list" | grep -E '[[:space:]]bookworm([[:space:]]|$)' | head -n 1 || true)
    if [ -n "$line" ]; then
      # Keep any [options] block, swap the suite, keep only the main component.
      printf '%s\n' "$line" | sed -E 's/[[:space:]]bookworm([[:space:]].*)?$/ bookworm-backports main/'
      return 0
    fi
  fi
  return 1
}

if [ "${1:-}" = "--print-entry" ]; then
  backports_entry
  exit $?
fi

if ! grep -rqsE "bookworm-backports" "$APT_DIR/sources.list" "$APT_DIR/sources.list.d/"; then
  if entry=$(backports_entry); then
    if printf '%s\n' "$entry" | grep -q '^Types:'; then
      target="$APT_DIR/sources.list.d/bookworm-backports.sources"
    else
      target="$APT_DIR/sources.list.d/bookworm-backports.list"
    fi
    echo "adding $target:"
    printf '%s\n' "$entry" | sed 's/^/  /'
    printf '%s\n' "$entry" | $SUDO tee "$target" >/dev/null
  else
    echo "install-webgpu.sh: no Debian bookworm entry found in $APT_DIR/sources.list or $APT_DIR/sources.list.d/*.sources" >&2
    exit 1
  fi
fi

export DEBIAN_FRONTEND=noninteractive
$SUDO apt-get update -q
$SUDO apt-get install -y -q -t bookworm-backports mesa-vulkan-drivers
$SUDO apt-get install -y -q libonnx-testdata
