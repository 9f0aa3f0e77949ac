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

# The least-privilege lane on this machine's kernel (uid 65534 holding only
# CAP_BPF + CAP_NET_ADMIN, wireguard-go here); the VM lane below runs it on
# kernel WireGuard.
scripts/least-privilege-lane.sh "$build_dir/wgcap"

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

# The kernel-matrix lane (README "Kernel matrix"), on this build:
# - Debian 12's 6.1 under qemu: the tests that load and attach the program
#   (both sample paths, clsact, the verdict tables in the kernel), one
#   capture per attach/sample path on a WireGuard testbed, and the
#   least-privilege lane (scripts/least-privilege-lane.sh: uid 65534 with
#   only CAP_BPF + CAP_NET_ADMIN, every filter, packets checked);
# - 5.10 and 6.12 (bullseye's and trixie's kernels): boot and the lane's
#   smoke (one least-privilege load and capture), side by side, one CPU each;
# - on all three, the gso step: super-packets through kernel WireGuard and
#   its peers over generic netlink (scripts/vmtest-steps.sh).
# Software emulation (no usable KVM) makes the whole privileged suite take
# ~9-25 min, so CI runs this subset; WGCAP_VMTEST=full runs the whole matrix
# (scripts/vmtest.sh matrix), WGCAP_VMTEST=0 skips the lane. A kernel that
# cannot be fetched or booted fails the run with the reason.
vm() { WGCAP_VM_SKIP_BUILD=1 WGCAP_BUILD_DIR="$build_dir" scripts/vmtest.sh "$@"; }
case "${WGCAP_VMTEST:-subset}" in
  0) ;;
  full) vm matrix ;;
  *)
    export WGCAP_VM_TIMEOUT="${WGCAP_VM_TIMEOUT:-1200}"
    vm_rc=0
    WGCAP_VM_STEPS=tests,paths,lane,gso vm 6.1 -- \
      -R 'BpfToolchain|TcAttachmentTest|Capabilities\.BpfOnClsact|EbpfFilter\.VerdictTables|EbpfRelation|EbpfLeastPrivilege' ||
      vm_rc=1
    WGCAP_VM_STEPS=smoke,gso WGCAP_VM_CPUS=1 WGCAP_VM_MEM=2048 vm 5.10 &
    old_pid=$!
    WGCAP_VM_STEPS=smoke,gso WGCAP_VM_CPUS=1 WGCAP_VM_MEM=2048 vm 6.12 &
    new_pid=$!
    wait "$old_pid" || vm_rc=1
    wait "$new_pid" || vm_rc=1
    exit "$vm_rc"
    ;;
esac
