#!/usr/bin/env bash
# Builds and runs the fuzz targets for SECONDS each (default 60) with nightly rustc and the same
# instrumentation flags cargo-fuzz uses (so cargo-fuzz itself is optional).
#   bash crates/alipay/fuzz/run.sh [SECONDS]
set -euo pipefail
HERE="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
ROOT="$(cd "$HERE/../../.." && pwd)"
SECONDS_EACH="${1:-60}"
TARGET_DIR="${CARGO_TARGET_DIR:-$ROOT/target}/fuzz"
TRIPLE="$(rustc -vV | sed -n 's/^host: //p')"
export CARGO_TARGET_DIR="$TARGET_DIR"
export RUSTFLAGS="-Cpasses=sancov-module -Cllvm-args=-sanitizer-coverage-level=4 \
-Cllvm-args=-sanitizer-coverage-inline-8bit-counters -Cllvm-args=-sanitizer-coverage-pc-table \
-Cllvm-args=-sanitizer-coverage-trace-compares --cfg fuzzing -Cdebug-assertions -Coverflow-checks"
(cd "$HERE" && cargo +nightly build --release --target "$TRIPLE")
for t in response_scanner notification_parser; do
  mkdir -p "$TARGET_DIR/corpus/$t"
  echo "fuzzing $t for ${SECONDS_EACH}s"
  "$TARGET_DIR/$TRIPLE/release/$t" -max_total_time="$SECONDS_EACH" -max_len=4096 \
    "$TARGET_DIR/corpus/$t" "$HERE/seeds/$t"
done
echo "PASS: fuzz targets ran without a crash"
