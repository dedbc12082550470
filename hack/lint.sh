#!/usr/bin/env bash
# Lint: clang-format check, cppcheck, and a curl-style banned-function check.
# Zero findings is the only passing result.
set -uo pipefail
cd "$(dirname "$0")/.."
mapfile -t files < <(find cmd pkg test -name '*.[ch]' | sort)
rc=0

echo "lint: clang-format (${#files[@]} files)"
if ! clang-format --dry-run --Werror "${files[@]}"; then
  echo "lint: clang-format found differences (run: make fmt)"; rc=1
fi

echo "lint: banned functions"
# curl's checksrc rule: no unbounded string functions anywhere.
if grep -nE '\b(sprintf|vsprintf|strcpy|strcat|gets|strtok)\s*\(' "${files[@]}"; then
  echo "lint: banned function used (use str_fmt/str_copy/buf_*)"; rc=1
fi

echo "lint: cppcheck"
if ! cppcheck --quiet --error-exitcode=1 --std=c11 --language=c \
    --enable=warning,performance,portability --inline-suppr \
    --suppress=missingIncludeSystem -D__GNUC__ -Ipkg -Itest/unit \
    cmd pkg test/unit 2>&1; then
  echo "lint: cppcheck findings"; rc=1
fi

((rc == 0)) && echo "lint: clean"
exit $rc
