#!/usr/bin/env bash
# Run each libFuzzer target for N seconds with its seed corpus (if any) in
# test/fuzz/corpus/<target>/; fail on the first crash, leak or UB report.
#   usage: fuzz.sh SECONDS BIN...
set -euo pipefail
secs=$1; shift
[[ $# -gt 0 ]] || { echo "fuzz: no targets"; exit 0; }
for bin in "$@"; do
  name=$(basename "$bin")
  seeds="test/fuzz/corpus/$name"
  work=$(mktemp -d)
  [[ -d "$seeds" ]] && cp -r "$seeds"/. "$work"/ 2>/dev/null || true
  echo "fuzz: $name for ${secs}s"
  "$bin" -max_total_time="$secs" -print_final_stats=1 -max_len=65536 \
    -rss_limit_mb=2048 "$work" 2>&1 | tail -5
  rm -rf "$work"
done
echo "fuzz: ${#@} targets passed"
