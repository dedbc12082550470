#!/usr/bin/env bash
# Install, from Debian packages only, whatever this project needs and the
# machine lacks. Idempotent: when everything is present it changes nothing and
# needs no network. Called first by `make deps`, `make run` and `make test`.
#
# The test peers that Debian does not package (kube-apiserver, etcd and
# kubectl from pinned Go modules; moto from PyPI) are built by
# hack/envtest.sh and hack/venv.sh, not here.
set -euo pipefail

PKGS=(
  build-essential pkg-config git
  libuv1-dev libcurl4-openssl-dev libssl-dev libjansson-dev libyaml-dev
  libxml2-dev libhttp-parser-dev check
  python3 python3-venv python3-botocore python3-yaml python3-jsonschema
  python3-pytest
  prometheus valgrind clang clang-format cppcheck libclang-rt-14-dev
  openssl curl
)

missing=()
for p in "${PKGS[@]}"; do
  st=$(dpkg-query -W -f='${Status}' "$p" 2>/dev/null || true)
  [[ "$st" == "install ok installed" ]] || missing+=("$p")
done
# Go builds the Kubernetes peers; Debian's golang is too old for them, so a
# missing or old Go is reported rather than installed.
if ! command -v go >/dev/null 2>&1; then
  echo "install-deps: warning: no 'go' on PATH; the e2e suite and 'make run' need Go >= 1.26" \
    "to build kube-apiserver, etcd and kubectl (hack/envtest.sh)" >&2
fi

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
