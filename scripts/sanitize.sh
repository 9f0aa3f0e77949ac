#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# The sanitizer lanes (SPEC 7: malformed input never crashes it):
#   asan  the library, the CLI and every test built with ASan + UBSan in
#         build-asan; ctest runs them all, privileged ones included.
#   tsan  a ThreadSanitizer build in build-tsan running the tests that cross
#         threads: the Session (producers, writer thread, Stop/Done) and the
#         BPF ring consumer of a live capture.
# Usage: scripts/sanitize.sh [asan|tsan|all] [args...]   (default all; args go
# to ctest for asan, to the gtest binaries for tsan)
#
# Reports go to files under BUILD/sanitizer-logs as well as to stderr: the
# tests run the wgcap binary as a child, and a report there would otherwise
# show only as an exit code a test may expect (1 = runtime failure). Any
# report file fails the lane.
set -euo pipefail
cd "$(dirname "$0")/.."

lane=${1:-all}
[ $# -gt 0 ] && shift
case "$lane" in
asan | tsan | all) ;;
*)
  echo "usage: $0 [asan|tsan|all] [args...]" >&2
  exit 2
  ;;
esac

# GCC 12 at -O1 with the sanitizers warns "may be used uninitialized" inside
# libstdc++'s std::regex (a known false positive; the normal build is clean),
# which -Werror would turn into a failed build.
common_flags="-fno-omit-frame-pointer -Wno-maybe-uninitialized"
# -O1 with line tables only: symbolized reports at half the compile time of
# -O2 -g (these builds are for finding bugs, not for speed).
opt_flags="-O1 -g1 -DNDEBUG"

configure_and_build() { # DIR FLAGS TARGETS...
  local dir=$1 flags=$2
  shift 2
  # Benchmarks are left out: they time code the tests already run.
  cmake -S . -B "$dir" -G Ninja -DCMAKE_BUILD_TYPE=RelWithDebInfo -DWGCAP_BUILD_BENCH=OFF \
    -DCMAKE_C_FLAGS="$flags" -DCMAKE_CXX_FLAGS="$flags" -DCMAKE_EXE_LINKER_FLAGS="$flags" \
    -DCMAKE_C_FLAGS_RELWITHDEBINFO="$opt_flags" -DCMAKE_CXX_FLAGS_RELWITHDEBINFO="$opt_flags" \
    >/dev/null
  cmake --build "$dir" -j"$(nproc)" ${1:+--target "$@"}
}

# Fails when a sanitizer wrote a report (in this process tree or a child's).
check_logs() { # LOGDIR LANE
  local logs=$1
  if compgen -G "$logs/*" >/dev/null; then
    echo "sanitize: $2 reports:" >&2
    for f in "$logs"/*; do
      echo "--- $f" >&2
      head -60 "$f" >&2
    done
    return 1
  fi
}

# Runs COMMAND... with the sanitizers' options and fails on any report.
sanitized() { # DIR LANE COMMAND...
  local dir=$1 name=$2 rc=0
  shift 2
  local logs=$PWD/$dir/sanitizer-logs
  rm -rf "$logs" && mkdir -p "$logs"
  local start=$SECONDS
  ASAN_OPTIONS="log_path=$logs/asan:log_exe_name=1:detect_leaks=1${ASAN_OPTIONS:+:$ASAN_OPTIONS}" \
    UBSAN_OPTIONS="log_path=$logs/ubsan:log_exe_name=1:print_stacktrace=1:halt_on_error=1${UBSAN_OPTIONS:+:$UBSAN_OPTIONS}" \
    TSAN_OPTIONS="log_path=$logs/tsan:log_exe_name=1:halt_on_error=1:second_deadlock_stack=1${TSAN_OPTIONS:+:$TSAN_OPTIONS}" \
    "$@" || rc=$?
  check_logs "$logs" "$name" || rc=1
  echo "sanitize: $name tests took $((SECONDS - start))s (exit $rc)"
  return $rc
}

# The TSan lane's gtest binaries, one after the other (they are not ctest
# entries of their own: ctest would also list the tests not built there).
# shellcheck disable=SC2317 # called through sanitized()
run_tsan() {
  for t in "${tsan_tests[@]}"; do
    echo "sanitize: tsan $t"
    build-tsan/tests/"$t" --gtest_brief=1 "$@" || return 1
  done
}

status=0
if [ "$lane" = asan ] || [ "$lane" = all ]; then
  start=$SECONDS
  configure_and_build build-asan \
    "-fsanitize=address,undefined -fno-sanitize-recover=all $common_flags"
  echo "sanitize: asan build took $((SECONDS - start))s"
  # The install test links a plain consumer against the installed library,
  # which cannot link a sanitized libwgcap.a; packaging is the plain build's
  # concern (scripts/test.sh runs it there).
  sanitized build-asan asan \
    ctest --test-dir build-asan --output-on-failure -j"$(nproc)" -E '^install_' "$@" ||
    status=1
fi

if [ "$lane" = tsan ] || [ "$lane" = all ]; then
  # The Session's producers and writer thread, and the ring consumer feeding
  # a Session in a live bpf capture (the eBPF test runner is single
  # threaded, so it adds nothing here).
  tsan_tests=(session_test live_capture_test)
  start=$SECONDS
  configure_and_build build-tsan "-fsanitize=thread $common_flags" "${tsan_tests[@]}" wgcap_cli
  echo "sanitize: tsan build took $((SECONDS - start))s"
  sanitized build-tsan tsan run_tsan "$@" || status=1
fi
exit $status
