#!/usr/bin/env bash
# Regenerates Core/RampartProto/*.pb.swift from proto/rampart/v1/*.proto.
# Needs protoc (Debian: protobuf-compiler) and protoc-gen-swift from swift-protobuf 1.39.0.
# Building protoc-gen-swift takes minutes, so the generated code is committed and CI never runs this.
#   PROTOC_GEN_SWIFT=/path/to/protoc-gen-swift scripts/generate-proto.sh
set -euo pipefail
cd "$(dirname "$0")/.."
plugin="${PROTOC_GEN_SWIFT:-}"
if [ -z "$plugin" ]; then
  work="${TMPDIR:-/tmp}/rampart-protoc-gen-swift"
  if [ ! -x "$work/src/.build/release/protoc-gen-swift" ]; then
    rm -rf "$work" && mkdir -p "$work"
    git clone -q --branch 1.39.0 https://github.com/apple/swift-protobuf.git "$work/src"
    (cd "$work/src" && swift build -c release --product protoc-gen-swift)
  fi
  plugin="$work/src/.build/release/protoc-gen-swift"
fi
rm -f Core/RampartProto/*.pb.swift
protoc --plugin=protoc-gen-swift="$plugin" \
  --swift_out=Core/RampartProto --swift_opt=Visibility=Public --swift_opt=FileNaming=DropPath \
  -I proto proto/rampart/v1/*.proto
echo "generated: $(ls Core/RampartProto/*.pb.swift | tr '\n' ' ')"
