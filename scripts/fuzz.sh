#!/usr/bin/env bash
# Coverage-guided fuzzing (libFuzzer + AddressSanitizer) of every parser that takes untrusted
# bytes: the wire protocol, the sanitizer's JSON/JSON Schema, URL allowlist and whole pipeline,
# config files and signed artifacts. See docs/FUZZING.md.
#
#   scripts/fuzz.sh [TARGET|all] [SECONDS]      default: all 60
#   scripts/fuzz.sh --list
#   scripts/fuzz.sh --repro TARGET FILE...      run inputs once (a crash artifact, a seed)
#
# TARGET: wire json-schema url sanitizer config signing. Builds Tests/Fuzz (a separate package:
# CI and `swift build` never build it) in release with -sanitize=fuzzer,address, then runs each
# target for SECONDS on a working corpus seeded from Tests/Fuzz/Corpus/TARGET (the grown corpus,
# logs and crash artifacts stay under Tests/Fuzz/.build/fuzz and are never committed).
# A crash, an ASan report, a hang (-timeout=10) or memory over -rss_limit_mb=2048 is a finding:
# the script stops at the first target with a finding and exits non-zero.
# Extra libFuzzer flags: FUZZ_FLAGS="-max_len=8192 …" scripts/fuzz.sh wire 300
set -euo pipefail
cd "$(dirname "$0")/.."

PKG=Tests/Fuzz
WORK=$PKG/.build/fuzz

declare -A BINARY=(
  [wire]=FuzzWire [json-schema]=FuzzJSONSchema [url]=FuzzURL
  [sanitizer]=FuzzSanitizer [config]=FuzzConfig [signing]=FuzzSigning
)
ORDER=(wire json-schema url sanitizer config signing)

usage() { sed -n '2,18p' "$0" | sed 's/^# \{0,1\}//'; exit "${1:-0}"; }

if [ "${1:-}" = "--list" ]; then printf '%s\n' "${ORDER[@]}"; exit 0; fi
if [ "${1:-}" = "-h" ] || [ "${1:-}" = "--help" ]; then usage 0; fi

if ! command -v swift >/dev/null 2>&1; then
  for candidate in /opt/swift/usr/bin /opt/swift/bin; do
    [ -x "$candidate/swift" ] && export PATH="$candidate:$PATH" && break
  done
fi
command -v swift >/dev/null 2>&1 || { echo "fuzz.sh: swift not found (install a Swift 6 toolchain)" >&2; exit 1; }
scripts/install-deps.sh

# Swift: coverage + ASan everywhere (the root package and its dependencies too); -enable-testing lets
# the signing target reach the bundle parser (@testable). C++ (toml++ inside TOMLKit): coverage +
# ASan as well, so the TOML parser is fuzzed with guidance.
FLAGS=(-c release -Xswiftc -sanitize=fuzzer,address -Xswiftc -enable-testing -Xcxx -fsanitize=fuzzer-no-link,address)

build() {
  echo "fuzz.sh: building the fuzz targets (release, -sanitize=fuzzer,address)…" >&2
  # SwiftPM keeps the build plan of a path dependency (the root package) even after its manifest
  # changed (a new target dependency): drop the cached plan, never the build products.
  rm -f "$PKG/.build/release.yaml" "$PKG"/.build/*/release/description.json
  swift build --package-path "$PKG" "${FLAGS[@]}"
  BIN=$(swift build --package-path "$PKG" "${FLAGS[@]}" --show-bin-path)
}

# The Swift backtracer takes minutes per crash; libFuzzer and ASan report the crash themselves.
export SWIFT_BACKTRACE=enable=no
export ASAN_OPTIONS=${ASAN_OPTIONS:-detect_leaks=0:abort_on_error=0:handle_abort=1:allocator_may_return_null=1}

if [ "${1:-}" = "--repro" ]; then
  shift
  target=${1:?--repro TARGET FILE...}; shift
  [ -n "${BINARY[$target]:-}" ] || { echo "fuzz.sh: unknown target $target" >&2; usage 2; }
  build
  exec "$BIN/${BINARY[$target]}" -timeout=10 -rss_limit_mb=2048 "$@"
fi

what=${1:-all}
seconds=${2:-60}
if [ "$what" = "all" ]; then
  targets=("${ORDER[@]}")
else
  [ -n "${BINARY[$what]:-}" ] || { echo "fuzz.sh: unknown target $what" >&2; usage 2; }
  targets=("$what")
fi

build
status=0
for target in "${targets[@]}"; do
  corpus=$WORK/corpus/$target
  artifacts=$WORK/artifacts/$target
  log=$WORK/logs/$target.log
  mkdir -p "$corpus" "$artifacts" "$(dirname "$log")"
  dict=()
  [ -f "$PKG/Corpus/$target.dict" ] && dict=(-dict="$PKG/Corpus/$target.dict")
  echo "fuzz.sh: $target for ${seconds}s (log: $log)" >&2
  set +e
  # shellcheck disable=SC2086
  "$BIN/${BINARY[$target]}" "$corpus" "$PKG/Corpus/$target" "${dict[@]}" \
    -max_total_time="$seconds" -timeout=10 -rss_limit_mb=2048 -malloc_limit_mb=2048 \
    -max_len=16384 -print_final_stats=1 -artifact_prefix="$artifacts/" ${FUZZ_FLAGS:-} >"$log" 2>&1
  rc=$?
  set -e
  grep -E '^#[0-9]+[[:space:]]+(INITED|DONE)' "$log" | sed "s/^/  $target: /" >&2 || true
  grep -E '^stat::(number_of_executed_units|average_exec_per_sec|peak_rss_mb)' "$log" | sed "s/^/  $target: /" >&2 || true
  if [ $rc -ne 0 ]; then
    echo "fuzz.sh: FINDING in $target (exit $rc); artifacts in $artifacts:" >&2
    ls -1 "$artifacts" >&2 || true
    grep -E 'ERROR: |Fatal error|invariant violated|SUMMARY' "$log" | head -5 >&2 || true
    status=1
    break
  fi
done
exit $status
