#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# The README's test command: installs what the build and tests need, builds,
# checks formatting and runs every test (privileged ones included; they skip
# with a reason when not root unless WGCAP_REQUIRE_PRIVILEGED=1, then fail),
# then the sanitizer lanes, a short fuzz run and the kernel-matrix lane.
set -euo pipefail
cd "$(dirname "$0")/.."

scripts/setup.sh
build_dir=${WGCAP_BUILD_DIR:-build}
cmake -S . -B "$build_dir" -G Ninja -DCMAKE_BUILD_TYPE=RelWithDebInfo
cmake --build "$build_dir" -j"$(nproc)"
scripts/check-format.sh
ctest --test-dir "$build_dir" --output-on-failure -j"$(nproc)" "$@"

# Then the same sources under the sanitizers (ASan + UBSan for everything,
# TSan for the threaded tests) and a short run of every fuzz target
# (scripts/sanitize.sh, scripts/fuzz.sh). WGCAP_SANITIZE=0 or
# WGCAP_FUZZ_SECONDS=0 skips a lane for a quick local run.
if [ "${WGCAP_SANITIZE:-1}" != 0 ]; then
  scripts/sanitize.sh
fi
if [ "${WGCAP_FUZZ_SECONDS:-45}" != 0 ]; then
  scripts/fuzz.sh "${WGCAP_FUZZ_SECONDS:-45}"
fi

# The kernel-matrix lane (README "Kernel matrix"): Debian 12's 6.1 kernel
# under qemu, on this build, with the tests that load and attach the program
# (both sample paths, clsact, the verdict tables in the kernel) and one
# capture per attach/sample path on a WireGuard testbed. Software emulation
# makes the whole privileged suite take ~25 min there, so CI runs this subset;
# WGCAP_VMTEST=full runs all of it, WGCAP_VMTEST=0 skips the lane.
case "${WGCAP_VMTEST:-subset}" in
  0) ;;
  full) WGCAP_VM_SKIP_BUILD=1 WGCAP_BUILD_DIR="$build_dir" scripts/vmtest.sh debian ;;
  *)
    WGCAP_VM_SKIP_BUILD=1 WGCAP_BUILD_DIR="$build_dir" WGCAP_VM_TIMEOUT="${WGCAP_VM_TIMEOUT:-1200}" \
      scripts/vmtest.sh debian -- \
      -R 'BpfToolchain|TcAttachmentTest|Capabilities\.BpfOnClsact|EbpfFilter\.VerdictTables|EbpfRelation|EbpfLeastPrivilege'
    ;;
esac
