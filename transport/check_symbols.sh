#!/usr/bin/env bash
# Fails when the transport archive references a symbol outside the allow-list:
# the proof that the core links inside a dext (no heap, no exceptions, no libstdc++ runtime).
set -euo pipefail
archive=$1
allow=$2
allowed=$(grep -v '^#' "$allow" | sed '/^$/d' | sort -u)
# Symbols undefined in some member and not defined by any other member.
undefined=$(nm -u "$archive" | awk 'NF==2 && $1=="U" {print $2}' | sort -u)
defined=$(nm --defined-only "$archive" | awk 'NF==3 {print $3}' | sort -u)
external=$(comm -23 <(echo "$undefined") <(echo "$defined"))
bad=$(comm -23 <(echo "$external" | sed '/^$/d') <(echo "$allowed"))
if [[ -n "$bad" ]]; then
  echo "transport/ references symbols outside $allow:" >&2
  echo "$bad" | c++filt | sed 's/^/  /' >&2
  exit 1
fi
echo "transport/ external symbols: $(echo "$external" | tr '\n' ' ')"
