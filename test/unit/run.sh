#!/usr/bin/env bash
# Run every Check suite binary given, each as its own process, and print one
# summary line. With VALGRIND=1, run each under memcheck (CK_FORK=no so the
# tests run in the process valgrind watches).
#   usage: run.sh BUILD_TEST_DIR BIN...
set -uo pipefail
shift # the directory argument is informational
export CK_DEFAULT_TIMEOUT=${CK_DEFAULT_TIMEOUT:-60}
pass=0 fail=0 failed=()
for bin in "$@"; do
  name=$(basename "$bin")
  if [[ "${VALGRIND:-}" == 1 ]]; then
    out=$(CK_FORK=no valgrind -q --error-exitcode=99 --leak-check=full \
      --errors-for-leak-kinds=definite --show-leak-kinds=definite \
      --track-origins=yes "$bin" 2>&1)
  else
    out=$("$bin" 2>&1)
  fi
  rc=$?
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
