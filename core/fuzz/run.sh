#!/usr/bin/env bash
# Fuzzes every parser with libFuzzer through cargo-fuzz.
#
#   core/fuzz/run.sh             each target for 60 seconds
#   core/fuzz/run.sh 300         each target for 300 seconds
#   core/fuzz/run.sh 60 tcp      only the tcp target
#   core/fuzz/run.sh --build-only  build the targets without fuzzing (CI keeps them compiling)
#
# cargo-fuzz needs nightly-only flags; RUSTC_BOOTSTRAP=1 enables them on the stable
# toolchain, for the fuzzing tool only. Corpora start from the frames in core/tests/vectors.
set -euo pipefail
cd "$(dirname "$0")"

targets=()
for f in fuzz_targets/*.rs; do targets+=("$(basename "$f" .rs)"); done

if [ "${1:-}" = "--build-only" ]; then
  cargo build --quiet --bins
  echo "fuzz targets build: ${targets[*]}"
  exit 0
fi

seconds="${1:-60}"
shift || true
[ $# -gt 0 ] && targets=("$@")

command -v cargo-fuzz >/dev/null 2>&1 || cargo install cargo-fuzz --locked
python3 seed_corpus.py ../tests/vectors corpus

for t in "${targets[@]}"; do
  echo "== fuzz $t for ${seconds}s"
  mkdir -p "corpus/$t"
  RUSTC_BOOTSTRAP=1 cargo fuzz run --sanitizer address "$t" "corpus/$t" -- -max_total_time="$seconds" -rss_limit_mb=2048
done
