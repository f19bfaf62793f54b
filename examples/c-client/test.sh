#!/usr/bin/env bash
# End-to-end test of the C client against a real Rampart server.
#
#   RAMPART_BIN=.build/debug/rampart examples/c-client/test.sh
#
# Builds the client, starts `$RAMPART_BIN serve --dev` on a private socket, runs the client in
# its modes, and stops the server again (also on failure or Ctrl-C).
set -u

HERE=$(cd "$(dirname "$0")" && pwd)
if [ -z "${RAMPART_BIN:-}" ]; then
    echo "usage: RAMPART_BIN=path/to/rampart $0" >&2
    exit 2
fi
case $RAMPART_BIN in /*) ;; *) RAMPART_BIN=$PWD/$RAMPART_BIN ;; esac
if [ ! -x "$RAMPART_BIN" ]; then
    echo "error: RAMPART_BIN=$RAMPART_BIN is not an executable" >&2
    exit 2
fi

make -C "$HERE" >/dev/null || { echo "error: building the client failed" >&2; exit 1; }
CLIENT=$HERE/build/rampart-c-client

# /tmp rather than $TMPDIR: socket paths must fit sun_path (~104 bytes).
TMP=$(mktemp -d /tmp/rampart-cc.XXXXXX)
SOCK=$TMP/rampart.sock
SERVER_PID=
cleanup() {
    if [ -n "$SERVER_PID" ]; then
        kill "$SERVER_PID" 2>/dev/null
        wait "$SERVER_PID" 2>/dev/null
    fi
    rm -rf "$TMP"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

"$RAMPART_BIN" serve --dev --socket "$SOCK" >"$TMP/server.log" 2>&1 &
SERVER_PID=$!
for _ in $(seq 300); do
    [ -S "$SOCK" ] && break
    if ! kill -0 "$SERVER_PID" 2>/dev/null; then
        echo "error: the server exited before creating $SOCK; its output:" >&2
        cat "$TMP/server.log" >&2
        SERVER_PID=
        exit 1
    fi
    sleep 0.1
done
[ -S "$SOCK" ] || { echo "error: no socket at $SOCK after 30 s" >&2; cat "$TMP/server.log" >&2; exit 1; }

PASSED=0
FAILED=0
OUT=$TMP/out
ERR=$TMP/err

# run EXPECTED_EXIT ARGS...: runs the client, records its output and whether the exit matched.
run() {
    local want=$1
    shift
    "$CLIENT" --socket "$SOCK" "$@" >"$OUT" 2>"$ERR"
    local got=$?
    if [ "$got" != "$want" ]; then
        echo "  exit status $got, expected $want"
        return 1
    fi
}
# check NAME COMMANDS...: one named test case; COMMANDS is a shell snippet.
check() {
    local name=$1
    shift
    if ( eval "$*" ); then
        PASSED=$((PASSED + 1))
        echo "ok   - $name"
    else
        FAILED=$((FAILED + 1))
        echo "FAIL - $name"
        sed 's/^/  stdout: /' "$OUT"
        sed 's/^/  stderr: /' "$ERR"
    fi
}
# A text line (not the finish line) with some non-blank content.
has_text() { grep -v "^$1: finish=" "$OUT" | grep -Eq "^$1: .*[^[:space:]]"; }

LONG=$(printf 'The quick brown fox jumps over the lazy dog. %.0s' $(seq 92)) # ~4 KB
LONG=${LONG:0:4096}

check "both modes, fixed seed" '
    run 0 --mode both --seed 42 --max-tokens 24 "Once upon a time" &&
    has_text unary && has_text stream &&
    grep -Eq "^unary: finish=[A-Z_]+ prompt_tokens=[0-9]+ completion_tokens=[1-9][0-9]* model=" "$OUT" &&
    grep -Eq "^stream: finish=[A-Z_]+ chunks=[1-9][0-9]* completion_tokens=[1-9]" "$OUT"'

check "same seed, same unary text" '
    run 0 --mode unary --seed 7 --temperature 0.8 --max-tokens 16 "Hello" && grep "^unary: " "$OUT" | head -1 >"$TMP/a" &&
    run 0 --mode unary --seed 7 --temperature 0.8 --max-tokens 16 "Hello" && grep "^unary: " "$OUT" | head -1 >"$TMP/b" &&
    cmp -s "$TMP/a" "$TMP/b"'

check "unary only" '
    run 0 --mode unary --max-tokens 8 "Hello" && has_text unary && ! grep -q "^stream:" "$OUT"'

check "stream only" '
    run 0 --mode stream --max-tokens 8 "Hello" && has_text stream && ! grep -q "^unary:" "$OUT"'

check "4 KB prompt with LZ4" '
    run 0 --mode both --seed 1 --max-tokens 8 "$LONG" &&
    grep -q "^unary: finish=" "$OUT" && grep -q "^stream: finish=" "$OUT"'

check "4 KB prompt with --no-lz4" '
    run 0 --no-lz4 --mode both --seed 1 --max-tokens 8 "$LONG" &&
    grep -q "^unary: finish=" "$OUT" && grep -q "^stream: finish=" "$OUT"'

check "max_tokens over the limit: INVALID_ARGUMENT, exit 1" '
    run 1 --mode unary --max-tokens 100000000 "Hello" &&
    grep -q "^error: INVALID_ARGUMENT (3): " "$ERR"'

check "bad temperature on a stream: INVALID_ARGUMENT, exit 1" '
    run 1 --mode stream --temperature 5 "Hello" &&
    grep -q "^error: INVALID_ARGUMENT (3): " "$ERR"'

check "missing socket: non-zero exit" '
    "$CLIENT" --socket "$TMP/nonexistent.sock" "Hello" >"$OUT" 2>"$ERR"; [ $? -ne 0 ] &&
    grep -q "^error: connect" "$ERR"'

echo "$PASSED passed, $FAILED failed"
[ "$FAILED" -eq 0 ]
