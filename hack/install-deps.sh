#!/usr/bin/env bash
# Install, from Debian packages only, whatever this project needs and the
# machine lacks. Idempotent: when everything is present it changes nothing and
# needs no network. Called first by `make deps`, `make run` and `make test`.
set -euo pipefail

PKGS=(
  build-essential pkg-config git
  libuv1-dev libcurl4-openssl-dev libssl-dev libjansson-dev libyaml-dev
  libxml2-dev libhttp-parser-dev check
  python3 python3-venv python3-botocore python3-yaml python3-jsonschema
  python3-pytest
  prometheus valgrind clang clang-format cppcheck libclang-rt-14-dev
)

missing=()
for p in "${PKGS[@]}"; do
  st=$(dpkg-query -W -f='${Status}' "$p" 2>/dev/null || true)
  [[ "$st" == "install ok installed" ]] || missing+=("$p")
done
# kubectl is preinstalled on our machines; Debian's kubernetes-client
# conflicts with it, so it is installed only where kubectl is absent.
command -v kubectl >/dev/null 2>&1 || missing+=(kubernetes-client)

if ((${#missing[@]} == 0)); then
  exit 0
fi

echo "install-deps: installing ${missing[*]}" >&2
SUDO=
if [[ $(id -u) -ne 0 ]]; then
  command -v sudo >/dev/null || {
    echo "install-deps: need root or sudo to install: ${missing[*]}" >&2
    exit 1
  }
  SUDO=sudo
fi
export DEBIAN_FRONTEND=noninteractive
$SUDO apt-get update -qq
$SUDO apt-get install -y -qq --no-install-recommends "${missing[@]}" >&2
