#!/usr/bin/env bash
# Run every Check suite binary given, each as its own process (UNIT_JOBS at
# a time, default 1), and print one line per suite in the order given and a
# summary. With VALGRIND=1, run each under memcheck (CK_FORK=no so the tests
# run in the process valgrind watches): any error, or a definite or
# indirect leak, fails the suite. Valgrind slows the code about 20 times,
# so suites whose timers race real time get AAO_TEST_TIME_SCALE=10.
#   usage: run.sh BUILD_TEST_DIR BIN...
set -uo pipefail
shift # the directory argument is informational
export CK_DEFAULT_TIMEOUT=${CK_DEFAULT_TIMEOUT:-60}
jobs=${UNIT_JOBS:-1}
# As in the operator (pkg/loop): a peer that hung up costs a write error, not
# the process (an ignored signal stays ignored in the suites).
trap '' PIPE
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT

run_one() { # BIN: output to $tmp/NAME.out, exit status to $tmp/NAME.rc
  local bin=$1 name rc
  name=$(basename "$bin")
  if [[ "${VALGRIND:-}" == 1 ]]; then
    CK_FORK=no AAO_TEST_TIME_SCALE=${AAO_TEST_TIME_SCALE:-10} \
      valgrind -q --error-exitcode=99 --leak-check=full \
      --errors-for-leak-kinds=definite,indirect \
      --show-leak-kinds=definite,indirect "$bin" >"$tmp/$name.out" 2>&1
  else
    "$bin" >"$tmp/$name.out" 2>&1
  fi
  rc=$?
  echo "$rc" >"$tmp/$name.rc"
}

running=0
for bin in "$@"; do
  if ((running >= jobs)); then
    wait -n
    running=$((running - 1))
  fi
  run_one "$bin" &
  running=$((running + 1))
done
wait

pass=0 fail=0 failed=()
for bin in "$@"; do
  name=$(basename "$bin")
  out=$(cat "$tmp/$name.out")
  rc=$(cat "$tmp/$name.rc" 2>/dev/null || echo 127)
  # Check prints "NN%: Checks: N, Failures: N, Errors: N".
  line=$(grep -E '^[0-9]+%: Checks: ' <<<"$out" | tail -1)
  n=$(sed -nE 's/.*Checks: ([0-9]+).*/\1/p' <<<"$line")
  f=$(sed -nE 's/.*Failures: ([0-9]+), Errors: ([0-9]+).*/\1 \2/p' <<<"$line")
  n=${n:-0}; read -r nf ne <<<"${f:-0 0}"
  if [[ $rc -ne 0 || -z "$line" || $nf -ne 0 || $ne -ne 0 ]]; then
    echo "$out"
    echo "FAIL $name (exit $rc)"
    failed+=("$name")
    fail=$((fail + nf + ne + (nf + ne == 0 ? 1 : 0)))
    pass=$((pass + n - nf - ne))
  else
    printf '%-32s %s\n' "$name" "$line"
    pass=$((pass + n))
  fi
done
echo "unit: $pass passed, $fail failed"
((${#failed[@]} == 0)) || { echo "failed suites: ${failed[*]}"; exit 1; }
