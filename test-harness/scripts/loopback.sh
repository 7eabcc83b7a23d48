#!/usr/bin/env bash
# The main job: builds what it runs (usbserial-loopback and usbserial-bridge, nothing else)
# and runs usbserial-loopback, which by default brings up the real driver on a simulated
# FT232R with a loopback plug and streams a verified pattern through its tty both ways.
# Arguments go to usbserial-loopback (e.g. a real port: loopback.sh /dev/ttyUSB0 --baud 3000000).
#
# The build's progress and, when it fails, the compiler's messages go to stderr; stdout is
# the tool's report. USBSERIAL_BUILD_DIR overrides the build directory (default: build/).
set -euo pipefail
root=$(cd "$(dirname "$0")/../.." && pwd)
build=${USBSERIAL_BUILD_DIR:-$root/build}
say() { echo "loopback.sh: $*" >&2; }

"$root/test-harness/scripts/deps.sh"

log=$(mktemp)
trap 'rm -f "$log"' EXIT
say "configuring $build"
if ! cmake -S "$root" -B "$build" -G Ninja -DCMAKE_BUILD_TYPE=Release >"$log" 2>&1; then
  cat "$log" >&2
  say "configuring failed (cmake's messages are above)"
  exit 1
fi
say "building usbserial-loopback and usbserial-bridge (the first build takes several minutes)"
if ! ninja -C "$build" usbserial-loopback usbserial-bridge >&2; then
  say "the build failed (the compiler's messages are above)"
  exit 1
fi
exec "$build/test-harness/loopback/usbserial-loopback" "$@"
