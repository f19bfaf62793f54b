#!/usr/bin/env bash
# Installs the Debian packages Rampart needs to build, run and test. Idempotent: installs only
# what is missing (apt-get update runs once, only when something is missing). Needs root or sudo.
set -euo pipefail

packages=(
  pkg-config gcc make
  libssl-dev liblz4-dev                       # OpenSSL (crypto), LZ4 (wire compression)
  libprotobuf-c-dev protobuf-c-compiler       # the C SDK and examples/c-client
  libhiredis-dev                              # throttle plugin: shared limits in Redis
  libhyperscan-dev                            # sanitizer plugin: multi-pattern matcher
  libicu-dev                                  # sanitizer plugin: NFKC and UTS #39 confusable skeletons
)
if [ "${1:-}" = "--test" ]; then
  packages+=(protobuf-compiler redis-server)  # protoc-c descriptors; a real Redis for the throttle tests
fi

missing=()
for p in "${packages[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done

if [ ${#missing[@]} -gt 0 ]; then
  echo "installing: ${missing[*]}"
  sudo=""
  [ "$(id -u)" -eq 0 ] || sudo="sudo"
  export DEBIAN_FRONTEND=noninteractive
  $sudo apt-get update -qq
  $sudo apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
fi

if ! command -v swift >/dev/null 2>&1; then
  for candidate in /opt/swift/usr/bin /opt/swift/bin; do
    [ -x "$candidate/swift" ] && { echo "note: add $candidate to PATH"; exit 0; }
  done
  echo "error: the Swift 6 toolchain is required (https://www.swift.org/install/linux/)" >&2
  exit 1
fi
