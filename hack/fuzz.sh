#!/usr/bin/env bash
# Run each libFuzzer target for N seconds with its seed corpus (if any) in
# test/fuzz/corpus/<target>/; fail on the first crash, leak or UB report,
# whose input is kept as ARTIFACTS/<target>-crash-<sha1> (ARTIFACTS:
# FUZZ_ARTIFACTS, default build/fuzz/artifacts) for its unit test.
#   usage: fuzz.sh SECONDS BIN...
set -uo pipefail
secs=$1; shift
[[ $# -gt 0 ]] || { echo "fuzz: no targets"; exit 0; }
art=${FUZZ_ARTIFACTS:-build/fuzz/artifacts}
mkdir -p "$art"
for bin in "$@"; do
  name=$(basename "$bin")
  seeds="test/fuzz/corpus/$name"
  work=$(mktemp -d)
  [[ -d "$seeds" ]] && cp -r "$seeds"/. "$work"/ 2>/dev/null
  echo "fuzz: $name for ${secs}s"
  out=$("$bin" -max_total_time="$secs" -print_final_stats=1 -max_len=65536 \
    -rss_limit_mb=2048 -artifact_prefix="$art/$name-" "$work" 2>&1)
  rc=$?
  rm -rf "$work"
  if ((rc != 0)); then
    tail -60 <<<"$out"
    echo "fuzz: $name FAILED (exit $rc); input kept in $art/"
    exit 1
  fi
  grep -E '^#[0-9]+.*DONE|stat::number_of_executed_units' <<<"$out"
done
echo "fuzz: ${#@} targets passed"
