#!/usr/bin/env bash
# The main job: builds the project and runs usbserial-loopback, which by default
# brings up the real driver on a simulated FT232R with a loopback plug and
# streams a verified pattern through its tty both ways. Arguments go to
# usbserial-loopback (e.g. a real port: loopback.sh /dev/ttyUSB0 --baud 3000000).
set -euo pipefail
root=$(cd "$(dirname "$0")/../.." && pwd)
"$root/test-harness/scripts/deps.sh"
"$root/test-harness/scripts/build.sh" "$root/build" -DCMAKE_BUILD_TYPE=Release >/dev/null
exec "$root/build/test-harness/loopback/usbserial-loopback" "$@"
