#!/usr/bin/env bash
# A fuzzing campaign: every fuzz target for SECONDS (default one hour) each, JOBS at a time
# (default: one per core), growing the corpus under fuzz/corpus/<target>/, then minimising it
# (cargo fuzz cmin) so what is checked in stays small. Prints each target's executions and
# corpus size; a crash stops that target, leaves its input under fuzz/artifacts/<target>/ and
# makes the script exit non-zero.
#
#   scripts/fuzz-campaign.sh              # an hour per target
#   SECONDS_PER_TARGET=300 scripts/fuzz-campaign.sh
#   JOBS=1 scripts/fuzz-campaign.sh cdr_value any_typecode   # chosen targets, one at a time
set -euo pipefail
cd "$(dirname "$0")/../fuzz"

per_target=${SECONDS_PER_TARGET:-3600}
jobs=${JOBS:-$(nproc)}
export RUSTC_BOOTSTRAP=1

if ! cargo fuzz --help >/dev/null 2>&1; then
  cargo install cargo-fuzz --locked --quiet
fi
cargo fuzz build
targets=("$@")
if ((${#targets[@]} == 0)); then
  mapfile -t targets < <(cargo fuzz list)
fi

logs=$(mktemp -d)
trap 'rm -rf "$logs"' EXIT
run() {
  local t=$1
  mkdir -p "corpus/$t"
  if cargo fuzz run "$t" "corpus/$t" -- -max_total_time="$per_target" -rss_limit_mb=2048 \
    -print_final_stats=1 >"$logs/$t.log" 2>&1; then
    echo ok >"$logs/$t.status"
  else
    echo failed >"$logs/$t.status"
  fi
}

running=0
for t in "${targets[@]}"; do
  run "$t" &
  running=$((running + 1))
  if ((running >= jobs)); then
    wait -n
    running=$((running - 1))
  fi
done
wait

status=0
printf '%-16s %-7s %14s %8s\n' target result executions corpus
for t in "${targets[@]}"; do
  result=$(cat "$logs/$t.status")
  execs=$(grep -Eo 'stat::number_of_executed_units: [0-9]+' "$logs/$t.log" | awk '{print $2}' | tail -1)
  if [ "$result" = ok ]; then
    # Keep only inputs that add coverage.
    cargo fuzz cmin "$t" "corpus/$t" >"$logs/$t.cmin" 2>&1 || true
  else
    status=1
    tail -n 40 "$logs/$t.log" >&2
  fi
  printf '%-16s %-7s %14s %8s\n' "$t" "$result" "${execs:-?}" "$(ls "corpus/$t" | wc -l)"
done
exit $status
