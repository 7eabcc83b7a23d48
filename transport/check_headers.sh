#!/usr/bin/env bash
# Fails when a transport/ source includes a standard header outside the
# DriverKit-safe list in docs/architecture.md. Project headers ("...") are always allowed.
set -euo pipefail
dir=$1
allowed='cstdint|cstddef|cstring|array|span|type_traits|limits|utility|algorithm|atomic|bit'
status=0
while IFS= read -r line; do
  file=${line%%:*}
  header=$(sed -E 's/.*#include[[:space:]]*<([^>]+)>.*/\1/' <<<"${line#*:}")
  if ! [[ "$header" =~ ^($allowed)$ ]]; then
    echo "$file includes <$header>, which transport/ may not use" >&2
    status=1
  fi
done < <(find "$dir" -path "$dir/tests" -prune -o \( -name '*.hpp' -o -name '*.cpp' \) -print |
         xargs grep -H '#include[[:space:]]*<' || true)
exit $status
