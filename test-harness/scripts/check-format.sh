#!/usr/bin/env bash
# Fails when a C++ file in the tree differs from clang-format's output.
set -euo pipefail
root=$(cd "$(dirname "$0")/../.." && pwd)
cd "$root"
mapfile -t files < <(git ls-files '*.cpp' '*.hpp' '*.h' | grep -v '^test-harness/.*/fixtures/')
if ((${#files[@]})); then
  clang-format --dry-run --Werror "${files[@]}"
fi
echo "format: ${#files[@]} files clean"
