#!/usr/bin/env bash
# Runs every Go fuzz target of the module for FUZZTIME (default 5s) each.
set -euo pipefail
cd "$(dirname "$0")/.."
FUZZTIME="${FUZZTIME:-5s}"
found=0
while IFS= read -r file; do
  pkg="./$(dirname "$file")"
  for target in $(grep -oE '^func Fuzz[A-Za-z0-9_]+' "$file" | cut -d' ' -f2); do
    found=$((found + 1))
    echo "# fuzz $pkg $target for $FUZZTIME"
    go test -run='^$' -fuzz="^${target}\$" -fuzztime="$FUZZTIME" "$pkg"
  done
done < <(grep -rlE '^func Fuzz' --include='*_test.go' cmd host protocol sdk 2>/dev/null | sort)
if [ "$found" -eq 0 ]; then
  echo "no fuzz targets found" >&2
  exit 1
fi
echo "# $found fuzz targets passed"
