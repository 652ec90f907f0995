#!/usr/bin/env bash
# Runs every fuzz target (or those in FUZZ_TARGETS) for SECONDS (default 60) each, seeded
# from the test corpus.
# Needs cargo-fuzz (cargo install cargo-fuzz). On a stable toolchain the nightly-only flags
# cargo-fuzz uses are enabled with RUSTC_BOOTSTRAP=1.
set -euo pipefail
cd "$(dirname "$0")/.."
seconds="${1:-60}"
export RUSTC_BOOTSTRAP="${RUSTC_BOOTSTRAP:-1}"
for target in ${FUZZ_TARGETS:-remote_url plan config}; do
  corpus="fuzz/corpus/$target"
  mkdir -p "$corpus"
  # Seeds: the bad-input corpus and the fixtures.
  case "$target" in
    remote_url)
      for u in "git@github.com:acme/app.git" "ssh://git@bb.example.com:7999/proj/repo.git" \
               "https://user:token@host:8443/scm/PROJ/repo.git" "https://gitlab.com/a/b/c.git" "/srv/app.git"; do
        printf '%s' "$u" > "$corpus/seed-$(printf '%s' "$u" | cksum | cut -d' ' -f1)"
      done ;;
    plan)
      for f in tests/corpus/*plan*.json; do
        python3 -c "import json,sys; print(json.dumps(json.load(open(sys.argv[1]))['setup']['file'].get('json')))" "$f" > "$corpus/seed-$(basename "$f")" 2>/dev/null || true
      done ;;
    config)
      cp tests/fixtures/reference/agents/manager/config.json "$corpus/seed-reference.json"
      cp pack/config.json "$corpus/seed-pack.json" ;;
  esac
  echo "== fuzzing $target for ${seconds}s"
  cargo fuzz run --sanitizer none "$target" "$corpus" -- -max_total_time="$seconds" -max_len=65536
done
