#!/usr/bin/env bash
# Fuzzes the FIDL request decoding of the socket server with libFuzzer through cargo-fuzz.
#
#   fidl/fuzz/run.sh               each target for 60 seconds
#   fidl/fuzz/run.sh 300           each target for 300 seconds
#   fidl/fuzz/run.sh 60 requests   only the requests target
#   fidl/fuzz/run.sh --build-only  build the targets without fuzzing (CI keeps them compiling)
#
# cargo-fuzz needs nightly-only flags; RUSTC_BOOTSTRAP=1 enables them on the stable
# toolchain, for the fuzzing tool only. Corpora start from valid requests of every protocol
# (examples/seed_corpus.rs).
set -euo pipefail
cd "$(dirname "$0")"

targets=()
for f in fuzz_targets/*.rs; do targets+=("$(basename "$f" .rs)"); done

if [ "${1:-}" = "--build-only" ]; then
  cargo build --quiet --bins --examples
  echo "fuzz targets build: ${targets[*]}"
  exit 0
fi

seconds="${1:-60}"
shift || true
[ $# -gt 0 ] && targets=("$@")

command -v cargo-fuzz >/dev/null 2>&1 || cargo install cargo-fuzz --locked
cargo run --quiet --example seed_corpus -- corpus/requests

for t in "${targets[@]}"; do
  echo "== fuzz $t for ${seconds}s"
  mkdir -p "corpus/$t"
  RUSTC_BOOTSTRAP=1 cargo fuzz run --sanitizer address "$t" "corpus/$t" -- -max_total_time="$seconds" -rss_limit_mb=2048
done
