#!/usr/bin/env bash
# `make run`: starts the sidecar in dev mode, shows it working, keeps it serving until Ctrl-C.
# DEMO_ONLY=1 stops it after the demonstration.
set -euo pipefail
bin="${1:-.build/debug/rampart}"
run_dir="$(pwd)/run"
socket="$run_dir/rampart.sock"

"$bin" serve --dev --run-dir "$run_dir" &
server=$!
trap 'kill -TERM $server 2>/dev/null; wait $server 2>/dev/null || true' EXIT INT TERM
for _ in $(seq 1 200); do [ -S "$socket" ] && break; sleep 0.05; done
[ -S "$socket" ] || { echo "the sidecar did not start" >&2; exit 1; }

echo
echo "\$ rampart health --socket $socket"
"$bin" health --socket "$socket"
echo
echo "\$ rampart infer --socket $socket --seed 7 --max-tokens 60 \"How does the gateway protect the model?\""
"$bin" infer --socket "$socket" --seed 7 --max-tokens 60 --verbose "How does the gateway protect the model?"
echo
if [ "${DEMO_ONLY:-0}" = "1" ]; then exit 0; fi
echo "The sidecar keeps serving on $socket (pid $server). Press Ctrl-C to stop it."
wait $server
