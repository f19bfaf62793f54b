#!/usr/bin/env bash
# End-to-end tier of the throttle plugin: the signed libRampartThrottle.so loaded by `rampart serve
# --config`, refusing real `rampart infer` calls with RESOURCE_EXHAUSTED; a bad throttle config
# refused at start with the key named; two `rampart serve` processes sharing one real Redis enforce
# ONE global limit (exactly N admitted across both), UNAVAILABLE when Redis is killed (fail mode
# closed), and recovery when it returns.
#   RAMPART_BIN=.build/debug/rampart Tests/cli/throttle.sh
set -u
ROOT=$(cd "$(dirname "$0")/../.." && pwd)
BIN=${RAMPART_BIN:?set RAMPART_BIN}
case $BIN in /*) ;; *) BIN=$PWD/$BIN ;; esac
THROTTLE_LIB=${THROTTLE_LIB:-$(dirname "$BIN")/libRampartThrottle.so}
REDIS_SERVER=${REDIS_SERVER:-/usr/bin/redis-server}
TMP_PREFIX=rampart-throttle
. "$ROOT/Tests/cli/lib.sh"

[ -f "$THROTTLE_LIB" ] || { echo "missing $THROTTLE_LIB (swift build --product RampartThrottle)"; exit 1; }

"$BIN" keygen --out "$TMP/trusted" >/dev/null
mkdir -p "$TMP/plugins/throttle"
cp "$THROTTLE_LIB" "$TMP/plugins/throttle/"
echo "{\"name\": \"throttle\", \"library\": \"$(basename "$THROTTLE_LIB")\"}" > "$TMP/plugins/throttle/plugin.json"
"$BIN" sign --key "$TMP/trusted.key" "$TMP/plugins/throttle" >/dev/null

write_config() {  # write_config FILE SOCKET THROTTLE_CONFIG
  printf '[server]\nsocket = "%s"\n\n[backend]\nkind = "null"\n\n' "$2" > "$1"
  printf '[plugin_trust]\ntrusted_keys = ["%s"]\ncache_dir = "%s"\n\n' "$TMP/trusted.pub" "$TMP/cache" >> "$1"
  printf "[[plugins]]\nname = \"throttle\"\npath = \"%s\"\ntimeout_ms = 1000\nconfig = '''\n%s\n'''\n" \
    "$TMP/plugins/throttle" "$3" >> "$1"
}
infer() { local sock=$1; shift; "$BIN" infer --socket "$sock" --raw --no-stream "$@"; }
count_ok() {  # count_ok N SOCKET...: N calls spread over the sockets, in parallel; prints how many succeeded
  local n=$1; shift; local socks=("$@"); local i
  for i in $(seq 0 $((n - 1))); do
    ( infer "${socks[$((i % ${#socks[@]}))]}" "hi $i" >/dev/null 2>>"$TMP/denials" && echo ok ) &
  done | grep -c ok
  wait
}

# --- local mode: the config as a [plugins.config] table (handed to the plugin as JSON) ----------
write_config "$TMP/local.toml" "$TMP/local.sock" ""
sed -i '/^config = /,$d' "$TMP/local.toml"
cat >> "$TMP/local.toml" <<'TOML'
[plugins.config.limits.key.requests]
rate = 5
period_ms = 3600000
burst = 4
[plugins.config.concurrency]
pool = 8
TOML
printf '[audit]\npath = "%s"\n' "$TMP/audit.jsonl" >> "$TMP/local.toml"
"$BIN" serve --config "$TMP/local.toml" >"$TMP/local.out" 2>"$TMP/local.err" &
SERVER=$!
wait_socket "$TMP/local.sock" || { echo "server did not start"; cat "$TMP/local.err"; exit 1; }
check "the signed throttle plugin is loaded" 'grep -q "plugin chain ready" "$TMP/local.err"'
: > "$TMP/denials"
check "20 parallel calls for one key (peer uid): exactly 5 admitted" '[ "$(count_ok 20 "$TMP/local.sock")" = 5 ]'
check "the refusal is RESOURCE_EXHAUSTED naming the limit, remaining budget and retry-after" '
  ! infer "$TMP/local.sock" "one more" 2>"$TMP/e" >/dev/null &&
  grep -q "RESOURCE_EXHAUSTED (8)" "$TMP/e" && grep -q "key requests limit for \"uid:$(id -u)\"" "$TMP/e" &&
  grep -q "0 remaining, retry after" "$TMP/e"'
check "the stats RPC (rampart.v1.Throttle/Stats) counts them" '
  "$BIN" throttle stats --socket "$TMP/local.sock" >"$TMP/stats" 2>&1 &&
  grep -q "^mode local" "$TMP/stats" && grep -q "^admitted 5," "$TMP/stats" && grep -q "rate_limited=16" "$TMP/stats"'
check "denials reach the audit trail (throttle.denied, reason rate_limited, the uid principal)" '
  grep "\"throttle.denied\"" "$TMP/audit.jsonl" | grep -q "rate_limited" && grep "throttle.denied" "$TMP/audit.jsonl" | grep -q "uid:$(id -u)"'
kill -TERM "$SERVER"; wait "$SERVER"; SERVER=

# --- token budget: prompt + max_tokens reserved at admission, the unused part refunded -----------
write_config "$TMP/tokens.toml" "$TMP/tokens.sock" ""
sed -i '/^config = /,$d' "$TMP/tokens.toml"
cat >> "$TMP/tokens.toml" <<'TOML'
[plugins.config.limits.key.tokens]
rate = 1000
period_ms = 3600000
burst = 999
[plugins.config.tokens]
max_tokens_policy = "refuse"
TOML
"$BIN" serve --config "$TMP/tokens.toml" >"$TMP/tokens.out" 2>"$TMP/tokens.err" &
SERVER=$!
wait_socket "$TMP/tokens.sock" || { echo "server did not start"; cat "$TMP/tokens.err"; exit 1; }
check "three sequential calls reserving 900 tokens each fit a 1000-token budget (refunds work)" '
  infer "$TMP/tokens.sock" --max-tokens 900 "one" >/dev/null && infer "$TMP/tokens.sock" --max-tokens 900 "two" >/dev/null &&
  infer "$TMP/tokens.sock" --max-tokens 900 "three" >/dev/null'
check "a call needing more than the budget is refused naming the token limit" '
  ! infer "$TMP/tokens.sock" --max-tokens 2000 "too much" 2>"$TMP/e" >/dev/null &&
  grep -q "token budget exceeded: key tokens limit" "$TMP/e" && grep -q "can never pass" "$TMP/e"'
check "stats show the refunds" '
  "$BIN" throttle stats --socket "$TMP/tokens.sock" >"$TMP/stats" 2>&1 && grep -q "^admitted 3," "$TMP/stats" &&
  ! grep -q "refunded tokens 0$" "$TMP/stats"'
kill -TERM "$SERVER"; wait "$SERVER"; SERVER=

write_config "$TMP/bad.toml" "$TMP/bad.sock" '[limits.key.requests]
rate = -5'
check "a negative limit is refused at start, naming the key" '
  ! "$BIN" serve --config "$TMP/bad.toml" >/dev/null 2>"$TMP/e" &&
  grep -q "limits.key.requests.rate: must be greater than 0, got -5" "$TMP/e"'

# --- two sidecars, one Redis ------------------------------------------------------------------
if [ ! -x "$REDIS_SERVER" ]; then
  echo "skip - two sidecars sharing Redis: $REDIS_SERVER not installed (apt-get install redis-server)"
  summary; exit $?
fi
PORT=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
start_redis() {
  "$REDIS_SERVER" --port "$PORT" --bind 127.0.0.1 --save "" --appendonly no >"$TMP/redis.log" 2>&1 &
  REDIS=$!
  for _ in $(seq 100); do redis-cli -p "$PORT" ping 2>/dev/null | grep -q PONG && return 0; sleep 0.05; done
  return 1
}
start_redis || { echo "redis-server did not start"; exit 1; }
SHARED="mode = \"redis\"
[limits.key.requests]
rate = 7
period_ms = 3600000
burst = 6
[redis]
port = $PORT
retry_interval_ms = 100
key_prefix = \"cli:$$:\""
write_config "$TMP/a.toml" "$TMP/a.sock" "$SHARED"
write_config "$TMP/b.toml" "$TMP/b.sock" "$SHARED"
"$BIN" serve --config "$TMP/a.toml" >"$TMP/a.out" 2>"$TMP/a.err" & A=$!
"$BIN" serve --config "$TMP/b.toml" >"$TMP/b.out" 2>"$TMP/b.err" & B=$!
SERVER=$A
trap 'kill $A $B $REDIS 2>/dev/null; wait 2>/dev/null; rm -rf "$TMP"' EXIT
wait_socket "$TMP/a.sock" && wait_socket "$TMP/b.sock" || { echo "sidecars did not start"; cat "$TMP/a.err" "$TMP/b.err"; exit 1; }
: > "$TMP/denials"
check "two sidecars sharing one Redis: 30 parallel calls over both, exactly 7 admitted" '
  n=$(count_ok 30 "$TMP/a.sock" "$TMP/b.sock"); echo "admitted $n"; sort "$TMP/denials" | uniq -c | head -5; [ "$n" = 7 ]'
check "both sidecars now refuse the key" '
  ! infer "$TMP/a.sock" x 2>/dev/null >/dev/null && ! infer "$TMP/b.sock" x 2>"$TMP/e" >/dev/null && grep -q "RESOURCE_EXHAUSTED" "$TMP/e"'
kill -KILL "$REDIS"; wait "$REDIS" 2>/dev/null
check "Redis killed: fail mode closed refuses with UNAVAILABLE" '
  ! infer "$TMP/a.sock" x 2>"$TMP/e" >/dev/null && grep -q "UNAVAILABLE (14)" "$TMP/e" && grep -q "fail mode closed" "$TMP/e"'
start_redis || { echo "redis-server did not restart"; exit 1; }
sleep 0.2
check "Redis back (empty): both sidecars admit again, still one global limit of 7" '
  [ "$(count_ok 20 "$TMP/a.sock" "$TMP/b.sock")" = 7 ]'
summary
