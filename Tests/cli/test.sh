#!/usr/bin/env bash
# End-to-end tests of the `rampart` CLI: serve --dev, infer (streamed and unary), health,
# config errors, live-socket refusal, graceful drain on SIGTERM, and the C client producing the
# same completion as `rampart infer` for the same seed.
#   RAMPART_BIN=.build/debug/rampart Tests/cli/test.sh
set -u
ROOT=$(cd "$(dirname "$0")/../.." && pwd)
BIN=${RAMPART_BIN:?set RAMPART_BIN}
case $BIN in /*) ;; *) BIN=$PWD/$BIN ;; esac
TMP_PREFIX=rampart-cli
. "$ROOT/Tests/cli/lib.sh"
SOCK=$TMP/run/rampart.sock

"$BIN" serve --dev --run-dir "$TMP/run" >"$TMP/serve.out" 2>"$TMP/serve.err" &
SERVER=$!
wait_socket "$SOCK" || { echo "server did not start"; cat "$TMP/serve.err"; exit 1; }

check "dev banner names the socket and the verified model" '
  grep -q "serving in DEV mode" "$TMP/serve.out" && grep -q "rampart-tiny" "$TMP/serve.out" &&
  grep -q "model verified" "$TMP/serve.err"'

check "socket is 0600" '[ "$(stat -c %a "$SOCK")" = 600 ]'

check "infer streams a completion token by token" '
  "$BIN" infer --socket "$SOCK" --seed 3 --max-tokens 40 --verbose "How does the gateway protect the model?" >"$TMP/o" 2>"$TMP/e" &&
  [ "$(wc -w < "$TMP/o")" -ge 5 ] && grep -Eq "finish=(stop|length) prompt_tokens=[0-9]+ completion_tokens=[0-9]+" "$TMP/e"'

check "same seed gives the same text, streamed or unary" '
  "$BIN" infer --socket "$SOCK" --raw --seed 11 --max-tokens 30 "The security of the system" >"$TMP/a" &&
  "$BIN" infer --socket "$SOCK" --raw --seed 11 --max-tokens 30 --no-stream "The security of the system" >"$TMP/b" &&
  cmp "$TMP/a" "$TMP/b"'

check "the C client gets the same completion as rampart infer" '
  make -s -C "$ROOT/examples/c-client" >/dev/null &&
  "$ROOT/examples/c-client/build/rampart-c-client" --socket "$SOCK" --mode unary --seed 11 --max-tokens 30 "The security of the system" >"$TMP/c" &&
  [ "$(sed -n "s/^unary: //p" "$TMP/c" | head -1)" = "$(cat "$TMP/a")" ]'

check "invalid parameters: INVALID_ARGUMENT and exit 1" '
  ! "$BIN" infer --socket "$SOCK" --temperature 9 "x" 2>"$TMP/e" && grep -q "INVALID_ARGUMENT (3)" "$TMP/e"'

check "health reports serving" '"$BIN" health --socket "$SOCK" | grep -q "status:   serving"'

check "a second server refuses the live socket" '
  ! "$BIN" serve --dev --run-dir "$TMP/run" >/dev/null 2>"$TMP/e" && grep -q "already listening" "$TMP/e"'

check "a config with an unknown key is refused with file:line" '
  printf "[server]\nsockt = \"x.sock\"\n" > "$TMP/bad.toml" &&
  ! "$BIN" serve --config "$TMP/bad.toml" 2>"$TMP/e" && grep -q "bad.toml:2" "$TMP/e" && grep -q "did you mean" "$TMP/e"'

check "the example config starts a server (null backend)" '
  sed "s#^socket = .*#socket = \"$TMP/ex.sock\"#" "$ROOT/examples/configs/bench-null.toml" > "$TMP/ex.toml" &&
  { "$BIN" serve --config "$TMP/ex.toml" >/dev/null 2>&1 & pid=$!; } &&
  wait_socket "$TMP/ex.sock" && "$BIN" infer --socket "$TMP/ex.sock" --raw --no-stream "echo me" | grep -qx "echo me";
  rc=$?; kill $pid; wait $pid; exit $rc'

check "a tampered model is refused at start (fail closed)" '
  cp -r "$(dirname "$BIN")"/*.resources/rampart-tiny "$TMP/model" 2>/dev/null || cp -r "$ROOT/Core/RampartBuiltinModel/Artifact/rampart-tiny" "$TMP/model";
  printf "x" >> "$TMP/model/weights.bin" &&
  printf "[server]\nsocket = \"%s\"\n[backend]\nmodel_path = \"%s\"\n" "$TMP/t.sock" "$TMP/model" > "$TMP/t.toml" &&
  ! "$BIN" serve --config "$TMP/t.toml" >/dev/null 2>"$TMP/e" && grep -q "refusing to serve" "$TMP/e" && [ ! -S "$TMP/t.sock" ]'

check "bench rpc measures Rampart with calls in flight on one connection and names the CPUs" '
  "$BIN" bench rpc --rows cmux async --concurrency 4 --seconds 0.2 --warmup 0.05 --repeats 1 >"$TMP/bench" 2>/dev/null &&
  grep -Eq "^Rampart \(C client, 1 conn\) +4 +[1-9][0-9]* " "$TMP/bench" &&
  grep -Eq "^Rampart \(async client, 1 conn\) +4 +[1-9][0-9]* " "$TMP/bench" &&
  grep -q "^clients and servers may use [0-9]* CPU(s)" "$TMP/bench"'

check "bench rpc refuses an unknown row" '
  ! "$BIN" bench rpc --rows nope 2>"$TMP/e" && grep -q "unknown row" "$TMP/e"'

kill -TERM "$SERVER"; wait "$SERVER"; echo $? > "$TMP/rc"; SERVER=
check "SIGTERM drains and exits 0, removing the socket" '[ "$(cat "$TMP/rc")" = 0 ] && [ ! -e "$SOCK" ]'

summary
