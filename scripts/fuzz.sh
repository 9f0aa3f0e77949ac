#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# Builds the libFuzzer targets (clang, ASan + UBSan, in build-fuzz) and runs
# each for SECONDS (default 60) over its seeds in tests/fuzz/corpus/TARGET.
# Inputs that find new coverage go to build-fuzz/corpus/TARGET, never into
# the committed seeds. A crash fails the script and leaves its input in
# build-fuzz/artifacts/TARGET/; once the bug is fixed, keep that input as
# tests/fuzz/corpus/TARGET/regression-WHAT so every later run replays it.
#
# ebpf_filter_fuzz loads BPF programs (CAP_BPF and CAP_NET_ADMIN); without
# them it is skipped with the reason, and fails under
# WGCAP_REQUIRE_PRIVILEGED=1 (as in CI).
#
# Usage: scripts/fuzz.sh [SECONDS] [TARGET...]     (default: every target)
# Replay one input: build-fuzz/tests/fuzz/TARGET FILE
set -euo pipefail
cd "$(dirname "$0")/.."

seconds=${1:-60}
[ $# -gt 0 ] && shift
all_targets=(filter_parser_fuzz packet_text_fuzz pcap_reader_fuzz pcapng_reader_fuzz
  classic_filter_fuzz ebpf_filter_fuzz serve_request_fuzz peer_sources_fuzz)
targets=("${@:-${all_targets[@]}}")
build="build-fuzz"

start=$SECONDS
# -O1 with line tables: a short run is mostly build time, and reports stay
# symbolized.
opt_flags="-O1 -gline-tables-only -DNDEBUG"
CC=clang CXX=clang++ cmake -S . -B "$build" -G Ninja -DCMAKE_BUILD_TYPE=RelWithDebInfo \
  -DCMAKE_C_FLAGS_RELWITHDEBINFO="$opt_flags" -DCMAKE_CXX_FLAGS_RELWITHDEBINFO="$opt_flags" \
  -DWGCAP_BUILD_TESTS=OFF -DWGCAP_BUILD_BENCH=OFF -DWGCAP_BUILD_FUZZERS=ON >/dev/null
cmake --build "$build" -j"$(nproc)" --target "${targets[@]}"
echo "fuzz: build took $((SECONDS - start))s"

has_bpf_privileges() {
  local caps
  caps=$((16#$(awk '/^CapEff:/ {print $2}' /proc/self/status)))
  # CAP_BPF (39) or CAP_SYS_ADMIN (21) to load; CAP_NET_ADMIN (12) for TC programs.
  (((caps >> 39 & 1 || caps >> 21 & 1) && caps >> 12 & 1))
}

# Words of the filter language, so mutations build expressions rather than
# mostly tokenizer errors.
dict_args() {
  case "$1" in
  filter_parser_fuzz | classic_filter_fuzz | ebpf_filter_fuzz)
    echo "-dict=tests/fuzz/filter.dict"
    ;;
  esac
}

failed=()
for t in "${targets[@]}"; do
  if [ "$t" = ebpf_filter_fuzz ] && ! has_bpf_privileges; then
    if [ "${WGCAP_REQUIRE_PRIVILEGED:-}" = 1 ]; then
      echo "fuzz: $t needs CAP_BPF and CAP_NET_ADMIN (WGCAP_REQUIRE_PRIVILEGED=1)" >&2
      failed+=("$t")
    else
      echo "fuzz: skipping $t: needs CAP_BPF and CAP_NET_ADMIN to load BPF programs"
    fi
    continue
  fi
  mkdir -p "$build/corpus/$t" "$build/artifacts/$t" "$build/logs"
  log=$build/logs/$t.log
  mapfile -t extra < <(dict_args "$t")
  # -timeout: one input taking this long is a hang; the kernel target loads
  # a BPF program per input, tens of ms each, far below it.
  if "$build/tests/fuzz/$t" -max_total_time="$seconds" -timeout=30 -rss_limit_mb=2048 \
    -print_final_stats=1 -artifact_prefix="$build/artifacts/$t/" "${extra[@]}" \
    "$build/corpus/$t" "tests/fuzz/corpus/$t" >"$log" 2>&1; then
    runs=$(sed -n 's/^stat::number_of_executed_units: *//p' "$log")
    cov=$(grep -o 'cov: [0-9]*' "$log" | tail -1)
    echo "fuzz: $t: ${runs:-?} runs in ${seconds}s, $cov"
  else
    echo "fuzz: $t FAILED (log $log):" >&2
    grep -B2 -A40 -m1 -E '^==[0-9]+==|fuzz invariant broken|runtime error|ERROR: libFuzzer' \
      "$log" >&2 || tail -40 "$log" >&2
    ls "$build/artifacts/$t/" >&2
    failed+=("$t")
  fi
done

echo "fuzz: done in $((SECONDS - start))s"
if [ ${#failed[@]} -gt 0 ]; then
  echo "fuzz: failed: ${failed[*]}" >&2
  exit 1
fi
