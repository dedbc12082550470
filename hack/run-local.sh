#!/usr/bin/env bash
# Local quick start (`make run`): start the Kubernetes and AWS stand-ins
# (or, with KUBE=envtest, a genuine kube-apiserver and etcd), install the
# CRDs, namespace, ConfigMap and credentials Secret with kubectl,
# run the operator against both, apply an AccountPool of 3 and an
# AccountClaim, and print progress until the claim is Ready and the keys in
# its Secret work against the AWS stand-in. Then it keeps running until
# Ctrl-C, which stops every child and exits 0.
#
# Environment:
#   RUN_DIR             state and logs (default .run)
#   QUICKSTART_EXIT=1   exit 0 as soon as the claim is Ready with working keys
#   QUICKSTART_TIMEOUT  give up (exit 1) after this many seconds (default 0 =
#                       wait forever)
#   METRICS_ADDR, HEALTH_ADDR  operator endpoints (default 127.0.0.1:8080/8081)
#   SUPPORT_CASE_POLL_INTERVAL  the operator's support-case poll (default
#                       5s here: the stand-in resolves a case in 1 s, and the
#                       operator's default, upstream's 10m with a 30-59 s
#                       settle wait, would make the demo wait a minute)
#   KUBE=envtest        run against a genuine kube-apiserver and etcd built by
#                       hack/envtest.sh (state under RUN_DIR/envtest) instead of
#                       the Kubernetes stand-in
#
# kubectl is the project's own, built from the pinned Kubernetes release
# (hack/envtest.sh kubectl), so that client and server versions agree and a
# machine without kubectl works.
set -euo pipefail
cd "$(dirname "$0")/.."
PY=/usr/bin/python3
RUN=${RUN_DIR:-.run}
NS=aws-account-operator
METRICS=${METRICS_ADDR:-127.0.0.1:8080}
HEALTH=${HEALTH_ADDR:-127.0.0.1:8081}
TIMEOUT=${QUICKSTART_TIMEOUT:-0}
KUBE=${KUBE:-stand-in}
case $KUBE in
stand-in | fake | "") KUBE=stand-in ;;
envtest) ;;
*)
  echo "run-local: KUBE must be 'envtest' or empty (the stand-in), not '$KUBE'" >&2
  exit 2
  ;;
esac
mkdir -p "$RUN"
RUN=$(cd "$RUN" && pwd)
export KUBECONFIG=$RUN/kubeconfig
KCACHE=$RUN/kube-cache
# The children to stop, one pid a line (a file: they are started by the
# background job below, stopped by this shell), and the envtest state.
PIDFILE=$RUN/children
: >"$PIDFILE"
ENVTEST_DIR=$RUN/envtest
child() { echo "$1" >>"$PIDFILE"; }

log() { printf 'run-local: %s\n' "$*"; }

# Stop the children (newest first: the operator before the stand-ins it
# talks to), then the job that started them.
stop_all() {
  local i pids=()
  trap - INT TERM EXIT
  mapfile -t pids <"$PIDFILE"
  for ((i = ${#pids[@]} - 1; i >= 0; i--)); do
    kill -TERM "${pids[i]}" 2>/dev/null || true
  done
  # Give each child 10 s to exit on SIGTERM, then SIGKILL it.
  for ((i = ${#pids[@]} - 1; i >= 0; i--)); do
    local n=0
    while kill -0 "${pids[i]}" 2>/dev/null && ((n < 100)); do
      sleep 0.1
      n=$((n + 1))
    done
    kill -KILL "${pids[i]}" 2>/dev/null || true
  done
  if [[ -n ${JOB:-} ]]; then
    kill -TERM "$JOB" 2>/dev/null || true
    wait "$JOB" 2>/dev/null || true
  fi
  if [[ $KUBE == envtest ]]; then
    hack/envtest.sh stop "$ENVTEST_DIR" >/dev/null 2>&1 || true
  fi
}

# Wait until file $1 has a line matching $2 (the child prints it when ready).
wait_line() {
  local file=$1 pat=$2 pid=$3 n=0
  until grep -q -- "$pat" "$file" 2>/dev/null; do
    if ! kill -0 "$pid" 2>/dev/null; then
      log "child exited early; its log ($file):"
      cat "$file" >&2
      exit 1
    fi
    n=$((n + 1))
    if ((n > 600)); then
      log "timed out waiting for '$pat' in $file"
      exit 1
    fi
    sleep 0.1
  done
}

kc() { "$KUBECTL" --cache-dir "$KCACHE" --request-timeout=10s "$@"; }

start_kube() {
  if [[ $KUBE == envtest ]]; then
    log "starting a genuine kube-apiserver and etcd (hack/envtest.sh; the first run builds them)"
    KUBECONFIG=$(hack/envtest.sh start "$ENVTEST_DIR" --crds crds | tail -n 1)
    export KUBECONFIG
    log "Kubernetes API (genuine kube-apiserver): $(kc config view --minify -o jsonpath='{.clusters[0].cluster.server}')"
    return
  fi
  $PY test/fakes/kube_api.py --port 0 \
    --kubeconfig-out "$KUBECONFIG" >"$RUN/kube.log" 2>&1 &
  child $!
  wait_line "$RUN/kube.log" '^ready' "$!"
  log "Kubernetes stand-in: $(sed -n 's/^url //p' "$RUN/kube.log")"
}

start_fakes() {
  rm -f "$RUN"/*.log
  start_kube
  $PY test/fakes/aws_api.py --port 0 --create-account-seconds 1 \
    --case-resolve-seconds 1 --instance-running-seconds 0.2 \
    --region-enable-seconds 0.5 >"$RUN/aws.log" 2>&1 &
  child $!
  wait_line "$RUN/aws.log" '^ready' "$!"
  AWS_URL="http://127.0.0.1:$(sed -n 's/^port: //p' "$RUN/aws.log")"
  read -r AK SK < <(sed -n 's/^credentials: //p' "$RUN/aws.log")
  log "AWS stand-in: $AWS_URL (kubeconfig $KUBECONFIG)"
}

# The organization's root and a "base" OU under it (created through the
# Organizations API of the stand-in, as an administrator would).
org_setup() {
  read -r ROOT BASE < <(AWS_URL=$AWS_URL AK=$AK SK=$SK $PY - <<'EOF'
import os, botocore.session
s = botocore.session.get_session()
org = s.create_client('organizations', region_name='us-east-1',
                      endpoint_url=os.environ['AWS_URL'],
                      aws_access_key_id=os.environ['AK'],
                      aws_secret_access_key=os.environ['SK'])
root = org.list_roots()['Roots'][0]['Id']
ous = org.list_organizational_units_for_parent(ParentId=root)
base = [o['Id'] for o in ous['OrganizationalUnits'] if o['Name'] == 'base']
if not base:
    base = [org.create_organizational_unit(ParentId=root, Name='base')
            ['OrganizationalUnit']['Id']]
print(root, base[0])
EOF
  )
  log "organization root $ROOT, base OU $BASE"
}

install_config() {
  kc apply -f crds/ >/dev/null
  kc apply -f deploy/namespace.yaml >/dev/null
  kc apply -f - >/dev/null <<EOF
apiVersion: v1
kind: ConfigMap
metadata:
  name: aws-account-operator-configmap
  namespace: $NS
data:
  account-limit: "100"
  root: "$ROOT"
  base: "$BASE"
  ami-owner: "309956199498"
  accountpool: |
    default:
      default: true
---
apiVersion: v1
kind: Secret
metadata:
  name: aws-account-operator-credentials
  namespace: $NS
type: Opaque
stringData:
  aws_access_key_id: "$AK"
  aws_secret_access_key: "$SK"
EOF
  log "installed CRDs, namespace, ConfigMap and credentials Secret"
}

start_operator() {
  AWS_REGION=us-east-1 \
    SUPPORT_CASE_POLL_INTERVAL=${SUPPORT_CASE_POLL_INTERVAL:-5s} \
    bin/aws-account-operator --kubeconfig "$KUBECONFIG" \
    --aws-endpoint-url "$AWS_URL" --namespace "$NS" \
    --metrics-bind-address "$METRICS" --health-probe-bind-address "$HEALTH" \
    >"$RUN/operator.log" 2>&1 &
  child $!
  OP_PID=$!
  log "operator started (log $RUN/operator.log; metrics http://$METRICS/metrics)"
}

jp() { kc get "$@" 2>/dev/null || true; }

progress() {
  local pool accts claim
  pool=$(jp accountpool default -n "$NS" -o jsonpath='size={.spec.poolSize} unclaimed={.status.unclaimedAccounts} claimed={.status.claimedAccounts} available={.status.availableAccounts} progressing={.status.accountsProgressing} pending={.status.accountsPending} limitDelta={.status.awsLimitDelta}')
  accts=$(jp accounts -n "$NS" -o jsonpath='{range .items[*]}{.metadata.name}={.status.state} {end}')
  claim=$(jp accountclaim example-claim -n example-cluster -o jsonpath='{.status.state}')
  log "pool: ${pool:-?}"
  log "accounts: ${accts:-none yet}"
  log "claim example-cluster/example-claim: ${claim:-<no state>}"
}

# The claim's Secret authenticates against the AWS stand-in as the account
# the claim got: prints the account id, or fails.
keys_work() {
  local acct id
  acct=$(jp accountclaim example-claim -n example-cluster -o jsonpath='{.spec.accountLink}')
  [[ -n $acct ]] || return 1
  id=$(jp account "$acct" -n "$NS" -o jsonpath='{.spec.awsAccountID}')
  [[ -n $id ]] || return 1
  kc get secret aws -n example-cluster -o json 2>/dev/null |
    AWS_URL=$AWS_URL WANT=$id $PY -c '
import base64, json, os, sys, botocore.session
d = json.load(sys.stdin)["data"]
k = {n: base64.b64decode(d[n]).decode() for n in ("aws_access_key_id", "aws_secret_access_key")}
sts = botocore.session.get_session().create_client("sts", region_name="us-east-1",
    endpoint_url=os.environ["AWS_URL"], aws_access_key_id=k["aws_access_key_id"],
    aws_secret_access_key=k["aws_secret_access_key"])
got = sts.get_caller_identity()["Account"]
sys.exit(0 if got == os.environ["WANT"] else 1)
' 2>/dev/null && echo "$id"
}

main() {
  local start=$SECONDS state id
  KUBECTL=$(hack/envtest.sh kubectl) || {
    log "cannot build kubectl (see above)"
    exit 1
  }
  start_fakes
  org_setup
  install_config
  start_operator
  kc apply -f deploy/examples/accountpool.yaml >/dev/null
  kc apply -f deploy/examples/accountclaim.yaml >/dev/null
  log "applied AccountPool default (poolSize 3) and AccountClaim example-cluster/example-claim"
  while :; do
    progress
    state=$(jp accountclaim example-claim -n example-cluster -o jsonpath='{.status.state}')
    if [[ $state == Ready ]] && id=$(keys_work); then
      log "claim Ready; its Secret example-cluster/aws holds working keys (GetCallerIdentity -> account $id)"
      break
    fi
    if ! kill -0 "$OP_PID" 2>/dev/null; then
      log "operator exited; see $RUN/operator.log"
      exit 1
    fi
    if ((TIMEOUT > 0 && SECONDS - start > TIMEOUT)); then
      log "timed out after ${TIMEOUT}s"
      exit 1
    fi
    sleep 2 # progress display interval
  done
  if [[ ${QUICKSTART_EXIT:-0} == 1 ]]; then
    exit 0
  fi
  log "running; press Ctrl-C to stop"
  wait "$OP_PID" || true
}

# The work runs as a background job and this shell only waits for it: the
# wait builtin returns at once on SIGINT or SIGTERM, so Ctrl-C (or a signal
# sent to this shell alone) always runs the trap. A shell waiting on a
# foreground command instead drops a SIGINT that its child survives, and
# the job's own commands ignore SIGINT, as background jobs do.
trap 'log "stopping"; stop_all; exit 0' INT TERM
trap 'stop_all' EXIT
main "$@" &
JOB=$!
wait "$JOB"
