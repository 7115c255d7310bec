#!/usr/bin/env bash
# Runs seedchip's libFuzzer targets (docs/reliability.md).
#   scripts/fuzz.sh [SECONDS] [TARGET ...]
# SECONDS per target (default 60); TARGETs from fuzz/CMakeLists.txt (default:
# all). Builds the `fuzz` preset (clang 14) first. Each target starts from its
# seed corpus (fuzz/corpus/<target>) and the inputs of fixed findings
# (fuzz/regressions/<target>); new coverage goes to build/fuzz/corpus/<target>,
# findings to build/fuzz/findings/<target>/. Exits 1 when any target finds
# a crash, a hang (over 10 s per input) or a leak, or uses over 2 GB.
# A finding replays with build/fuzz/fuzz/fuzz_<target> FILE. FUZZ_SEED sets
# libFuzzer's random seed (default: a new one each run).
set -euo pipefail
cd "$(dirname "$0")/.."
secs=${1:-60}
shift || true
targets=("$@")
if ((${#targets[@]} == 0)); then
  targets=($(sed -n 's/^seedchip_add_fuzzer(\([a-z_]*\).*/\1/p' fuzz/CMakeLists.txt))
fi

scripts/setup.sh --fuzz > /dev/null
cmake --preset fuzz > /dev/null
cmake --build --preset fuzz --target fuzzers

status=0
for t in "${targets[@]}"; do
  bin=build/fuzz/fuzz/fuzz_$t
  [[ -x $bin ]] || { echo "fuzz.sh: no target '$t'" >&2; exit 2; }
  work=build/fuzz/corpus/$t findings=build/fuzz/findings/$t
  mkdir -p "$work" "$findings"
  seeds=(fuzz/corpus/$t)
  [[ -d fuzz/regressions/$t ]] && seeds+=(fuzz/regressions/$t)
  log=build/fuzz/$t.log
  echo "fuzz.sh: $t for ${secs}s"
  if ! ASAN_OPTIONS=detect_leaks=1:allocator_may_return_null=1 UBSAN_OPTIONS=print_stacktrace=1 \
      "$bin" -seed="${FUZZ_SEED:-0}" -max_total_time="$secs" -timeout=10 -rss_limit_mb=2048 -max_len=65536 -print_final_stats=1 \
      -artifact_prefix="$findings/" "$work" "${seeds[@]}" > "$log" 2>&1; then
    echo "fuzz.sh: $t: FINDING (see $log and $findings/)" >&2
    grep -E 'ERROR|fuzz:|SUMMARY|Test unit written' "$log" | head -5 >&2 || true
    status=1
  fi
  grep -E '^stat::number_of_executed_units|^#[0-9]+.*DONE' "$log" | tail -2 | sed "s/^/  $t: /" || true
done
exit $status
