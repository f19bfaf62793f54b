#!/usr/bin/env bash
# Cost of the built-in plugins through the plugin ABI, each alone and as one chain
# (auth → throttle → sanitizer), against the no-op C plugin and the empty chain, in one run.
# Needs release builds: swift build -c release --product rampart, then --product RampartAuth,
# RampartThrottle, RampartSanitizer; and make -C examples/noop-plugin. docs/BENCHMARKS.md.
set -eu
cd "$(dirname "$0")/.."
B=.build/release
W=$(mktemp -d /tmp/rampart-bench-plugins.XXXXXX); mkdir -p $W/{auth,throttle,sanitizer}
for p in auth:Auth throttle:Throttle sanitizer:Sanitizer; do
  n=${p%%:*}; lib=libRampart${p##*:}.so
  cp $B/$lib $W/$n/; echo "{\"name\": \"$n\", \"library\": \"$lib\"}" > $W/$n/plugin.json
done
$B/rampart principal add --db $W/auth.db app --scopes infer >/dev/null
KEY=$($B/rampart keys create --db $W/auth.db --principal app)
TOKEN=$(RAMPART_API_KEY=$KEY $B/rampart token issue --db $W/auth.db)
echo "{\"db\": \"$W/auth.db\", \"audit_successes\": false}" > $W/auth.json
cat > $W/throttle.json <<'J'
{"mode": "local", "limits": {"concurrency": 64, "key": {"requests": {"rate": 1000000, "period_ms": 1000}, "tokens": {"rate": 1000000, "period_ms": 1000, "burst": 1000000000}}}, "concurrency": {"pool": 64}}
J
: > $W/sanitizer.json
IT=${IT:-100000}
# Real English text, not a run of one letter: the sanitizer's detectors cost what they cost on prose.
P="--prompt-file Benchmarks/prompts/support-1k.txt"
echo "== auth alone (cached token)"; $B/rampart bench chain --plugin $W/auth --counts 0 1 --isolated-iterations 0 --iterations $IT $P --plugin-config "$(cat $W/auth.json)" --metadata "authorization=Bearer $TOKEN"
echo "== throttle alone"; $B/rampart bench chain --plugin $W/throttle --counts 0 1 --isolated-iterations 0 --iterations $IT $P --plugin-config "$(cat $W/throttle.json)"
echo "== sanitizer alone"; $B/rampart bench chain --plugin $W/sanitizer --counts 0 1 --isolated-iterations 0 --iterations $IT $P
# Throughput: 64 KB of the same prose (the per-call costs amortised): the MB/s column is the scan rate.
for i in $(seq 64); do cat Benchmarks/prompts/support-1k.txt; done > $W/prose-64k.txt
echo "== sanitizer alone, 64 KB prompt"; $B/rampart bench chain --plugin $W/sanitizer --counts 0 1 --isolated-iterations 0 --iterations $((IT / 50)) --prompt-file $W/prose-64k.txt
echo "== noop C plugin"; $B/rampart bench chain --counts 0 1 --isolated-iterations 0 --iterations $IT $P
# Issue #5's measurement: the throttle behind auth (it then limits the authenticated principal).
echo "== stack auth -> throttle"; $B/rampart bench chain --counts 0 --isolated-iterations 0 --iterations $IT $P \
  --stack $W/auth=$W/auth.json --stack $W/throttle=$W/throttle.json --metadata "authorization=Bearer $TOKEN"
echo "== stack auth -> throttle -> sanitizer"; $B/rampart bench chain --counts 0 --isolated-iterations 0 --iterations $IT $P \
  --stack $W/auth=$W/auth.json --stack $W/throttle=$W/throttle.json --stack $W/sanitizer=$W/sanitizer.json --metadata "authorization=Bearer $TOKEN"
