#!/usr/bin/env bash
# The whole test suite, as the README's quick start and CI (.ci/run) run it.
#
# Installs the Debian packages the tests use when they are missing (as root, via apt-get),
# then checks formatting and lints, runs every unit, integration, property and doc test,
# checks that the API documentation builds without warnings,
# runs each benchmark once in criterion's test mode so none of them rots (and the end-to-end
# benchmark, benches/e2e/run.sh, in its smoke mode), and builds the fuzz targets. Set
# FUZZ_SECONDS=N to also run each fuzz target for N seconds.
set -euo pipefail
cd "$(dirname "$0")/.."

# Debian packages the tests need, as "command:package".
needed=("tshark:tshark" "ip:iproute2" "socat:socat" "tcpdump:tcpdump" "ping:iputils-ping" "setpriv:util-linux"
  # The unmodified programs tests/fdio_*.rs run over the shim, and their kernel-side peers.
  "curl:curl" "/usr/bin/python3:python3" "nc.openbsd:netcat-openbsd" "iperf3:iperf3" "nginx:nginx" "wrk:wrk")

missing=()
for entry in "${needed[@]}"; do
  command -v "${entry%%:*}" >/dev/null 2>&1 || missing+=("${entry#*:}")
done
if [ ${#missing[@]} -gt 0 ]; then
  if [ "$(id -u)" -eq 0 ]; then
    echo "tests/run.sh: installing ${missing[*]}"
    export DEBIAN_FRONTEND=noninteractive
    apt-get update -qq
    apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
  else
    echo "tests/run.sh: WARNING: missing ${missing[*]} and not root; the tests that need them will skip" >&2
  fi
fi

step() { echo; echo "== $*"; }

step "cargo fmt --check"
cargo fmt --all -- --check

step "cargo clippy"
cargo clippy --workspace --all-targets -- -D warnings

step "cargo test (unit, integration, property, benchmark smoke)"
cargo test --workspace --all-targets

step "end-to-end benchmark, smoke mode (1-second iperf3 runs; checks every path works, judges no number)"
if [ "$(id -u)" -eq 0 ]; then benches/e2e/run.sh --smoke --out "${CARGO_TARGET_DIR:-target}/e2e-smoke"; else echo "SKIPPED: needs root"; fi

step "cargo test: the FIDL crate's tokio client library (an optional feature)"
cargo clippy -p netstack-fidl --all-targets --features tokio -- -D warnings
cargo test -p netstack-fidl --all-targets --features tokio

step "cargo test --doc"
cargo test --workspace --doc
cargo test -p netstack-fidl --doc --features tokio

step "cargo doc (warnings are errors)"
RUSTDOCFLAGS="-D warnings" cargo doc --workspace --no-deps --quiet

step "fuzz targets build"
core/fuzz/run.sh --build-only
fidl/fuzz/run.sh --build-only
if [ -n "${FUZZ_SECONDS:-}" ]; then
  step "fuzz each target for ${FUZZ_SECONDS}s"
  core/fuzz/run.sh "${FUZZ_SECONDS}"
  fidl/fuzz/run.sh "${FUZZ_SECONDS}"
fi
