#!/usr/bin/env bash
# Shutdown under LeakSanitizer: builds the naming and event daemons and their tests with
# AddressSanitizer (whose LeakSanitizer runs at exit; stable rustc, RUSTC_BOOTSTRAP for the
# -Z flag, as the fuzz targets are built), then runs the tests that stop each daemon with
# SIGTERM (the naming service after serving clients). A leak makes the daemon exit non-zero
# instead of 0, and LeakSanitizer's report (what was allocated where) is in the test's failure
# message. (Checked that it catches one: 100 forgotten 4 KiB vectors in a program built the
# same way make it exit 1 with the report.)
#
#   scripts/leak-check.sh            # about 10 minutes on 2 cores; a target dir of its own
set -euo pipefail
cd "$(dirname "$0")/.."

target=$(rustc -vV | sed -n 's/^host: //p')
export RUSTC_BOOTSTRAP=1
export RUSTFLAGS="-Zsanitizer=address"
export ASAN_OPTIONS="detect_leaks=1"
# --target keeps build scripts and proc macros uninstrumented.
cargo test --target "$target" --target-dir target/asan \
  -p naming-service --test naming -- sigterm
cargo test --target "$target" --target-dir target/asan \
  -p event-service --test daemon -- sigterm
echo "leak-check: no leak at shutdown"
