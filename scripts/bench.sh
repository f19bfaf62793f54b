#!/usr/bin/env bash
# `make bench`: builds rampart and the grpc-swift-2 baseline (Benchmarks/grpc-echo) in release, then
# runs `rampart bench rpc`, which measures in one run the raw C Unix-socket ping-pong (the floor),
# bare SwiftNIO echo, Rampart's unary echo (C, Swift blocking and async Swift clients) and
# grpc-swift-2's unary echo, at 1 and 16 connections, and prints the ratios.
# Extra arguments go to `rampart bench rpc` (see `.build/release/rampart bench rpc --help`).
#   scripts/bench.sh [ARGS...]
# The two builds run one after the other (never both at once: the machines have 2 cores). The first
# build of grpc-echo takes several minutes; later runs are incremental.
set -euo pipefail
cd "$(dirname "$0")/.."

if ! command -v swift >/dev/null 2>&1; then
  echo "bench.sh: swift not found on PATH (install a Swift 6 toolchain, e.g. in /opt/swift/usr/bin)" >&2
  exit 1
fi

echo "bench.sh: building rampart (release)…" >&2
swift build -c release --product rampart

echo "bench.sh: building grpc-echo (release)…" >&2
swift build -c release --package-path Benchmarks/grpc-echo --product grpc-echo

exec .build/release/rampart bench rpc \
  --grpc-echo Benchmarks/grpc-echo/.build/release/grpc-echo "$@"
