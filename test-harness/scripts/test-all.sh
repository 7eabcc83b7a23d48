#!/usr/bin/env bash
# Every test: the normal build, then the whole suite again under
# AddressSanitizer + UndefinedBehaviorSanitizer, then hostkit and the bridge under
# ThreadSanitizer, then the formatting check.
set -euo pipefail
root=$(cd "$(dirname "$0")/../.." && pwd)
jobs=$(nproc)
"$root/test-harness/scripts/deps.sh"

# CI builds without debug information (a third faster to compile); the
# sanitizer build keeps line tables at -O1 so its reports have file:line.
echo "== build (Release)"
"$root/test-harness/scripts/build.sh" "$root/build" -DCMAKE_BUILD_TYPE=Release
echo "== tests"
ctest --test-dir "$root/build" --output-on-failure -j "$jobs"

echo "== build (ASan + UBSan)"
"$root/test-harness/scripts/build.sh" "$root/build-asan" -DUSBSERIAL_SANITIZE=ON \
  -DUSBSERIAL_BENCHMARKS=OFF -DCMAKE_BUILD_TYPE=RelWithDebInfo \
  "-DCMAKE_CXX_FLAGS_RELWITHDEBINFO=-O1 -g1" "-DCMAKE_C_FLAGS_RELWITHDEBINFO=-O1 -g1"
echo "== tests (ASan + UBSan)"
# The e2e suites run once per driver class here; their "merge" SetProperties runs
# (e2e.merge.*) differ only in where properties land, which hostkit's own tests
# cover under the sanitizers.
ASAN_OPTIONS=detect_leaks=1:abort_on_error=1 UBSAN_OPTIONS=print_stacktrace=1 \
  ctest --test-dir "$root/build-asan" --output-on-failure -j "$jobs" -E '^e2e[.]merge[.]'


echo "== ThreadSanitizer (hostkit and the bridge)"
"$root/test-harness/scripts/test-tsan.sh" "$root/build-tsan"

echo "== format"
"$root/test-harness/scripts/check-format.sh"
echo "== all tests passed"
