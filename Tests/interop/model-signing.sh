#!/usr/bin/env bash
# Interop between `rampart keygen/sign/verify` and the reference OpenSSF model-signing tool
# (PyPI model-signing 1.1.1), in both directions, including tampered directories.
#   RAMPART_BIN=.build/debug/rampart Tests/interop/model-signing.sh
# The reference tool is installed once into a venv (default .build/interop-venv; override with
# INTEROP_VENV; MODEL_SIGNING_SPEC overrides the pip requirement, e.g. a local wheel path).
set -u
ROOT=$(cd "$(dirname "$0")/../.." && pwd)
BIN=${RAMPART_BIN:?set RAMPART_BIN to the rampart binary}
case $BIN in /*) ;; *) BIN=$PWD/$BIN ;; esac
VENV=${INTEROP_VENV:-$ROOT/.build/interop-venv}
SPEC=${MODEL_SIGNING_SPEC:-model-signing==1.1.1}

if ! "$VENV/bin/python" -c 'import model_signing' >/dev/null 2>&1; then
  echo "installing $SPEC into $VENV ..."
  mkdir -p "$(dirname "$VENV")"
  python3 -m venv "$VENV" || { echo "python3 -m venv failed"; exit 2; }
  "$VENV/bin/pip" install -q --disable-pip-version-check "$SPEC" pyopenssl || { echo "pip install failed"; exit 2; }
fi
PYVER=$("$VENV/bin/python" -c 'import model_signing; print(model_signing.__version__)')
echo "reference tool: model-signing $PYVER ($VENV)"
[ "$PYVER" = "1.1.1" ] || echo "warning: expected model-signing 1.1.1, found $PYVER"

TMP=$(mktemp -d /tmp/rampart-interop.XXXXXX)
trap 'rm -rf "$TMP"' EXIT
cd "$TMP" || exit 2

PASSED=0; FAILED=0
check() {
  local name=$1; shift
  if ( eval "$*" ) >"$TMP/check.log" 2>&1; then PASSED=$((PASSED+1)); echo "ok   - $name"
  else FAILED=$((FAILED+1)); echo "FAIL - $name"; sed 's/^/    /' "$TMP/check.log"; fi
}

# The reference CLI (note the underscores: --private_key, --public_key).
py_sign()   { "$VENV/bin/python" -m model_signing sign key --private_key "$1" --signature "$2" "${@:4}" "$3"; }
py_verify() { "$VENV/bin/python" -m model_signing verify key --public_key "$1" --signature "$2" "$3"; }

# A model exercising the serializer: nesting, pathlib order (a/x < a-b/z < a.b), hidden and empty
# files, non-ASCII names, binary content, an empty directory and top-level git paths (ignored).
make_model() {
  local d=$1
  mkdir -p "$d/a" "$d/a-b" "$d/weights/deep/er" "$d/empty-dir" "$d/.git/objects" "$d/.github"
  printf '{"layers": 2}\n' > "$d/config.json"
  printf 'x\n' > "$d/a/x"; printf 'z\n' > "$d/a-b/z"; printf 'ab\n' > "$d/a.b"
  printf 'hidden\n' > "$d/.hidden"; : > "$d/empty.bin"; printf 'umlaut\n' > "$d/ä.txt"
  head -c 300000 /dev/urandom > "$d/weights/deep/er/shard-0.bin"
  printf 'ref: main\n' > "$d/.git/HEAD"; printf '*.bin lfs\n' > "$d/.gitattributes"; printf 'ci\n' > "$d/.github/ci.yml"
}

# Keys: Rampart's own (PKCS#8) and OpenSSL's (SEC1), P-256 and P-384.
"$BIN" keygen --out "$TMP/r256" >/dev/null || { echo "rampart keygen failed"; exit 1; }
"$BIN" keygen --out "$TMP/r384" --curve p384 >/dev/null || { echo "rampart keygen failed"; exit 1; }
openssl ecparam -name prime256v1 -genkey -noout -out "$TMP/o256.key" 2>/dev/null
openssl ec -in "$TMP/o256.key" -pubout -out "$TMP/o256.pub" 2>/dev/null
openssl ecparam -name secp384r1 -genkey -noout -out "$TMP/o384.key" 2>/dev/null
openssl ec -in "$TMP/o384.key" -pubout -out "$TMP/o384.pub" 2>/dev/null

echo "# Rampart signs, the reference tool verifies"
check "keygen writes a 0600 private key" '[ "$(stat -c %a "$TMP/r256.key")" = 600 ]'
check "rampart sign (P-256) -> python verify" '
  make_model m1 && "$BIN" sign --key r256.key m1 && py_verify r256.pub m1/model.sig m1 | grep -q "Verification succeeded"'
check "rampart sign (P-384) -> python verify" '
  make_model m2 && "$BIN" sign --key r384.key m2 && py_verify r384.pub m2/model.sig m2'
check "rampart sign with an OpenSSL SEC1 key -> python verify" '
  make_model m3 && "$BIN" sign --key o256.key m3 && py_verify o256.pub m3/model.sig m3'
check "rampart sign --signature outside the dir -> python verify" '
  make_model m4 && "$BIN" sign --key r256.key --signature m4.sig m4 && py_verify r256.pub m4.sig m4'
check "rampart sign --ignore-path -> python verify skips it" '
  make_model m5 && mkdir -p m5/cache && echo 1 > m5/cache/x && "$BIN" sign --key r256.key --ignore-path cache m5 &&
  echo changed > m5/cache/x && echo new > m5/cache/y && py_verify r256.pub m5/model.sig m5'
check "same directory: rampart and python produce the same root digest" '
  make_model m6 && "$BIN" sign --key r256.key --signature m6.r.sig m6 >out.txt && py_sign o256.key m6.py.sig m6 &&
  r=$(sed -n "s/^root sha256: *//p" out.txt) &&
  p=$("$VENV/bin/python" -c "import json,base64,sys; b=json.load(open(\"m6.py.sig\")); print(json.loads(base64.b64decode(b[\"dsseEnvelope\"][\"payload\"]))[\"subject\"][0][\"digest\"][\"sha256\"])") &&
  echo "rampart $r python $p" && [ -n "$r" ] && [ "$r" = "$p" ]'

echo "# The reference tool signs, Rampart verifies"
check "python sign (P-256) -> rampart verify" '
  make_model p1 && py_sign o256.key p1/model.sig p1 && "$BIN" verify --key o256.pub p1 | grep -q "root sha256"'
check "python sign (P-384) -> rampart verify" '
  make_model p2 && py_sign o384.key p2/model.sig p2 && "$BIN" verify --key o384.pub p2'
check "python sign with a rampart-generated PKCS#8 key -> rampart verify" '
  make_model p3 && py_sign r256.key p3/model.sig p3 && "$BIN" verify --key r256.pub p3'
check "python sign --signature outside the dir -> rampart verify --signature" '
  make_model p4 && py_sign o256.key p4.sig p4 && "$BIN" verify --key o256.pub --signature p4.sig p4'
check "python sign --ignore-paths -> rampart verify skips it" '
  make_model p5 && mkdir -p p5/cache && echo 1 > p5/cache/x && py_sign o256.key p5/model.sig p5 --ignore-paths "$TMP/p5/cache" &&
  echo changed > p5/cache/x && "$BIN" verify --key o256.pub p5'
check "rampart verify with several keys picks the hinted one" '
  "$BIN" verify --key r384.pub --key o384.pub --key r256.pub p2 | grep -q "o384.pub"'
check "the committed reference-tool fixture verifies" '
  "$BIN" verify --key "$ROOT/Tests/RampartSigningTests/Fixtures/python-p256/key.pub" "$ROOT/Tests/RampartSigningTests/Fixtures/python-p256/model"'

echo "# Tampering fails in both directions"
check "rampart-signed, file modified: python verify fails" '
  make_model t1 && "$BIN" sign --key r256.key t1 && echo evil >> t1/config.json && ! py_verify r256.pub t1/model.sig t1'
check "rampart-signed, file added: python verify fails" '
  make_model t2 && "$BIN" sign --key r256.key t2 && echo new > t2/weights/extra.bin && ! py_verify r256.pub t2/model.sig t2'
check "rampart-signed, file removed: python verify fails" '
  make_model t3 && "$BIN" sign --key r256.key t3 && rm t3/a.b && ! py_verify r256.pub t3/model.sig t3'
check "rampart-signed, wrong public key: python verify fails" '
  make_model t4 && "$BIN" sign --key r256.key t4 && ! py_verify o256.pub t4/model.sig t4'
check "python-signed, file modified: rampart verify fails with the file and digests" '
  make_model t5 && py_sign o256.key t5/model.sig t5 && echo evil >> t5/config.json &&
  ! "$BIN" verify --key o256.pub t5 2>err.txt && grep -q "^error: " err.txt && grep -q "config.json. was modified" err.txt'
check "python-signed, file added: rampart verify fails" '
  make_model t6 && py_sign o256.key t6/model.sig t6 && echo new > t6/weights/extra.bin &&
  ! "$BIN" verify --key o256.pub t6 2>err.txt && grep -q "weights/extra.bin" err.txt'
check "python-signed, file removed: rampart verify fails" '
  make_model t7 && py_sign o256.key t7/model.sig t7 && rm t7/.hidden &&
  ! "$BIN" verify --key o256.pub t7 2>err.txt && grep -q "missing" err.txt'
check "python-signed, symlink added: rampart verify fails" '
  make_model t8 && py_sign o256.key t8/model.sig t8 && ln -s config.json t8/link.json &&
  ! "$BIN" verify --key o256.pub t8 2>err.txt && grep -q "symbolic link" err.txt'
check "python-signed, untrusted key: rampart verify fails" '
  make_model t9 && py_sign o256.key t9/model.sig t9 && ! "$BIN" verify --key r256.pub t9 2>err.txt && grep -q "not a trusted key" err.txt'
check "python-signed, payload altered: rampart verify fails" '
  make_model t10 && py_sign o256.key t10/model.sig t10 &&
  "$VENV/bin/python" -c "
import json,base64
b=json.load(open(\"t10/model.sig\")); s=json.loads(base64.b64decode(b[\"dsseEnvelope\"][\"payload\"]))
s[\"predicate\"][\"resources\"]=s[\"predicate\"][\"resources\"][1:]
b[\"dsseEnvelope\"][\"payload\"]=base64.b64encode(json.dumps(s).encode()).decode()
json.dump(b,open(\"t10/model.sig\",\"w\"))" &&
  ! "$BIN" verify --key o256.pub t10 2>err.txt && grep -q "signature verification failed" err.txt'

echo "$PASSED passed, $FAILED failed"
[ "$FAILED" -eq 0 ]
