#!/usr/bin/env bash
# Run test stages side by side and print each one's output whole when it
# ends (never interleaved), with its time; exit 1 if any stage failed.
#   usage: stages.sh NAME=COMMAND...
# A command is run by bash; chain steps with && so the first failure ends
# the stage. Ctrl-C or SIGTERM ends every stage.
set -uo pipefail
dir=$(mktemp -d)
declare -A names=() starts=()
cleanup() {
  for pid in "${!names[@]}"; do kill -- -"$pid" 2>/dev/null; done
  rm -rf "$dir"
}
trap 'cleanup; exit 130' INT TERM
trap 'rm -rf "$dir"' EXIT
t0=$SECONDS
for arg in "$@"; do
  name=${arg%%=*} cmd=${arg#*=}
  setsid bash -c "$cmd" >"$dir/$name.log" 2>&1 </dev/null &
  names[$!]=$name starts[$name]=$SECONDS
  echo "stages: $name started: $cmd"
done
failed=()
while ((${#names[@]} > 0)); do
  wait -n -p done_pid "${!names[@]}"
  rc=$?
  name=${names[$done_pid]}
  unset "names[$done_pid]"
  echo "==================== stage $name ===================="
  cat "$dir/$name.log"
  secs=$((SECONDS - starts[$name]))
  if ((rc == 0)); then
    echo "stages: $name passed in ${secs}s"
  else
    echo "stages: $name FAILED (exit $rc) after ${secs}s"
    failed+=("$name")
  fi
done
echo "stages: all ended in $((SECONDS - t0))s${failed:+, failed: ${failed[*]}}"
((${#failed[@]} == 0))
