#!/usr/bin/env bash
# Create or refresh the project virtualenv that holds moto (the second,
# independent AWS peer of the e2e suite) and print its python as the last
# line of output.
#
#   hack/venv.sh            -> .../.cache/venv/bin/python
#
# Location: ${AAO_CACHE:-<repo>/.cache}/venv. Interpreter: Debian's
# /usr/bin/python3 (package python3-venv, see hack/install-deps.sh); the
# `python3` first on PATH may be another one without Debian's packages.
# Every package, moto's dependencies included, is pinned in
# hack/requirements-moto.txt and installed with --no-deps, so nothing
# floats. Idempotent: the venv is rebuilt only when the requirements file
# (or the interpreter) changes; the hash of both is stored in the venv.
set -euo pipefail

REPO=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
CACHE=${AAO_CACHE:-$REPO/.cache}
VENV=$CACHE/venv
REQ=$REPO/hack/requirements-moto.txt
PY=/usr/bin/python3
STAMP=$VENV/.aao-requirements.sha256

die() {
  echo "hack/venv.sh: $*" >&2
  exit 1
}

[[ -x $PY ]] || die "$PY missing: run hack/install-deps.sh"
[[ -f $REQ ]] || die "$REQ missing"
want=$({ cat "$REQ"; "$PY" -c 'import sys; print(sys.version)'; } |
  sha256sum | cut -d' ' -f1)

up_to_date() {
  [[ -x $VENV/bin/python && -x $VENV/bin/moto_server && -f $STAMP ]] &&
    [[ $(cat "$STAMP") == "$want" ]]
}

mkdir -p "$CACHE"
# Two callers at once (parallel make, two pytest runs) build it once.
exec 9>"$CACHE/.venv.lock"
flock 9

if ! up_to_date; then
  "$PY" -c 'import ensurepip, venv' 2>/dev/null ||
    die "$PY has no venv/ensurepip: run hack/install-deps.sh (python3-venv)"
  echo "hack/venv.sh: building $VENV from ${REQ#"$REPO"/}" >&2
  rm -f "$STAMP"
  "$PY" -m venv --clear "$VENV" >&2
  log=$CACHE/venv-pip.log
  if ! "$VENV/bin/pip" install --no-deps --retries 2 --timeout 30 -q \
    -r "$REQ" >"$log" 2>&1; then
    tail -n 5 "$log" >&2
    if grep -qiE 'connection|resolve|timed out|unreachable|network|No matching distribution' "$log"; then
      die "cannot download the pinned packages: is PyPI reachable? (PIP_INDEX_URL, proxy settings; full pip log: $log)"
    fi
    die "pip install -r ${REQ#"$REPO"/} failed (full log: $log)"
  fi
  # The pinned set must be complete on its own (it is installed --no-deps).
  "$VENV/bin/pip" check >&2 ||
    die "${REQ#"$REPO"/} is inconsistent (pip check above); regenerate it"
  echo "$want" >"$STAMP"
fi
echo "$VENV/bin/python"
