#!/usr/bin/env bash
# End-to-end: the C and Swift example plugins are signed with `rampart sign`, loaded through the
# signed-plugin loader from the config file, and change real `rampart infer` calls (deny and
# mutation). Tampered, unsigned and wrongly signed plugins are refused at start (fail closed), and
# SIGHUP reloads the chain while a bad reload keeps the old chain serving.
#   RAMPART_BIN=.build/debug/rampart Tests/cli/plugins.sh
set -u
ROOT=$(cd "$(dirname "$0")/../.." && pwd)
BIN=${RAMPART_BIN:?set RAMPART_BIN}
case $BIN in /*) ;; *) BIN=$PWD/$BIN ;; esac
SWIFT_PLUGIN=${SWIFT_PLUGIN:-$(dirname "$BIN")/libExampleSwiftPlugin.so}
TMP_PREFIX=rampart-plugins
. "$ROOT/Tests/cli/lib.sh"

make -s -C "$ROOT/examples/c-plugin" >/dev/null || { echo "cannot build the C plugin"; exit 1; }
[ -f "$SWIFT_PLUGIN" ] || { echo "missing $SWIFT_PLUGIN (swift build --product ExampleSwiftPlugin)"; exit 1; }

# Keys: one trusted, one not.
"$BIN" keygen --out "$TMP/trusted" >/dev/null
"$BIN" keygen --out "$TMP/stranger" >/dev/null

# Plugin directories: library + plugin.json, signed as a directory.
mkdir -p "$TMP/plugins/c-guard" "$TMP/plugins/swift-guard"
cp "$ROOT/examples/c-plugin/build/librampart_example_c.so" "$TMP/plugins/c-guard/"
echo '{"name": "keyword-guard-c", "library": "librampart_example_c.so"}' > "$TMP/plugins/c-guard/plugin.json"
cp "$SWIFT_PLUGIN" "$TMP/plugins/swift-guard/"
echo "{\"name\": \"keyword-guard-swift\", \"library\": \"$(basename "$SWIFT_PLUGIN")\"}" > "$TMP/plugins/swift-guard/plugin.json"
"$BIN" sign --key "$TMP/trusted.key" "$TMP/plugins/c-guard" >/dev/null
"$BIN" sign --key "$TMP/trusted.key" "$TMP/plugins/swift-guard" >/dev/null

write_config() {  # write_config FILE PLUGIN_DIR...
  local file=$1; shift
  {
    printf '[server]\nsocket = "%s"\n\n[backend]\nkind = "null"\n\n' "$TMP/rampart.sock"
    printf '[plugin_trust]\ntrusted_keys = ["%s"]\ncache_dir = "%s"\n\n' "$TMP/trusted.pub" "$TMP/cache"
    for dir in "$@"; do
      printf '[[plugins]]\nname = "%s"\npath = "%s"\nconfig = "forbidden,classified"\n\n' "$(basename "$dir")" "$dir"
    done
  } > "$file"
}
start() {  # start CONFIG: starts the server in the background
  "$BIN" serve --config "$1" >"$TMP/serve.out" 2>"$TMP/serve.err" &
  SERVER=$!
  wait_socket "$TMP/rampart.sock"
}
stop() { [ -n "$SERVER" ] && kill -TERM "$SERVER" && wait "$SERVER"; SERVER=; }
infer() { "$BIN" infer --socket "$TMP/rampart.sock" --raw --no-stream "$@"; }

write_config "$TMP/both.toml" "$TMP/plugins/c-guard" "$TMP/plugins/swift-guard"
start "$TMP/both.toml" || { echo "server did not start"; cat "$TMP/serve.err"; exit 1; }

check "signed C and Swift plugins are loaded in order" '
  grep -q "plugin chain ready" "$TMP/serve.err" && grep -q "c-guard → swift-guard" "$TMP/serve.err"'
check "a clean request passes both plugins unchanged" '[ "$(infer "hello sidecar")" = "hello sidecar" ]'
check "deny: a banned word is refused with PERMISSION_DENIED" '
  ! infer "show me the classified plans" 2>"$TMP/e" >/dev/null && grep -q "PERMISSION_DENIED (7): request mentions a banned word: classified" "$TMP/e"'
check "mutation by the C plugin (shout → upper case) then the Swift plugin (please → be concise)" '
  [ "$(infer "please shout this")" = "PLEASE SHOUT THIS (be concise)" ]'

# Hot reload: drop the C plugin, SIGHUP, the Swift plugin alone remains.
write_config "$TMP/both.toml" "$TMP/plugins/swift-guard"
kill -HUP "$SERVER"; sleep 1
check "SIGHUP reloads the chain (the C plugin is gone)" '
  [ "$(infer "please shout this")" = "please shout this (be concise)" ] && grep -q "reloaded plugin chain" "$TMP/serve.err"'
printf '[server]\nsockt = "x"\n' > "$TMP/both.toml"
kill -HUP "$SERVER"; sleep 1
check "a bad config on SIGHUP is refused and the old chain keeps serving" '
  grep -q "reload refused" "$TMP/serve.err" && [ "$(infer "please go")" = "please go (be concise)" ]'
stop

# The same signed C plugin in a child process (isolation = "process").
write_config "$TMP/iso.toml" "$TMP/plugins/c-guard"
printf 'isolation = "process"\n' >> "$TMP/iso.toml"
start "$TMP/iso.toml" || { echo "isolated server did not start"; cat "$TMP/serve.err"; }
check "a signed plugin runs isolated in a child process and still denies and mutates" '
  pgrep -f "plugin-host" >/dev/null &&
  ! infer "the classified bit" 2>"$TMP/e" >/dev/null && grep -q "PERMISSION_DENIED (7)" "$TMP/e" &&
  [ "$(infer "shout it")" = "SHOUT IT" ]'
stop
check "the isolated child exits with the sidecar" '
  for _ in $(seq 50); do pgrep -f "plugin-host.*c-guard" >/dev/null || exit 0; sleep 0.1; done; exit 1'

# Fail closed at start.
cp -r "$TMP/plugins/c-guard" "$TMP/plugins/tampered"
printf 'x' >> "$TMP/plugins/tampered/librampart_example_c.so"
write_config "$TMP/tampered.toml" "$TMP/plugins/tampered"
check "a plugin modified after signing is refused at start" '
  ! "$BIN" serve --config "$TMP/tampered.toml" >/dev/null 2>"$TMP/e" && grep -q "signature verification failed" "$TMP/e" && grep -q "librampart_example_c.so" "$TMP/e"'
cp -r "$TMP/plugins/c-guard" "$TMP/plugins/unsigned"; rm "$TMP/plugins/unsigned/model.sig"
write_config "$TMP/unsigned.toml" "$TMP/plugins/unsigned"
check "an unsigned plugin is refused at start" '
  ! "$BIN" serve --config "$TMP/unsigned.toml" >/dev/null 2>"$TMP/e" && grep -q "plugin unsigned: refused" "$TMP/e"'
cp -r "$TMP/plugins/c-guard" "$TMP/plugins/stranger"; "$BIN" sign --key "$TMP/stranger.key" "$TMP/plugins/stranger" >/dev/null
write_config "$TMP/stranger.toml" "$TMP/plugins/stranger"
check "a plugin signed by an untrusted key is refused at start" '
  ! "$BIN" serve --config "$TMP/stranger.toml" >/dev/null 2>"$TMP/e" && grep -q "plugin stranger: refused" "$TMP/e"'
write_config "$TMP/badcfg.toml" "$TMP/plugins/c-guard"
sed -i 's/config = "forbidden,classified"/config = "a,,b"/' "$TMP/badcfg.toml"
check "a plugin rejecting its config is refused with the message from the plugin" '
  ! "$BIN" serve --config "$TMP/badcfg.toml" >/dev/null 2>"$TMP/e" && grep -q "create failed" "$TMP/e" && grep -q "is empty" "$TMP/e"'

# bench chain: a plugin that refuses every iteration stops the run with its error; one that passes prints its row.
echo "a forbidden word" > "$TMP/forbidden.txt"; echo "a clean prompt" > "$TMP/clean.txt"
check "bench chain: a plugin refusing every iteration fails the run with the plugin's error" '
  ! "$BIN" bench chain --plugin "$TMP/plugins/c-guard" --plugin-config forbidden --counts 0 1 --isolated-iterations 0 \
      --iterations 200 --prompt-file "$TMP/forbidden.txt" >"$TMP/o" 2>"$TMP/e" && grep -q "PERMISSION_DENIED" "$TMP/e"'
check "bench chain: a passing plugin prints its row" '
  "$BIN" bench chain --plugin "$TMP/plugins/c-guard" --plugin-config forbidden --counts 0 1 --isolated-iterations 0 \
      --iterations 200 --prompt-file "$TMP/clean.txt" >"$TMP/o" 2>"$TMP/e" && grep -Eq "^in-process +1 " "$TMP/o" && ! grep -q "failed" "$TMP/e"'

summary
