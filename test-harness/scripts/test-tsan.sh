#!/usr/bin/env bash
# ThreadSanitizer pass over what runs on several threads: hostkit (driver queue,
# USB backend threads, completions) and the bridge (tty side, simulator bus),
# through hostkit's tests and the end-to-end suites that exercise unplug,
# null-modem pairs and line changes. Called by test-all.sh.
set -euo pipefail
root=$(cd "$(dirname "$0")/../.." && pwd)
dir=${1:-$root/build-tsan}
"$root/test-harness/scripts/build.sh" "$dir" -DUSBSERIAL_TSAN=ON -DUSBSERIAL_BENCHMARKS=OFF \
  -DCMAKE_BUILD_TYPE=RelWithDebInfo "-DCMAKE_CXX_FLAGS_RELWITHDEBINFO=-O1 -g1" \
  "-DCMAKE_C_FLAGS_RELWITHDEBINFO=-O1 -g1" -- test_hostkit_datapath test_hostkit_objects \
  test_hostkit_strictness usbserial-bridge
export TSAN_OPTIONS="halt_on_error=1 second_deadlock_stack=1"
for test in test_hostkit_datapath test_hostkit_objects test_hostkit_strictness; do
  "$dir/test-harness/hostkit/$test" --gtest_brief=1
done
cd "$root/test-harness/e2e"
USBSERIAL_BRIDGE="$dir/test-harness/bridge/usbserial-bridge" PYTHONDONTWRITEBYTECODE=1 \
  /usr/bin/python3 -m pytest -q -p no:cacheprovider test_lifecycle.py test_null_modem.py \
  test_line_settings.py
