#!/usr/bin/env bash
# End-to-end: the auth plugin (Plugins/Auth) signed, loaded by `rampart serve --config` through the
# signed-plugin loader, and exercised through a running sidecar: API keys and tokens, RBAC, TOTP
# step-up on admin RPCs, peer-uid binding (a second user via runuser), brute-force lockout, every
# bad credential with its status and audit record, and interop with PyJWT in both directions.
#   RAMPART_BIN=.build/debug/rampart Tests/cli/auth.sh
# Needs root (useradd/runuser) for the uid tests; PyJWT goes into a venv (default .build/auth-venv,
# override with AUTH_VENV).
set -u
ROOT=$(cd "$(dirname "$0")/../.." && pwd)
BIN=${RAMPART_BIN:?set RAMPART_BIN}
case $BIN in /*) ;; *) BIN=$PWD/$BIN ;; esac
AUTH_LIB=${AUTH_LIB:-$(dirname "$BIN")/libRampartAuth.so}
VENV=${AUTH_VENV:-$ROOT/.build/auth-venv}
TMP_PREFIX=rampart-auth
. "$ROOT/Tests/cli/lib.sh"

[ -f "$AUTH_LIB" ] || { echo "missing $AUTH_LIB (swift build --product RampartAuth)"; exit 1; }
if ! "$VENV/bin/python" -c 'import jwt, cryptography' >/dev/null 2>&1; then
  echo "installing pyjwt + cryptography into $VENV ..."
  python3 -m venv "$VENV" && "$VENV/bin/pip" install -q --disable-pip-version-check pyjwt cryptography \
    || { echo "cannot install PyJWT"; exit 2; }
fi
PY="$VENV/bin/python"

# A second user for the peer-uid tests; the socket is group-accessible (0660) to that user's group.
OTHER=rampart-authtest
if [ "$(id -u)" -eq 0 ]; then
  id "$OTHER" >/dev/null 2>&1 || useradd -M -r -s /usr/sbin/nologin "$OTHER" || { echo "useradd failed"; exit 1; }
  OTHER_UID=$(id -u "$OTHER")
else
  echo "not root: the second-user tests are skipped"; OTHER_UID=
fi
chmod 711 "$TMP"
mkdir -p "$TMP/run" "$TMP/bin" "$TMP/state" && chmod 711 "$TMP/run" "$TMP/bin" && chmod 700 "$TMP/state"
cp "$BIN" "$TMP/bin/rampart" && chmod 755 "$TMP/bin/rampart"
SOCK="$TMP/run/rampart.sock"
DB="$TMP/state/auth.db"
AUDIT="$TMP/audit.jsonl"

# The plugin directory, signed like any third-party plugin.
"$BIN" keygen --out "$TMP/trusted" >/dev/null
mkdir -p "$TMP/plugins/auth"
cp "$AUTH_LIB" "$TMP/plugins/auth/"
echo '{"name": "auth", "library": "libRampartAuth.so"}' > "$TMP/plugins/auth/plugin.json"
"$BIN" sign --key "$TMP/trusted.key" "$TMP/plugins/auth" >/dev/null

GROUP_LINES=""
[ -n "$OTHER_UID" ] && GROUP_LINES=$(printf 'socket_mode = "0660"\nsocket_group = "%s"' "$OTHER")
cat > "$TMP/rampart.toml" <<EOF
[server]
socket = "$SOCK"
$GROUP_LINES

[backend]
kind = "null"

[plugin_trust]
trusted_keys = ["$TMP/trusted.pub"]
cache_dir = "$TMP/cache"

[audit]
path = "$AUDIT"
fsync = "never"

[[plugins]]
name = "auth"
path = "$TMP/plugins/auth"
timeout_ms = 2000

[plugins.config]
db = "$DB"
issuer = "rampart-test"
audience = "rampart-test"
refresh_interval_ms = 0
rotation_grace_seconds = 3600

[plugins.config.lockout]
free_failures = 40
lockout_after = 80
lockout_seconds = 600
EOF

offline() { "$BIN" "$@" --db "$DB" --issuer rampart-test --audience rampart-test; }
infer() { "$BIN" infer --socket "$SOCK" --raw --no-stream "$@"; }
raw() { "$PY" "$ROOT/Tests/cli/auth_client.py" "$SOCK" "$@"; }
admin() { "$BIN" "$@" --socket "$SOCK"; }
audit_has() {  # audit_has KIND OUTCOME REASON: a record with these fields was written
  "$PY" - "$AUDIT" "$@" <<'PY'
import json, sys
path, kind, outcome, reason = sys.argv[1:5]
for line in open(path):
    r = json.loads(line)
    if r.get("kind") == kind and r.get("outcome") == outcome and r.get("reason", "") == reason:
        sys.exit(0)
sys.exit("no audit record %s/%s/%s" % (kind, outcome, reason))
PY
}
# TOTP (RFC 6238, SHA-1, 30 s, 6 digits) computed independently in Python from the enrolment URI.
totp() {  # totp STEP_OFFSET
  "$PY" - "$TOTP_SECRET" "${1:-0}" <<'PY'
import base64, hashlib, hmac, struct, sys, time
secret = base64.b32decode(sys.argv[1] + "=" * ((8 - len(sys.argv[1]) % 8) % 8))
counter = int(time.time()) // 30 + int(sys.argv[2])
h = hmac.new(secret, struct.pack(">Q", counter), hashlib.sha1).digest()
o = h[-1] & 15
print("%06d" % ((struct.unpack(">I", h[o:o + 4])[0] & 0x7FFFFFFF) % 1000000))
PY
}
# Waits until the current TOTP step has at least 8 s left, so a code and its replay land in one step.
totp_fresh_step() { while [ $(( 30 - $(date +%s) % 30 )) -lt 8 ]; do sleep 1; done; }

# Bootstrap offline, as the operator owning the store: principals, keys, TOTP enrolment.
offline principal add app --scopes infer --user alice --org acme >/dev/null
offline principal add ops --scopes infer,admin --user olga --org acme >/dev/null
offline principal add svc --scopes infer --user svc --org acme >/dev/null
APP_KEY=$(offline keys create --principal app 2>/dev/null)
OPS_KEY=$(offline keys create --principal ops 2>/dev/null)
SVC_KEY=$(offline keys create --principal svc --bind-uid "${OTHER_UID:-4242}" 2>/dev/null)
OLD_KEY=$(offline keys create --principal app --label rotating 2>/dev/null)
URI=$(offline totp enroll --principal ops 2>/dev/null)
TOTP_SECRET=$(printf '%s' "$URI" | sed -n 's/.*secret=\([A-Z2-7]*\).*/\1/p')

"$BIN" serve --config "$TMP/rampart.toml" >"$TMP/serve.out" 2>"$TMP/serve.err" &
SERVER=$!
wait_socket "$SOCK" || { echo "server did not start"; cat "$TMP/serve.err"; exit 1; }

check "the signed auth plugin is loaded through the signed-plugin loader" '
  grep -q "plugin chain ready" "$TMP/serve.err" && grep -q "auth: store" "$TMP/serve.err"'
check "bootstrap printed keys once (rk_live_ prefix) and an otpauth URI" '
  case $APP_KEY in rk_live_*) ;; *) exit 1;; esac && case $URI in otpauth://totp/*secret=*) ;; *) exit 1;; esac'
check "health stays public" '"$BIN" health --socket "$SOCK" | grep -qi serving'

# --- credentials that work
check "an API key can generate" '[ "$(infer --api-key "$APP_KEY" "hello key")" = "hello key" ]'
INFER_TOKEN=$(RAMPART_API_KEY=$APP_KEY admin token issue --scopes infer 2>/dev/null)
check "Auth.IssueToken exchanges the key for a token" '[ -n "$INFER_TOKEN" ] && case $INFER_TOKEN in eyJ*) ;; *) exit 1;; esac'
check "an infer token can generate" '[ "$(infer --token "$INFER_TOKEN" "hello token")" = "hello token" ]'
check "an infer token cannot call admin RPCs (PERMISSION_DENIED naming the scope)" '
  ! RAMPART_TOKEN=$INFER_TOKEN admin keys list --totp "$(totp)" 2>"$TMP/e" &&
  grep -q "PERMISSION_DENIED (7): permission denied: missing scope \"admin\" for rampart.v1.Auth/ListKeys" "$TMP/e" &&
  audit_has auth.denied denied missing_scope'

# --- TOTP step-up
ADMIN_TOKEN=$(RAMPART_API_KEY=$OPS_KEY admin token issue 2>/dev/null)
check "an admin token without TOTP is refused" '
  ! RAMPART_TOKEN=$ADMIN_TOKEN admin keys list 2>"$TMP/e" && grep -q "UNAUTHENTICATED (16): authentication failed: mfa_required" "$TMP/e" &&
  audit_has mfa.failure failure mfa_required'
check "an admin token with a wrong TOTP is refused" '
  CODE=$(totp); WRONG=$(printf "%06d" $(( (10#$CODE + 1) % 1000000 )));
  ! RAMPART_TOKEN=$ADMIN_TOKEN admin keys list --totp "$WRONG" 2>"$TMP/e" && grep -q "mfa_invalid" "$TMP/e"'
check "a TOTP from two steps ago is refused" '
  ! RAMPART_TOKEN=$ADMIN_TOKEN admin keys list --totp "$(totp -2)" 2>"$TMP/e" && grep -q "mfa_invalid" "$TMP/e"'
totp_fresh_step
CODE=$(totp)
check "an admin token with a valid TOTP succeeds once" '
  RAMPART_TOKEN=$ADMIN_TOKEN admin keys list --totp "$CODE" >"$TMP/keys" && grep -q " app " "$TMP/keys" && audit_has mfa.success success ""'
check "the same TOTP replayed is refused" '
  ! RAMPART_TOKEN=$ADMIN_TOKEN admin keys list --totp "$CODE" 2>"$TMP/e" && grep -q "mfa_replayed" "$TMP/e" && audit_has mfa.failure failure mfa_replayed'

# --- peer uid binding
check "a key bound to uid A is refused from uid B (root)" '
  ! infer --api-key "$SVC_KEY" "hi" 2>"$TMP/e" && grep -q "UNAUTHENTICATED (16): authentication failed: wrong_peer" "$TMP/e" &&
  audit_has auth.failure failure wrong_peer'
if [ -n "$OTHER_UID" ]; then
  check "the same key works from uid A (runuser as $OTHER)" '
    [ "$(runuser -u "$OTHER" -- env RAMPART_API_KEY="$SVC_KEY" "$TMP/bin/rampart" infer --socket "$SOCK" --raw --no-stream "from A")" = "from A" ]'
  check "a token of the uid-bound key is bound too: refused from uid B" '
    T=$(runuser -u "$OTHER" -- env RAMPART_API_KEY="$SVC_KEY" "$TMP/bin/rampart" token issue --socket "$SOCK" 2>/dev/null) && [ -n "$T" ] &&
    ! infer --token "$T" "x" 2>"$TMP/e" && grep -q wrong_peer "$TMP/e"'
fi

# --- bad credentials, each with its status and audit record
check "no credentials" '
  ! infer "x" 2>"$TMP/e" && grep -q "UNAUTHENTICATED (16): authentication failed: missing_credentials" "$TMP/e" &&
  audit_has auth.failure failure missing_credentials'
check "malformed token" '! infer --token "not.a.jwt" "x" 2>"$TMP/e" && grep -q "authentication failed: malformed" "$TMP/e" && audit_has auth.failure failure malformed'
check "bad signature" '
  BAD=$(printf "%s" "$INFER_TOKEN" | "$PY" -c "import sys; t=sys.stdin.read(); h,p,s=t.split(\".\"); print(h+\".\"+p+\".\"+(\"B\" if s[0]!=\"B\" else \"C\")+s[1:])");
  ! infer --token "$BAD" "x" 2>"$TMP/e" && grep -q "bad_signature" "$TMP/e" && audit_has auth.failure failure bad_signature'

KID=$(printf "%s" "$INFER_TOKEN" | "$PY" -c "import sys,json,base64; h=sys.stdin.read().split('.')[0]; print(json.loads(base64.urlsafe_b64decode(h+'=='*2))['kid'])")
PEM="$TMP/state/signing-keys/$KID.pem"
# mint CLAIMS_JSON [KID] [KEYFILE]: a token signed by PyJWT with EdDSA (default: Rampart's key).
mint() {
  "$PY" - "$1" "${2:-$KID}" "${3:-$PEM}" <<'PY'
import json, sys, time, jwt
claims = {"iss": "rampart-test", "aud": "rampart-test", "sub": "app", "scope": "infer", "iat": int(time.time()), "exp": int(time.time()) + 300}
claims.update(json.loads(sys.argv[1]))
print(jwt.encode(claims, open(sys.argv[3]).read(), algorithm="EdDSA", headers={"kid": sys.argv[2]}))
PY
}
check "expired token" '! infer --token "$(mint "{\"iat\": $(( $(date +%s) - 900 )), \"exp\": $(( $(date +%s) - 600 ))}")" "x" 2>"$TMP/e" && grep -q "authentication failed: expired" "$TMP/e" && audit_has auth.failure failure expired'
check "token not yet valid" '! infer --token "$(mint "{\"nbf\": $(( $(date +%s) + 600 ))}")" "x" 2>"$TMP/e" && grep -q not_yet_valid "$TMP/e" && audit_has auth.failure failure not_yet_valid'
check "wrong audience" '! infer --token "$(mint "{\"aud\": \"someone-else\"}")" "x" 2>"$TMP/e" && grep -q wrong_audience "$TMP/e" && audit_has auth.failure failure wrong_audience'
check "wrong issuer" '! infer --token "$(mint "{\"iss\": \"evil\"}")" "x" 2>"$TMP/e" && grep -q wrong_issuer "$TMP/e" && audit_has auth.failure failure wrong_issuer'
"$PY" -c "from cryptography.hazmat.primitives.asymmetric import ed25519; from cryptography.hazmat.primitives import serialization as s
open('$TMP/stranger.pem','wb').write(ed25519.Ed25519PrivateKey.generate().private_bytes(s.Encoding.PEM, s.PrivateFormat.PKCS8, s.NoEncryption()))"
check "unknown kid" '! infer --token "$(mint "{}" ed25519-0000000000000000 "$TMP/stranger.pem")" "x" 2>"$TMP/e" && grep -q unknown_kid "$TMP/e" && audit_has auth.failure failure unknown_kid'
check "alg: none is refused" '
  NONE=$("$PY" -c "import jwt; print(jwt.encode({\"sub\":\"app\",\"iss\":\"rampart-test\",\"aud\":\"rampart-test\",\"exp\":9999999999,\"iat\":1,\"scope\":\"admin infer\"}, None, algorithm=\"none\", headers={\"kid\":\"$KID\"}))");
  ! infer --token "$NONE" "x" 2>"$TMP/e" && grep -q unsupported_algorithm "$TMP/e" && audit_has auth.failure failure unsupported_algorithm'
check "an algorithm switch (HS256 keyed with the public key) is refused" '
  PUB=$("$PY" -c "from cryptography.hazmat.primitives import serialization as s; k=s.load_pem_private_key(open(\"$PEM\",\"rb\").read(),None); print(k.public_key().public_bytes(s.Encoding.Raw,s.PublicFormat.Raw).hex())");
  HS=$("$PY" -c "import jwt,time; print(jwt.encode({\"sub\":\"app\",\"iss\":\"rampart-test\",\"aud\":\"rampart-test\",\"exp\":int(time.time())+60,\"iat\":int(time.time()),\"scope\":\"infer\"}, bytes.fromhex(\"$PUB\"), algorithm=\"HS256\", headers={\"kid\":\"$KID\"}))");
  ! infer --token "$HS" "x" 2>"$TMP/e" && grep -q unsupported_algorithm "$TMP/e"'
check "an extremely long (1 MB) credential header is refused as malformed" '
  [ "$(raw --meta-size authorization=1048576)" = "16 authentication failed: malformed" ] && "$BIN" health --socket "$SOCK" >/dev/null'
# The host hands plugins text metadata only: a binary `authorization` never reaches the plugin (the
# plugin's own refusal of binary values as `malformed` is covered by the XCTests).
check "a binary credential header is refused (UNAUTHENTICATED)" '
  OUT=$(raw --meta-bin authorization=00ff10fe); echo "$OUT"; [ "$OUT" = "16 authentication failed: missing_credentials" ]'

# --- PyJWT interop, both directions
check "a token issued by Rampart verifies with PyJWT (EdDSA, aud, iss, kid)" '
  "$PY" - "$INFER_TOKEN" "$PEM" <<PY
import sys, jwt
from cryptography.hazmat.primitives import serialization as s
pub = s.load_pem_private_key(open(sys.argv[2], "rb").read(), None).public_key()
claims = jwt.decode(sys.argv[1], pub, algorithms=["EdDSA"], audience="rampart-test", issuer="rampart-test",
                    options={"require": ["exp", "iat", "nbf", "sub", "jti"]})
assert jwt.get_unverified_header(sys.argv[1])["kid"] == "$KID"
assert claims["sub"] == "app" and claims["scope"] == "infer" and claims["exp"] - claims["iat"] == 900, claims
PY'
check "a token minted by PyJWT with Rampart's key is accepted" '[ "$(infer --token "$(mint "{}")" "from pyjwt")" = "from pyjwt" ]'

# --- revocation and rotation
check "a revoked key is refused at once (revoked offline by the operator)" '
  ID=$(offline keys list --principal app | grep -v rotating | head -1 | cut -d" " -f1) && offline keys revoke "$ID" >/dev/null &&
  ! infer --api-key "$APP_KEY" "x" 2>"$TMP/e" && grep -q "authentication failed: revoked" "$TMP/e" && audit_has auth.failure failure revoked'
check "tokens of the revoked key die with it" '! infer --token "$INFER_TOKEN" "x" 2>"$TMP/e" && grep -q revoked "$TMP/e"'
OLD_ID=$(offline keys list --principal app | grep rotating | cut -d" " -f1)
NEW_KEY=$(offline keys rotate "$OLD_ID" --grace 2s 2>/dev/null)
check "a rotated key works during its grace period, and so does the new one" '
  [ "$(infer --api-key "$OLD_KEY" "old")" = "old" ] && [ "$(infer --api-key "$NEW_KEY" "new")" = "new" ]'
sleep 3
check "a rotated key after its grace period is refused" '! infer --api-key "$OLD_KEY" "x" 2>"$TMP/e" && grep -q "authentication failed: expired" "$TMP/e"'
check "admin RPC (TOTP step-up): revoke every token of principal ops online" '
  RAMPART_TOKEN=$ADMIN_TOKEN admin token revoke --principal ops --totp "$(totp 1)" >/dev/null && audit_has token.revoke success "" &&
  ! infer --token "$ADMIN_TOKEN" "x" 2>"$TMP/e" && grep -q revoked "$TMP/e"'

# --- brute force: 1,000 wrong keys in a row from one uid
raw --random-key --count 1000 > "$TMP/brute"
check "1,000 wrong keys from one uid: invalid_key, then backoff, then lockout" '
  [ "$(grep -c "invalid_key" "$TMP/brute")" -ge 20 ] && grep -q "16 authentication failed: backoff" "$TMP/brute" &&
  [ "$(tail -1 "$TMP/brute")" = "16 authentication failed: locked_out" ] && [ "$(grep -c locked_out "$TMP/brute")" -gt 900 ] &&
  audit_has auth.failure failure locked_out'
check "the locked-out uid is refused even with a valid key" '! infer --api-key "$NEW_KEY" "x" 2>"$TMP/e" && grep -q locked_out "$TMP/e"'
if [ -n "$OTHER_UID" ]; then
  check "another uid and principal are unaffected" '
    [ "$(runuser -u "$OTHER" -- env RAMPART_API_KEY="$SVC_KEY" "$TMP/bin/rampart" infer --socket "$SOCK" --raw --no-stream "still fine")" = "still fine" ]'
fi

# --- the audit trail never holds secrets
check "the audit trail recorded every event without secrets (keys, tokens, TOTP codes)" '
  [ "$(wc -l < "$AUDIT")" -gt 1000 ] &&
  for s in "$APP_KEY" "$OPS_KEY" "$SVC_KEY" "$OLD_KEY" "$NEW_KEY" "$INFER_TOKEN" "$ADMIN_TOKEN" "$CODE" "$TOTP_SECRET"; do
    ! grep -qF -- "$s" "$AUDIT" || { echo "secret in audit log"; exit 1; }
  done && ! grep -q "rk_live_" "$AUDIT" && ! grep -q "eyJ" "$AUDIT"'

summary
