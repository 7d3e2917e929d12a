#!/usr/bin/env bash
# The one test command, for a fresh machine and for CI: installs what the tests need, then runs
# every check and test of the workspace. Exits non-zero if anything failed.
#
#   scripts/test.sh            everything (FUZZ_SECONDS=20 per fuzz target)
#   FUZZ_SECONDS=0 scripts/test.sh   skip the fuzz smoke runs
#
# Every test binary runs even when an earlier one fails (--no-fail-fast), and the last line is
# always the summary `tests: N passed, N failed, N skipped`. Tests that need what is not in the
# repository (the IDL corpus beside it, ../shared/idl-corpus) print `skipped: NAME: why` when
# it is absent; IDL_CORPUS_REQUIRED=1 (CI) makes its absence a failure instead.
set -euo pipefail
cd "$(dirname "$0")/.."

FUZZ_SECONDS=${FUZZ_SECONDS:-20}
log=$(mktemp)
skips=$(mktemp)
trap 'rm -f "$log" "$skips"' EXIT
export RTORB_SKIP_LOG=$skips
started=$SECONDS
stage_started=$SECONDS

# Each stage says when it starts and how long the one before took, so a long one is not silence.
step() {
  local now=$SECONDS
  if ((now > started)); then
    printf '    (%ds; %ds so far)\n' $((now - stage_started)) $((now - started))
  fi
  stage_started=$now
  printf '\n==> %s  [%s]\n' "$*" "$(date +%H:%M:%S)"
}

# --- System packages: omniORB and its services, the independent ORB we test against. -------------
packages=(libomniorb4-dev omniidl omniorb omniorb-nameserver omniorb-idl libcos4-dev omnievents libomnievents-dev
  iproute2)
missing=()
for p in "${packages[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'install ok installed' || missing+=("$p")
done
if ((${#missing[@]})); then
  step "installing ${missing[*]}"
  sudo=""
  [ "$(id -u)" = 0 ] || sudo=sudo
  $sudo apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
fi

# --- Cargo tools. ----------------------------------------------------------------------------------
if ((FUZZ_SECONDS > 0)) && ! cargo fuzz --help >/dev/null 2>&1; then
  step "installing cargo-fuzz"
  cargo install cargo-fuzz --locked --quiet
fi

# --- Static checks. --------------------------------------------------------------------------------
step "cargo fmt --check"
cargo fmt --all -- --check
(cd fuzz && cargo fmt -- --check)

step "cargo clippy -D warnings"
cargo clippy --workspace --all-targets --quiet -- -D warnings

# --- Tests (benches are built and run once each as tests, so they cannot rot). ------------------
step "cargo test"
test_status=0
cargo test --workspace --all-targets --no-fail-fast 2>&1 | tee -a "$log" || test_status=1
step "cargo test --doc"
cargo test --workspace --doc --no-fail-fast 2>&1 | tee -a "$log" || test_status=1

summary() {
  local passed failed skipped
  passed=$(grep -Eo '^test result: [a-z]+\. [0-9]+ passed' "$log" | awk '{s+=$4} END {print s+0}')
  failed=$(grep -Eo '[0-9]+ failed;' "$log" | awk '{s+=$1} END {print s+0}')
  skipped=$(sort -u "$skips" | grep -c '^skipped: ' || true)
  if ((test_status != 0 && failed == 0)); then
    # A test binary that did not build or crashed before its result line.
    failed=1
  fi
  step "done"
  sort -u "$skips"
  echo
  echo "tests: $passed passed, $failed failed, $skipped skipped"
}

if ((test_status != 0)); then
  summary
  exit 1
fi

# --- Fuzz smoke runs: a short coverage-guided run of every target (see fuzz/README.md). -----------
if ((FUZZ_SECONDS > 0)); then
  (cd fuzz && RUSTC_BOOTSTRAP=1 cargo fuzz build)
  flog=$(mktemp)
  for target in $(cd fuzz && cargo fuzz list); do
    step "fuzz $target for ${FUZZ_SECONDS}s"
    if ! (cd fuzz && RUSTC_BOOTSTRAP=1 cargo fuzz run "$target" -- -max_total_time="$FUZZ_SECONDS" \
      -rss_limit_mb=2048 -print_final_stats=1) >"$flog" 2>&1; then
      tail -n 60 "$flog" >&2
      echo "fuzz target $target failed: see fuzz/artifacts/$target/" >&2
      exit 1
    fi
    grep -E 'stat::number_of_executed_units' "$flog" || true
  done
fi

# --- Summary, in the plain form CI reads. ----------------------------------------------------------
summary
