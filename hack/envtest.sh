#!/usr/bin/env bash
# A genuine Kubernetes control plane for the e2e tests, the way
# controller-runtime's envtest provides one: real etcd and kube-apiserver
# (and, on request, kube-controller-manager) on loopback, plus kubectl from
# the same release. Every binary is built from the Go modules pinned in
# hack/envtest/go.mod; nothing prebuilt is downloaded.
#
#   hack/envtest.sh install                 build (or reuse) the binaries; prints the bin dir
#   hack/envtest.sh start DIR [--controller-manager] [--crds PATH]...
#                                           start a control plane with its state in DIR,
#                                           with the CRDs in PATH (files, or directories
#                                           of them) installed and serving; prints
#                                           DIR/kubeconfig as the last line
#   hack/envtest.sh stop DIR                stop what `start DIR` started
#   hack/envtest.sh kubectl                 print the path of kubectl (building only it if need be)
#   hack/envtest.sh bin                     same as install
#
# Environment: AAO_CACHE (default <repo>/.cache) holds the builds;
# ENVTEST_START_TIMEOUT (seconds, default 90) bounds the wait for readiness;
# ENVTEST_STOP_TIMEOUT (seconds, default 10) is each component's grace on stop.
set -euo pipefail

# Part of the cache key: bump it when the build recipe below changes.
ENVTEST_RECIPE=1

REPO=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
MODDIR=$REPO/hack/envtest
CACHE=${AAO_CACHE:-$REPO/.cache}/envtest
BINARIES=(etcd kube-apiserver kube-controller-manager kubectl)
SELF_COMM=$(cat /proc/$$/comm)

log() { echo "envtest: $*" >&2; }
die() {
  echo "envtest: error: $*" >&2
  exit 1
}

# Never let a newer toolchain be downloaded behind our back, and never let a
# go.work or GOFLAGS from the caller change which modules are built.
export GOTOOLCHAIN=local GOWORK=off GOFLAGS=-mod=readonly

need_go() {
  command -v go >/dev/null 2>&1 ||
    die "'go' is not in PATH; Go >= 1.26 is needed to build the control plane (hack/envtest/go.mod)"
}

# The key covers everything that decides what gets built: the pins, the Go
# sources of the module, this script's recipe and the Go toolchain.
cache_key() {
  local f files
  mapfile -t files < <(cd "$MODDIR" && find . -name '*.go' | LC_ALL=C sort)
  {
    echo "recipe $ENVTEST_RECIPE"
    go env GOVERSION GOOS GOARCH
    for f in go.mod go.sum "${files[@]}"; do
      echo "== $f"
      cat "$MODDIR/$f"
    done
  } | sha256sum | cut -c1-16
}

have_all() { # dir names...
  local d=$1 b
  shift
  for b in "$@"; do
    [[ -x $d/$b ]] || return 1
  done
}

# The Go package each binary is built from.
pkg_of() {
  case $1 in
  etcd) echo go.etcd.io/etcd/server/v3 ;;
  kubectl) echo k8s.io/kubernetes/cmd/kubectl ;;
  *) echo "k8s.io/kubernetes/cmd/$1" ;;
  esac
}

# Prints the bin directory holding the named binaries (default: all of
# them), building the missing ones first; `make run` needs only kubectl,
# which builds in a fraction of the control plane's time.
install() {
  need_go
  local want=("$@") key dir bin tmp kver ldflags=() k v b missing=() pkgs=()
  ((${#want[@]})) || want=("${BINARIES[@]}")
  key=$(cache_key)
  dir=$CACHE/$key
  bin=$dir/bin
  if have_all "$bin" "${want[@]}"; then
    echo "$bin"
    return
  fi
  mkdir -p "$CACHE"
  # Concurrent installs (parallel test runs) wait for one build.
  exec 9>"$CACHE/.lock"
  flock 9
  for b in "${want[@]}"; do
    [[ -x $bin/$b ]] || { missing+=("$b"); pkgs+=("$(pkg_of "$b")"); }
  done
  if ((${#missing[@]} == 0)); then
    exec 9>&-
    echo "$bin"
    return
  fi
  # Stamp the release into the binaries as Kubernetes' own build does
  # (hack/lib/version.sh); otherwise /version says v0.0.0-master.
  kver=$(cd "$MODDIR" && go list -m -f '{{.Version}}' k8s.io/kubernetes) ||
    die "cannot resolve k8s.io/kubernetes in hack/envtest/go.mod"
  local major=${kver#v}
  major=${major%%.*}
  local minor=${kver#v*.}
  minor=${minor%%.*}
  for k in gitVersion:"$kver" gitMajor:"$major" gitMinor:"$minor" \
    gitTreeState:clean buildDate:1970-01-01T00:00:00Z; do
    v=${k#*:}
    k=${k%%:*}
    ldflags+=("-X=k8s.io/component-base/version.$k=$v" "-X=k8s.io/client-go/pkg/version.$k=$v")
  done
  tmp=$(mktemp -d "$CACHE/.build.XXXXXX")
  log "building ${missing[*]} ($kver) into $bin"
  log "(a first build takes minutes on 2 cores; later runs reuse it)"
  # CGO_ENABLED=0 as in Kubernetes' release builds: static binaries, no C
  # toolchain needed. -s -w: no symbol tables, smaller and faster to link.
  # -o DIR/ works for a single package as well as several.
  if ! (cd "$MODDIR" && CGO_ENABLED=0 go build -trimpath \
    -ldflags "-s -w ${ldflags[*]}" -o "$tmp/" "${pkgs[@]}") >&2; then
    rm -rf "$tmp"
    die "building ${missing[*]} failed (see the go output above)"
  fi
  # go names a binary after the last path element before a /vN suffix.
  [[ ! -e $tmp/server ]] || mv "$tmp/server" "$tmp/etcd"
  have_all "$tmp" "${missing[@]}" || {
    rm -rf "$tmp"
    die "the build did not produce every binary (${missing[*]})"
  }
  mkdir -p "$bin"
  chmod 755 "$bin"
  for b in "${missing[@]}"; do
    mv "$tmp/$b" "$bin/$b"
  done
  rm -rf "$tmp"
  exec 9>&-
  echo "$bin"
}

# ---- control plane ---------------------------------------------------------

# Components in start order; stop goes the other way.
COMPONENTS=(etcd kube-apiserver kube-controller-manager)

# A pid counts while it exists, is not a zombie and still carries our
# component's name (a pid file can outlive its process and the pid be
# reused). The name comes from /proc/PID/comm (15 characters at most),
# which, unlike /proc/PID/exe, stays readable until the process is reaped.
running() {
  local dir=$1 name=$2 pid comm state
  [[ -f $dir/$name.pid ]] || return 1
  pid=$(<"$dir/$name.pid")
  [[ $pid =~ ^[0-9]+$ ]] || return 1
  comm=$(cat "/proc/$pid/comm" 2>/dev/null) || return 1
  # Right after launch the child may not have exec'd yet: it is still a
  # fork of this shell, or setsid (which execs the component in place,
  # keeping the pid).
  [[ $comm == "${name:0:15}" || $comm == setsid || $comm == "$SELF_COMM" ]] ||
    return 1
  state=$(awk '{print $3}' "/proc/$pid/stat" 2>/dev/null) || return 1
  [[ $state != Z ]]
}

port_busy() {
  (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null
}

# A free loopback port below Linux's ephemeral range (32768+), so that no
# outgoing connection takes it between this pick and the bind; none of
# those in PICKED.
pick_port() {
  local p i
  for ((i = 0; i < 200; i++)); do
    p=$((20000 + RANDOM % 12000))
    [[ " ${PICKED[*]-} " == *" $p "* ]] && continue
    if ! port_busy "$p"; then
      echo "$p"
      return
    fi
  done
  die "no free loopback port found"
}

# One CA signs the serving certificate and the client certificates; the
# service-account key pair is separate. Kept across restarts of the same DIR
# so that clients holding the kubeconfig keep working.
gen_pki() {
  local pki=$1/pki
  [[ -s $pki/sa.pub && -s $pki/admin.crt ]] && return
  command -v openssl >/dev/null 2>&1 || die "'openssl' is not in PATH"
  mkdir -p "$pki"
  (
    cd "$pki"
    umask 077
    ec() { openssl genpkey -algorithm EC -pkeyopt ec_paramgen_curve:P-256 -out "$1" 2>/dev/null; }
    sign() { # name subject extensions
      openssl req -new -key "$1.key" -subj "$2" -out "$1.csr"
      openssl x509 -req -in "$1.csr" -CA ca.crt -CAkey ca.key -days 3650 \
        -set_serial "0x$(openssl rand -hex 16)" -out "$1.crt" -extfile <(printf '%b' "$3") 2>/dev/null
      rm -f "$1.csr"
    }
    ec ca.key
    openssl req -x509 -new -key ca.key -subj "/CN=aao-envtest-ca" -days 3650 -out ca.crt \
      -addext "basicConstraints=critical,CA:TRUE" -addext "keyUsage=critical,keyCertSign,cRLSign"
    ec apiserver.key
    sign apiserver "/CN=kube-apiserver" \
      "basicConstraints=CA:FALSE\nkeyUsage=critical,digitalSignature\nextendedKeyUsage=serverAuth\nsubjectAltName=IP:127.0.0.1,DNS:localhost,DNS:kubernetes,DNS:kubernetes.default,DNS:kubernetes.default.svc\n"
    ec admin.key
    sign admin "/O=system:masters/CN=aao-admin" \
      "basicConstraints=CA:FALSE\nkeyUsage=critical,digitalSignature\nextendedKeyUsage=clientAuth\n"
    openssl genpkey -algorithm RSA -pkeyopt rsa_keygen_bits:2048 -out sa.key 2>/dev/null
    openssl pkey -in sa.key -pubout -out sa.pub
  ) || die "generating certificates with openssl failed"
}

write_kubeconfig() { # dir port
  local pki=$1/pki tmp
  b64() { base64 -w0 <"$1"; }
  tmp=$(mktemp "$1/.kubeconfig.XXXXXX")
  cat >"$tmp" <<EOF2
apiVersion: v1
kind: Config
clusters:
- name: envtest
  cluster:
    server: https://127.0.0.1:$2
    certificate-authority-data: $(b64 "$pki/ca.crt")
users:
- name: aao-admin
  user:
    client-certificate-data: $(b64 "$pki/admin.crt")
    client-key-data: $(b64 "$pki/admin.key")
contexts:
- name: envtest
  context:
    cluster: envtest
    user: aao-admin
current-context: envtest
EOF2
  chmod 600 "$tmp"
  mv "$tmp" "$1/kubeconfig"
}

# Started in its own session so that it outlives this script and a Ctrl-C
# in the caller's terminal; output goes to DIR/NAME.log.
launch() { # dir name args...
  local dir=$1 name=$2
  shift 2
  echo "== $(date -u +%FT%TZ) $name $*" >>"$dir/$name.log"
  setsid "$BIN/$name" "$@" </dev/null >>"$dir/$name.log" 2>&1 &
  echo $! >"$dir/$name.pid"
}

tail_logs() {
  local dir=$1 name
  for name in "${COMPONENTS[@]}"; do
    [[ -f $dir/$name.log ]] || continue
    echo "---- last lines of $dir/$name.log" >&2
    tail -n 25 "$dir/$name.log" >&2
  done
}

fail_start() {
  echo "envtest: error: $*" >&2
  tail_logs "$DIR"
  stop "$DIR" >/dev/null 2>&1 || true
  exit 1
}

# Polls CHECK until it succeeds, failing if one of the named components
# died meanwhile or the deadline passed.
wait_until() { # what deadline check-command... ; components to watch in WATCH
  local what=$1 deadline=$2 n
  shift 2
  until "$@" >/dev/null 2>&1; do
    for n in "${WATCH[@]}"; do
      running "$DIR" "$n" || fail_start "$n exited while waiting for $what"
    done
    ((SECONDS < deadline)) || fail_start "timed out waiting for $what"
    sleep 0.2
  done
}

# shellcheck disable=SC2317 # called through wait_until
kctl() {
  KUBERC=off "$BIN/kubectl" --kubeconfig "$DIR/kubeconfig" --cache-dir "$DIR/.kube-cache" "$@"
}

# Installs the CRDs and waits until they serve: Established, and a list
# answers (the storage of a new resource says 429 for a moment before;
# kubectl retries that).
apply_crds() {
  local p f files=() args=() crds=() names out
  for p in "$@"; do
    if [[ -d $p ]]; then
      for f in "$p"/*.yaml "$p"/*.yml "$p"/*.json; do
        # A kustomization.yaml beside CRDs is no object for the apiserver.
        [[ -f $f && $(basename "$f") != kustomization.* ]] && files+=("$f")
      done
    elif [[ -f $p ]]; then
      files+=("$p")
    else
      fail_start "--crds $p: no such file or directory"
    fi
  done
  ((${#files[@]})) || fail_start "--crds $*: no CRD files found"
  for f in "${files[@]}"; do
    args+=(-f "$f")
  done
  out=$(kctl apply "${args[@]}" -o name 2>&1) || fail_start "kubectl apply of the CRDs failed: $out"
  mapfile -t crds < <(grep '^customresourcedefinition.apiextensions.k8s.io/' <<<"$out")
  ((${#crds[@]})) || fail_start "--crds $*: no CustomResourceDefinition applied: $out"
  out=$(kctl wait --for=condition=Established --timeout=60s "${crds[@]}" 2>&1) ||
    fail_start "the CRDs did not become Established: $out"
  # A CRD's name is <plural>.<group>, which kubectl takes as a resource.
  names=$(printf '%s\n' "${crds[@]#*/}" | paste -sd,)
  out=$(kctl get "$names" --all-namespaces -o name --request-timeout=60s 2>&1) ||
    fail_start "the CRDs' resources do not serve: $out"
}

start() {
  local with_cm=0 crd_paths=() p
  DIR=
  while (($#)); do
    case $1 in
    --controller-manager) with_cm=1 ;;
    --crds)
      (($# > 1)) || die "start: --crds needs a PATH"
      shift
      crd_paths+=("$(realpath -m "$1")")
      ;;
    --crds=*) crd_paths+=("$(realpath -m "${1#--crds=}")") ;;
    -*) die "start: unknown option $1" ;;
    *)
      [[ -z $DIR ]] || die "start: one DIR only"
      DIR=$1
      ;;
    esac
    shift
  done
  [[ -n $DIR ]] || die "usage: hack/envtest.sh start DIR [--controller-manager] [--crds PATH]..."
  for p in "${crd_paths[@]}"; do
    [[ -e $p ]] || die "start: --crds $p: no such file or directory"
  done
  mkdir -p "$DIR"
  DIR=$(cd "$DIR" && pwd)
  local n
  for n in "${COMPONENTS[@]}"; do
    ! running "$DIR" "$n" || die "$n from an earlier start is still running in $DIR; run: hack/envtest.sh stop $DIR"
  done
  BIN=$(install)
  local t0=$SECONDS
  # Whatever makes start fail from here on, leave nothing running.
  trap 'stop "$DIR" >/dev/null 2>&1' EXIT
  gen_pki "$DIR"

  # Reuse the ports of an earlier start of this DIR while they are free, so a
  # stop/start keeps the same URLs (a restart as clients see it).
  local etcd_port='' peer_port='' api_port='' cm_port=''
  PICKED=()
  if [[ -f $DIR/ports ]]; then
    # shellcheck disable=SC1091
    . "$DIR/ports"
  fi
  for n in etcd_port peer_port api_port cm_port; do
    if [[ -z ${!n} ]] || port_busy "${!n}"; then
      printf -v "$n" '%s' "$(pick_port)"
    fi
    PICKED+=("${!n}")
  done
  printf 'etcd_port=%s\npeer_port=%s\napi_port=%s\ncm_port=%s\n' \
    "$etcd_port" "$peer_port" "$api_port" "$cm_port" >"$DIR/ports"

  local deadline=$((SECONDS + ${ENVTEST_START_TIMEOUT:-90}))
  WATCH=(etcd)
  local etcd_url=http://127.0.0.1:$etcd_port peer_url=http://127.0.0.1:$peer_port
  launch "$DIR" etcd --name=envtest --data-dir="$DIR/etcd" \
    --listen-client-urls="$etcd_url" --advertise-client-urls="$etcd_url" \
    --listen-peer-urls="$peer_url" --initial-advertise-peer-urls="$peer_url" \
    --initial-cluster="envtest=$peer_url" --unsafe-no-fsync
  wait_until "etcd to listen on $etcd_url" "$deadline" port_busy "$etcd_port"

  local pki=$DIR/pki
  # Every request once, when its response is complete: the tests' request
  # log (who asked what, and the status it got), as the stand-in keeps one.
  cat >"$DIR/audit-policy.yaml" <<'EOF'
apiVersion: audit.k8s.io/v1
kind: Policy
omitStages: [RequestReceived]
rules:
  - level: Metadata
EOF
  WATCH=(etcd kube-apiserver)
  # Flags follow controller-runtime's envtest: RBAC, client certificates, the
  # ServiceAccount admission plugin off (no controller creates the default
  # service account), a service range that exists nowhere. Advertising
  # 127.0.0.1 needs the endpoint reconciler off (Endpoints may not hold a
  # loopback address), and keeps the apiserver off every other interface.
  launch "$DIR" kube-apiserver \
    --bind-address=127.0.0.1 --advertise-address=127.0.0.1 --endpoint-reconciler-type=none \
    --secure-port="$api_port" \
    --cert-dir="$pki" --tls-cert-file="$pki/apiserver.crt" --tls-private-key-file="$pki/apiserver.key" \
    --client-ca-file="$pki/ca.crt" --authorization-mode=RBAC \
    --service-account-issuer="https://127.0.0.1:$api_port/" \
    --service-account-key-file="$pki/sa.pub" --service-account-signing-key-file="$pki/sa.key" \
    --service-cluster-ip-range=10.0.0.0/24 --allow-privileged=true \
    --disable-admission-plugins=ServiceAccount \
    --audit-policy-file="$DIR/audit-policy.yaml" --audit-log-path="$DIR/audit.log" \
    --audit-log-format=json --audit-log-mode=blocking --audit-log-maxsize=0 \
    --etcd-servers="$etcd_url"
  write_kubeconfig "$DIR" "$api_port"
  wait_until "kube-apiserver /readyz on https://127.0.0.1:$api_port" "$deadline" \
    kctl --request-timeout=5s get --raw=/readyz
  # Before the controller manager, whose garbage collector would otherwise
  # take up to 30 s (its rediscovery period) to notice the new types.
  ((${#crd_paths[@]} == 0)) || apply_crds "${crd_paths[@]}"

  if ((with_cm)); then
    WATCH=(etcd kube-apiserver kube-controller-manager)
    # Only what a bare apiserver lacks for the tests: ownerReference garbage
    # collection and namespace deletion. It acts with the admin credentials.
    # No --authentication/authorization-kubeconfig: its own endpoint serves
    # only /healthz here, which needs neither.
    launch "$DIR" kube-controller-manager \
      --kubeconfig="$DIR/kubeconfig" \
      --controllers=garbagecollector,namespace --use-service-account-credentials=false \
      --leader-elect=false --bind-address=127.0.0.1 --secure-port="$cm_port" \
      --cert-dir="$DIR/kcm"
    # It serves with a self-signed certificate that it writes at startup.
    wait_until "kube-controller-manager /healthz on port $cm_port" "$deadline" \
      kctl --request-timeout=5s --server="https://127.0.0.1:$cm_port" \
      --certificate-authority="$DIR/kcm/kube-controller-manager.crt" get --raw=/healthz
  fi
  trap - EXIT
  log "ready in $((SECONDS - t0))s: https://127.0.0.1:$api_port (logs and pids in $DIR)"
  echo "$DIR/kubeconfig"
}

# One at a time, clients before servers (an apiserver whose etcd is gone
# hangs in its shutdown): SIGTERM, then SIGKILL after ENVTEST_STOP_TIMEOUT
# seconds.
stop() {
  local dir=$1 n i pid deadline stopped=()
  [[ -d $dir ]] || return 0
  for ((i = ${#COMPONENTS[@]} - 1; i >= 0; i--)); do
    n=${COMPONENTS[i]}
    if running "$dir" "$n"; then
      pid=$(<"$dir/$n.pid")
      kill -TERM "$pid" 2>/dev/null || true
      deadline=$((SECONDS + ${ENVTEST_STOP_TIMEOUT:-10}))
      while running "$dir" "$n" && ((SECONDS < deadline)); do
        sleep 0.1
      done
      if running "$dir" "$n"; then
        log "$n did not stop on SIGTERM; killing it"
        kill -KILL "$pid" 2>/dev/null || true
        while running "$dir" "$n"; do
          sleep 0.1
        done
      fi
      stopped+=("$n:$pid")
    fi
    rm -f "$dir/$n.pid"
  done
  ((${#stopped[@]} == 0)) || log "stopped ${stopped[*]}"
}

usage() {
  sed -n '2,/^set -euo/p' "$0" | sed '$d; s/^# \{0,1\}//' >&2
  exit 2
}

main() {
  local cmd=${1:-}
  shift || true
  case $cmd in
  install | bin) install ;;
  kubectl)
    local b
    b=$(install kubectl)
    echo "$b/kubectl"
    ;;
  start) start "$@" ;;
  stop)
    [[ $# -eq 1 ]] || die "usage: hack/envtest.sh stop DIR"
    stop "$1"
    ;;
  *) usage ;;
  esac
}

# exit at once: bash reads a script as it runs, so an edit made meanwhile must
# not be read after main returns.
main "$@"
exit
