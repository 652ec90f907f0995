#!/usr/bin/env bash
# Runs the benchmark on generated repositories of 1,000 and 100,000 files and prints the
# results with the machine they ran on (paste them into BENCHMARKS.md).
set -euo pipefail
cd "$(dirname "$0")/.."
rounds="${SWARM_BENCH_ROUNDS:-15}"
echo "# $(date -u +%Y-%m-%dT%H:%MZ) — $(nproc) cpus, $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | sed 's/^ //'), $(uname -sr), $(git --version)"
cargo bench --bench swarm --no-run >/dev/null 2>&1
for files in 1000 100000; do
  echo
  SWARM_BENCH_FILES="$files" SWARM_BENCH_ROUNDS="$rounds" cargo bench --bench swarm 2>/dev/null | grep -v '^$'
done
