#!/usr/bin/env bash
# End-to-end: the sanitizer plugin (libRampartSanitizer.so) is signed, loaded through the signed
# loader by `rampart serve`, and acts on real `rampart infer` calls against the null (echo)
# backend: denials (size, tag smuggling, invisible-only), input redaction, output redaction with
# a split email, and reversible placeholders.
#   RAMPART_BIN=.build/debug/rampart Tests/cli/sanitizer.sh
set -u
ROOT=$(cd "$(dirname "$0")/../.." && pwd)
BIN=${RAMPART_BIN:?set RAMPART_BIN}
case $BIN in /*) ;; *) BIN=$PWD/$BIN ;; esac
PLUGIN=${SANITIZER_PLUGIN:-$(dirname "$BIN")/libRampartSanitizer.so}
TMP_PREFIX=rampart-sanitizer
. "$ROOT/Tests/cli/lib.sh"

[ -f "$PLUGIN" ] || { echo "missing $PLUGIN (swift build --product RampartSanitizer)"; exit 1; }
"$BIN" keygen --out "$TMP/trusted" >/dev/null
mkdir -p "$TMP/plugins/sanitizer"
cp "$PLUGIN" "$TMP/plugins/sanitizer/"
echo "{\"name\": \"sanitizer\", \"library\": \"$(basename "$PLUGIN")\"}" > "$TMP/plugins/sanitizer/plugin.json"
"$BIN" sign --key "$TMP/trusted.key" "$TMP/plugins/sanitizer" >/dev/null

write_config() {  # write_config FILE CONFIG_JSON
  printf '[server]\nsocket = "%s"\n\n[backend]\nkind = "null"\n\n' "$TMP/rampart.sock" > "$1"
  printf '[plugin_trust]\ntrusted_keys = ["%s"]\ncache_dir = "%s"\n\n' "$TMP/trusted.pub" "$TMP/cache" >> "$1"
  printf "[[plugins]]\nname = \"sanitizer\"\npath = \"%s\"\nconfig = '''%s'''\n" "$TMP/plugins/sanitizer" "$2" >> "$1"
}
start() {
  rm -f "$TMP/rampart.sock"
  "$BIN" serve --config "$1" >"$TMP/serve.out" 2>"$TMP/serve.err" &
  SERVER=$!
  wait_socket "$TMP/rampart.sock"
}
stop() { [ -n "$SERVER" ] && kill -TERM "$SERVER" && wait "$SERVER"; SERVER=; }
infer() { "$BIN" infer --socket "$TMP/rampart.sock" --raw "$@"; }

write_config "$TMP/a.toml" '{"limits": {"max_message_bytes": 4096}}'
start "$TMP/a.toml" || { echo "server did not start"; cat "$TMP/serve.err"; exit 1; }
check "the signed sanitizer plugin is loaded" 'grep -q "plugin chain ready" "$TMP/serve.err" && grep -q "sanitizer ready" "$TMP/serve.err"'
check "a clean prompt passes unchanged" '[ "$(infer --no-stream "hello sidecar")" = "hello sidecar" ]'
check "deny: an oversized prompt is refused with INVALID_ARGUMENT" '
  big=$(head -c 5000 /dev/zero | tr "\0" "a")
  ! infer --no-stream "$big" 2>"$TMP/e" >/dev/null && grep -q "INVALID_ARGUMENT (3): sanitizer: prompt of 5000 bytes" "$TMP/e"'
check "deny: tag-character smuggling is refused with PERMISSION_DENIED" '
  p=$(printf "hi \xf3\xa0\x81\xa9\xf3\xa0\x81\xa7\xf3\xa0\x81\xae")
  ! infer --no-stream "$p" 2>"$TMP/e" >/dev/null && grep -q "PERMISSION_DENIED (7): sanitizer: user content contains ASCII smuggling" "$TMP/e"'
check "deny: a prompt of only invisible characters" '
  p=$(printf "\xe2\x80\x8b\xe2\x80\x8c\xe2\x81\xa0")
  ! infer --no-stream "$p" 2>"$TMP/e" >/dev/null && grep -q "invisible" "$TMP/e"'
check "redaction: an email and a card in the prompt never reach the backend (unary)" '
  out=$(infer --no-stream "mail alice@example.com card 4111 1111 1111 1111") &&
  [ "$out" = "mail [EMAIL_ADDRESS_1] card [CREDIT_CARD_1]" ]'
check "redaction: a secret in the prompt (streamed)" '
  out=$(infer "token ghp_aB3dE5fG7hJ9kL1mN3pQ5rS7tU9vW1xY3zA5 end") && [ "$out" = "token [GITHUB_TOKEN_1] end" ]'
check "redaction in chat messages (the rewritten messages reach the backend)" '
  out=$("$BIN" infer --socket "$TMP/rampart.sock" --no-stream --system "be brief" "mail bob@example.com now") &&
  case "$out" in *"[EMAIL_ADDRESS_1]"*) ! printf "%s" "$out" | grep -q "bob@example.com" ;; *) false ;; esac'
check "tag smuggling in a chat message (read as fields) is refused" '
  ! "$BIN" infer --socket "$TMP/rampart.sock" --no-stream --system "be brief" "$(printf "hi \xf3\xa0\x81\xa9\xf3\xa0\x81\xa7")" 2>"$TMP/e" >/dev/null &&
  grep -q "PERMISSION_DENIED" "$TMP/e"'
check "the denial is logged without the offending text" 'grep -q "sanitizer denied (unicode)" "$TMP/serve.err" && ! grep -q "alice@example.com" "$TMP/serve.err"'
stop

# Output side only (input redaction off): the echoed email is redacted in the output stream,
# including when the backend emits it in several pieces (max_tokens splits the echo on spaces).
write_config "$TMP/b.toml" '{"pii": {"action": "off"}, "secrets": {"action": "off"}}'
start "$TMP/b.toml" || { echo "server did not start"; cat "$TMP/serve.err"; exit 1; }
check "output redaction of a streamed email" '
  out=$(infer --max-tokens 3 "write to bob@example.org now please") && echo "$out" | grep -q "\[EMAIL_ADDRESS_1\]" && ! echo "$out" | grep -q "bob@"'
check "output redaction keeps the tail of the stream" '
  out=$(infer "contact bob@example.org") && [ "$out" = "contact [EMAIL_ADDRESS_1]" ]'
stop

# Reversible placeholders: the backend sees a placeholder, the client gets the original back.
write_config "$TMP/c.toml" '{"redaction": "reversible"}'
start "$TMP/c.toml" || { echo "server did not start"; cat "$TMP/serve.err"; exit 1; }
check "reversible: the original is restored in that request's output" '
  out=$(infer --no-stream "reply to carol@example.net") && [ "$out" = "reply to carol@example.net" ]'
stop

write_config "$TMP/d.toml" '{"pii": {"acton": "deny"}}'
check "a bad sanitizer config is refused at start with the plugin's message" '
  ! "$BIN" serve --config "$TMP/d.toml" >/dev/null 2>"$TMP/e" && grep -q "unknown key pii.acton" "$TMP/e"'

summary
