#!/usr/bin/env bash
# Run the operator locally. Today this starts the daemon with its HTTP
# endpoints on loopback; later stages add the Kubernetes and AWS stand-ins.
# Ctrl-C stops everything cleanly.
set -euo pipefail
cd "$(dirname "$0")/.."
METRICS=${METRICS_ADDR:-127.0.0.1:8080}
HEALTH=${HEALTH_ADDR:-127.0.0.1:8081}
echo "run-local: metrics at http://$METRICS/metrics, health at http://$HEALTH/healthz"
echo "run-local: press Ctrl-C to stop"
exec bin/aws-account-operator --metrics-bind-address "$METRICS" \
  --health-probe-bind-address "$HEALTH" "$@"
