#!/usr/bin/env bash
# Every test: the normal build, then the whole suite again under
# AddressSanitizer + UndefinedBehaviorSanitizer, then the formatting check.
set -euo pipefail
root=$(cd "$(dirname "$0")/../.." && pwd)
jobs=$(nproc)
"$root/test-harness/scripts/deps.sh"

echo "== build (RelWithDebInfo)"
"$root/test-harness/scripts/build.sh" "$root/build"
echo "== tests"
ctest --test-dir "$root/build" --output-on-failure -j "$jobs"

echo "== build (ASan + UBSan)"
"$root/test-harness/scripts/build.sh" "$root/build-asan" -DUSBSERIAL_SANITIZE=ON \
  -DUSBSERIAL_BENCHMARKS=OFF
echo "== tests (ASan + UBSan)"
ASAN_OPTIONS=detect_leaks=1:abort_on_error=1 UBSAN_OPTIONS=print_stacktrace=1 \
  ctest --test-dir "$root/build-asan" --output-on-failure -j "$jobs"

echo "== format"
"$root/test-harness/scripts/check-format.sh"
echo "== all tests passed"
