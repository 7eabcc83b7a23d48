#!/usr/bin/env bash
# Fails when the dext's own objects reference a symbol outside allowed_symbols.txt,
# or when its sources name anything of hostkit's.
#
# check_symbols.sh <dext archive> <allow-list> <SerialDext source dir>
#
# The archive's members compiled from SerialDext/*.cpp are checked; the
# generated *.iig.cpp object is hostkit's stand-in for the code Apple's iig
# generates and is left out. transport/ has its own check (transport/check_symbols.sh).
# The allow-list holds extended regular expressions matched against whole
# demangled names: the DriverKit API the dext calls, and what hostkit's headers
# expand to in place of DriverKit's (os_log, OSDynamicCast, the message front doors).
set -euo pipefail
archive=$1
allow=$2
sources=$3

if grep -n -i -s 'hostkit' "$sources"/*.cpp "$sources"/*.h "$sources"/*.iig; then
  echo "SerialDext names hostkit (above): a driver must use only DriverKit's API" >&2
  exit 1
fi

work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
members=()
while read -r member; do
  [[ $member == *.iig.cpp.o ]] && continue
  ar p "$archive" "$member" >"$work/$member"
  members+=("$work/$member")
done < <(ar t "$archive")

undefined=$(nm -u "${members[@]}" | awk 'NF==2 && $1=="U" {print $2}' | sort -u)
defined=$(nm --defined-only "${members[@]}" | awk 'NF==3 {print $3}' | sort -u)
external=$(comm -23 <(echo "$undefined") <(echo "$defined") | sed '/^$/d' | c++filt)
patterns=$(grep -v '^#' "$allow" | sed '/^$/d')

bad=$(echo "$external" | grep -v -x -E -f <(echo "$patterns") || true)
if [[ -n "$bad" ]]; then
  echo "the dext references symbols outside $allow:" >&2
  echo "$bad" | sed 's/^/  /' >&2
  exit 1
fi
count=$(echo "$external" | wc -l)
api=$(echo "$external" | grep -c -v -E '^(transport::|vtable for transport::)' || true)
echo "dext: $count external symbols, all allowed ($api outside transport/):"
echo "$external" | grep -v -E '^(transport::|vtable for transport::)' | sed 's/^/  /'
