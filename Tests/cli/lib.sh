# Shared by the shell test tiers: a temp dir, a server pid cleaned up on exit, `check NAME SNIPPET`
# (counts passes/failures, prints the snippet's output on failure), `wait_socket PATH`, `summary`.
# Source it after setting TMP_PREFIX.
TMP=$(mktemp -d "/tmp/${TMP_PREFIX:-rampart-test}.XXXXXX")
SERVER=
cleanup() { [ -n "$SERVER" ] && kill "$SERVER" 2>/dev/null; wait 2>/dev/null; rm -rf "$TMP"; }
trap cleanup EXIT
PASSED=0; FAILED=0
check() {
  local name=$1; shift
  if ( eval "$*" ) >"$TMP/check.log" 2>&1; then PASSED=$((PASSED+1)); echo "ok   - $name"
  else FAILED=$((FAILED+1)); echo "FAIL - $name"; sed 's/^/    /' "$TMP/check.log"; fi
}
wait_socket() { for _ in $(seq 300); do [ -S "$1" ] && return 0; sleep 0.1; done; return 1; }
summary() { echo "$PASSED passed, $FAILED failed"; [ "$FAILED" -eq 0 ]; }
