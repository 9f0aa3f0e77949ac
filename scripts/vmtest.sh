#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
#
# Kernel matrix (README "Kernel matrix"): the privileged tests (BPF loading,
# TC attachment, kernel filter, the live WireGuard testbed) and the
# least-privilege lane (scripts/least-privilege-lane.sh) on a kernel other
# than the one this machine runs, inside a qemu VM.
#
#   scripts/vmtest.sh 5.10|6.1|6.12  Debian's packaged kernel of bullseye,
#                                bookworm (Debian 12's own) or trixie,
#                                fetched through a private apt tree in the
#                                cache (scripts/vmtest-kernels.sh); the
#                                system's apt configuration is not touched
#   scripts/vmtest.sh [debian]   6.1 (the older name; the default)
#   scripts/vmtest.sh host       the running kernel: booted in the VM if
#                                /boot has its image, else (as on the CI
#                                machines, whose /boot is empty) the same
#                                steps run natively, labelled "native"
#   scripts/vmtest.sh IMAGE      a bzImage/vmlinuz; its modules are taken from
#                                IMAGE/../../lib/modules/VER (a package tree),
#                                else /lib/modules/VER; VER from the file name
#                                vmlinuz-VER or WGCAP_VM_KVER
#   scripts/vmtest.sh matrix     5.10, 6.1, 6.12 and host, then a table
#                                (BUILD_DIR/vmtest/matrix.md)
#   ... -- CTEST_ARGS            extra ctest arguments (e.g. -- -R Live)
#
# A kernel that cannot be fetched or booted fails the run with the reason.
#
# How the VM runs (in the style of virtme): no disk and no network device.
# The host's root filesystem is shared read-only over virtio-9p and overlaid
# with a tmpfs inside the guest, so the guest runs the host's build, tools,
# wireguard-go and libraries from the same paths, and its writes vanish with
# it. A second, writable 9p share (the results directory) carries the test
# logs and the exit status back. The initramfs is busybox (Debian's
# busybox-static) plus the virtio/9p/overlay modules of the booted kernel; it
# mounts the root and switch_roots into this script's guest half, which
# mounts the usual filesystems, loads the TC modules, runs the tests and
# powers off. qemu uses KVM where a probe boot shows it works, else software
# emulation (TCG).
#
# Environment:
#   WGCAP_BUILD_DIR  build directory, configured and built here (build-vm)
#   WGCAP_VM_SKIP_BUILD=1  use WGCAP_BUILD_DIR as it is (scripts/test.sh built it)
#   WGCAP_VM_CACHE   downloaded and unpacked packages (/var/cache/wgcap-vmtest)
#   WGCAP_VM_ACCEL   kvm:tcg (KVM where a probe boot shows it works, else
#                    software emulation), kvm or tcg
#   WGCAP_VM_CPUS    guest CPUs (this machine's count)
#   WGCAP_VM_MEM     guest memory in MiB (4096; the overlay's writes live there)
#   WGCAP_VM_TIMEOUT seconds before the VM is killed (3600)
#   WGCAP_VM_COMMAND a shell command to run in the guest instead of the tests
#                    (debugging a kernel: its output is in command.log)
#   WGCAP_WG_IMPL    WireGuard for the paths testbed: auto (kernel module
#                    where the kernel has one, as Debian's has), kernel or go;
#                    the lane uses the kernel's in the VMs, auto natively
#   WGCAP_VM_STEPS   tests,paths,lane (the default), or any of them, or
#                    smoke (the lane's first filter only): scripts/vmtest-steps.sh
#   WGCAP_VM_PARALLEL  matrix: kernels run at a time (1; 2 gives each VM one CPU)
#   WGCAP_VM_MIRROR, WGCAP_VM_SECURITY_MIRROR  Debian mirrors (the system's)
#
# Results: BUILD_DIR/vmtest/LABEL/ (console.log, ctest.log, smoke.log,
# lane.log, summary). Exit status: 0 when every test passed, the bpf backend
# (not the afpacket fallback) captured on the testbed and every lane filter
# loaded least-privileged and wrote exactly its packets; 1 otherwise.
set -euo pipefail

readonly ROOT_TAG=wgcaproot SCRATCH_TAG=wgcapscratch
readonly GUEST_SCRATCH=/run/wgcap-vmtest-results
# The modules the initramfs loads to reach the root (in modules.dep order),
# and those the tests need (loaded by modprobe inside the guest).
readonly BOOT_MODULES=(virtio_pci 9pnet_virtio 9p overlay)
readonly TEST_MODULES=(sch_ingress cls_bpf veth tun wireguard)

log() { printf 'vmtest: %s\n' "$*" >&2; }
die() {
  log "error: $*"
  exit 1
}

SCRIPTS=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
# shellcheck source=scripts/vmtest-steps.sh
source "$SCRIPTS/vmtest-steps.sh"
# shellcheck source=scripts/vmtest-kernels.sh
source "$SCRIPTS/vmtest-kernels.sh"

# ---------------------------------------------------------------------------
# The guest half: PID 1 after the initramfs switched to the overlaid root.
# ---------------------------------------------------------------------------

guest_main() {
  # PID 1 must not die half-way (the kernel would panic before the status is
  # written): every step reports its own failure.
  set +e
  local results=$GUEST_SCRATCH
  export PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin
  export HOME=/root LANG=C.UTF-8 TERM=dumb
  mount -t proc proc /proc
  mount -t sysfs sysfs /sys
  mount -t devtmpfs devtmpfs /dev
  mkdir -p /dev/pts /dev/shm
  mount -t devpts devpts /dev/pts
  # What udev would add: bash's process substitution needs /dev/fd.
  ln -sf /proc/self/fd /dev/fd
  ln -sf /proc/self/fd/0 /dev/stdin
  ln -sf /proc/self/fd/1 /dev/stdout
  ln -sf /proc/self/fd/2 /dev/stderr
  mount -t tmpfs tmpfs /dev/shm
  # shellcheck source=/dev/null
  source "$results/guest.env"
  # The results share is mounted under /run by the initramfs; keep it.
  # A clean /tmp, unless the repository or its build lives there (a clone
  # in /tmp, as a CI job may make): a tmpfs would hide it, and the overlay
  # takes the guest's writes there anyway.
  if [[ $GUEST_REPO/ != /tmp/* && $GUEST_BUILD/ != /tmp/* ]]; then
    mount -t tmpfs -o mode=1777 tmpfs /tmp
  fi
  mount -t tmpfs -o mode=1777 tmpfs /var/tmp
  mount -t bpf bpf /sys/fs/bpf
  mount -t cgroup2 cgroup2 /sys/fs/cgroup 2>/dev/null || true
  mkdir -p /run/netns /run/wireguard
  # The booted kernel's modules, unpacked on the host, seen through the
  # shared root; modprobe (and the kernel's own module autoload, which runs
  # /sbin/modprobe) find them under the usual path.
  if [[ -n ${GUEST_MODULES:-} && ! -e /lib/modules/$(uname -r) ]]; then
    mkdir -p /lib/modules
    ln -s "$GUEST_MODULES" "/lib/modules/$(uname -r)"
  fi
  # One at a time, so the log names the one that is missing (a test that
  # needs it then fails with its own reason).
  local m
  for m in "${TEST_MODULES[@]}"; do
    modprobe "$m" || log "warning: modprobe $m failed on $(uname -r)"
  done
  # What systemd gives every process on a Debian host (DefaultLimitMEMLOCK=
  # 8M) rather than the kernel's own 64 KiB before 5.16: kernels before
  # 5.11 charge BPF maps to it, and a test that drops to CAP_BPF +
  # CAP_NET_ADMIN cannot raise it (no CAP_SYS_RESOURCE).
  ulimit -l 8192
  ip link set lo up
  hostname wgcap-vm
  echo "booted: $(uname -r), up $(cut -d' ' -f1 /proc/uptime)s" >"$results/boot"
  cd "$GUEST_REPO"
  local rc=0
  if [[ -n ${GUEST_COMMAND:-} ]]; then
    bash -c "$GUEST_COMMAND" 2>&1 | tee "$results/command.log"
    rc=${PIPESTATUS[0]}
    echo "command: exit $rc" >"$results/summary"
    echo "$rc" >"$results/status"
  else
    # Debian's kernels have WireGuard: the lane must use it, not fall back.
    run_suite "$results" "$GUEST_REPO" "$GUEST_BUILD" kernel "${GUEST_CTEST_ARGS[@]}" || rc=$?
  fi
  echo "guest: done, status $rc, up $(cut -d' ' -f1 /proc/uptime)s"
  sync
  # Power off at once: nothing on this root needs an orderly shutdown.
  echo o >/proc/sysrq-trigger
  sleep 10
}

# ---------------------------------------------------------------------------
# The host half.
# ---------------------------------------------------------------------------

need_packages() {
  local missing=() p
  for p in "$@"; do
    dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'install ok installed' || missing+=("$p")
  done
  ((${#missing[@]} == 0)) && return
  log "installing ${missing[*]}"
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${missing[@]}" \
    >/dev/null
}
make_initramfs() { # OUT
  local out=$1 dir rel
  dir=$(mktemp -d "$CACHE/initramfs.XXXXXX")
  mkdir -p "$dir"/{bin,proc,sys,dev,lower,rw,newroot,modules}
  cp "$BUSYBOX" "$dir/bin/busybox"
  : >"$dir/modules.list"
  if [[ -n $MODULES ]]; then
    ensure_depmod
    while read -r rel; do
      [[ -n $rel ]] || continue
      copy_module "$rel" "$dir/modules" >>"$dir/modules.list"
    done < <(module_closure "${BOOT_MODULES[@]}")
  fi
  # 9p: msize 512 KiB (the most virtio allows on 6.1) and no page cache
  # (cache=none): the host may change files between runs; this share is read
  # only and what the guest writes goes to the overlay's tmpfs.
  cat >"$dir/init" <<EOF
#!/bin/busybox sh
/bin/busybox --install -s /bin
mount -t proc proc /proc
mount -t sysfs sysfs /sys
mount -t devtmpfs devtmpfs /dev
fail() { echo "initramfs: \$*"; sleep 1; echo o >/proc/sysrq-trigger; sleep 10; }
for m in \$(cat /modules.list); do insmod /modules/\$m || fail "insmod \$m"; done
opts=trans=virtio,version=9p2000.L,msize=524288
mount -t 9p -o ro,\$opts $ROOT_TAG /lower || fail "mount the host root"
mount -t tmpfs -o mode=0755 tmpfs /rw
mkdir /rw/upper /rw/work
mount -t overlay -o lowerdir=/lower,upperdir=/rw/upper,workdir=/rw/work overlay /newroot ||
  fail "overlay"
mount -t tmpfs -o mode=0755 tmpfs /newroot/run
mkdir -p /newroot$GUEST_SCRATCH
mount -t 9p -o \$opts $SCRATCH_TAG /newroot$GUEST_SCRATCH || fail "mount the results share"
umount /proc /sys /dev
exec switch_root /newroot /bin/bash $REPO/scripts/vmtest.sh __guest
EOF
  printf '%s\n' '#!/bin/busybox sh' '/bin/busybox mount -t proc proc /proc' \
    'echo wgcap-kvm-probe-ok' 'echo o >/proc/sysrq-trigger' '/bin/busybox sleep 10' >"$dir/probe"
  chmod +x "$dir/init" "$dir/probe"
  (cd "$dir" && find . | "$BUSYBOX" cpio -o -H newc 2>/dev/null) | gzip -1 >"$out"
  rm -rf "$dir"
}

boot_vm() {
  local results=$1 accel=${WGCAP_VM_ACCEL:-kvm:tcg}
  local initrd=$results/initramfs.gz
  make_initramfs "$initrd"
  {
    printf 'GUEST_REPO=%q\nGUEST_BUILD=%q\nGUEST_MODULES=%q\n' "$REPO" "$BUILD" "$MODULES"
    printf 'export WGCAP_WG_IMPL=%q\n' "${WGCAP_WG_IMPL:-auto}"
    printf 'GUEST_COMMAND=%q\n' "${WGCAP_VM_COMMAND:-}"
    printf 'export WGCAP_VM_STEPS=%q\n' "${WGCAP_VM_STEPS:-tests,paths,lane}"
    printf 'GUEST_CTEST_ARGS=('
    printf '%q ' "${CTEST_ARGS[@]}"
    printf ')\n'
  } >"$results/guest.env"
  # KVM only where it boots this kernel; TCG (software emulation) otherwise.
  if [[ $accel == kvm:tcg ]]; then
    if kvm_boots "$initrd"; then accel=kvm; else accel=tcg; fi
  fi
  log "booting $KERNEL ($LABEL, accel $accel, ${WGCAP_VM_CPUS:-$(nproc)} CPUs," \
    "${WGCAP_VM_MEM:-4096} MiB); console: $results/console.log"
  local start=$SECONDS code=0
  # -no-reboot: a panic (PID 1 died) ends qemu instead of looping; panic=-1
  # reboots at once. No network device: the tests' traffic stays in the
  # guest's namespaces.
  timeout --kill-after=10 "${WGCAP_VM_TIMEOUT:-3600}" qemu-system-x86_64 \
    -machine "q35,accel=$accel" -cpu max -smp "${WGCAP_VM_CPUS:-$(nproc)}" \
    -m "${WGCAP_VM_MEM:-4096}" -nodefaults -no-user-config -display none -no-reboot \
    -nic none -serial "file:$results/console.log" \
    -kernel "$KERNEL" -initrd "$initrd" \
    -append "console=ttyS0 panic=-1 rdinit=/init loglevel=4 8250.nr_uarts=1" \
    -virtfs "local,path=/,mount_tag=$ROOT_TAG,security_model=none,readonly=on,multidevs=remap" \
    -virtfs "local,path=$results,mount_tag=$SCRATCH_TAG,security_model=none,multidevs=remap" \
    </dev/null || code=$?
  echo "vm: $((SECONDS - start))s, accel $accel, qemu exit $code" >>"$results/summary.host"
  log "VM ran $((SECONDS - start))s (qemu exit $code)"
  rm -f "$initrd"
}

# Whether KVM boots this kernel here: /dev/kvm can exist and even create a
# VM while the guest never gets past the real-mode setup (seen on a nested
# machine: "Probing EDD ... ok", then nothing). So boot the initramfs's probe,
# which prints a marker and powers off; a working KVM takes a few seconds.
kvm_boots() { # INITRD
  [[ -w /dev/kvm ]] || return 1
  local out
  out=$(timeout --kill-after=5 "${WGCAP_VM_KVM_PROBE_TIMEOUT:-20}" qemu-system-x86_64 \
    -machine q35,accel=kvm -cpu max -smp 1 -m 512 -nodefaults -no-user-config -display none \
    -no-reboot -nic none -serial stdio -kernel "$KERNEL" -initrd "$1" \
    -append "console=ttyS0 panic=-1 rdinit=/probe loglevel=1" </dev/null 2>/dev/null) || true
  [[ $out == *wgcap-kvm-probe-ok* ]]
}

# Sets KERNEL, KVER, MODULES, LABEL (and NATIVE=1 for a host without an
# image of its kernel) for TARGET.
pick_kernel() { # TARGET
  local target=$1
  NATIVE=0
  case $target in
    5.10 | 6.1 | 6.12 | debian)
      need_packages qemu-system-x86 kmod xz-utils
      # "debian" is the older name of 6.1 (Debian 12's own kernel).
      [[ $target == debian ]] && target=6.1
      debian_kernel "$target"
      ;;
    host)
      KVER=$(uname -r)
      KERNEL=/boot/vmlinuz-$KVER
      LABEL=host-$KVER
      if [[ -f $KERNEL ]]; then
        need_packages qemu-system-x86 kmod
        image_modules
      else
        NATIVE=1
        LABEL=native-$KVER
        log "no /boot/vmlinuz-$KVER on this machine: running the same steps natively"
      fi
      ;;
    *)
      [[ -f $target ]] || die "no kernel image '$target' (5.10, 6.1, 6.12, host, matrix or a path)"
      need_packages qemu-system-x86 kmod xz-utils
      KERNEL=$(realpath "$target")
      KVER=${WGCAP_VM_KVER:-$(basename "$KERNEL" | sed -n 's/^vmlinuz-//p')}
      [[ -n $KVER ]] || die "cannot tell the kernel version from '$target': set WGCAP_VM_KVER"
      image_modules
      LABEL=image-$KVER
      ;;
  esac
}

# Debian 12's busybox-static for the initramfs, from the bookworm tree.
ensure_busybox() {
  BUSYBOX=$CACHE/busybox-static/bin/busybox
  [[ -f $CACHE/busybox-static/.unpacked ]] && return
  [[ -d $CACHE/apt/bookworm/state/lists ]] && compgen -G "$CACHE/apt/bookworm/state/lists/*Packages" \
    >/dev/null || update_apt_tree bookworm || die "cannot fetch busybox-static: apt-get update failed:
$(cat "$CACHE/apt/bookworm/update.log")"
  unpack_deb bookworm busybox-static "$CACHE/busybox-static"
}

# Boots LABEL's kernel (or runs natively) and collects the status.
run_target() { # TARGET
  # Fetching and unpacking into the shared cache one run at a time (CI
  # boots two kernels side by side); booting needs no lock.
  exec 8>"$CACHE/.lock"
  flock -w 600 8 || die "another vmtest.sh held $CACHE/.lock for 10 minutes"
  pick_kernel "$1"
  ((NATIVE)) || ensure_busybox
  exec 8>&-
  local results=$BUILD/vmtest/$LABEL rc=0 start=$SECONDS
  rm -rf "$results"
  mkdir -p "$results"
  # The matrix finds this run's results here.
  echo "$results" >"$BUILD/vmtest/latest-$1"
  if ((NATIVE)); then
    run_suite "$results" "$REPO" "$BUILD" auto "${CTEST_ARGS[@]}" || rc=$?
    echo "native: no VM, $((SECONDS - start))s" >"$results/summary.host"
  else
    boot_vm "$results"
    if [[ ! -f $results/status ]]; then
      log "the guest wrote no status; its console:"
      cat "$results/console.log" >&2
      rc=1
    else
      rc=$(<"$results/status")
      ((rc == 0)) || {
        log "tests failed in the guest; its console:"
        cat "$results/console.log" >&2
      }
    fi
  fi
  log "results in $results:"
  cat "$results/summary" "$results/summary.host" 2>/dev/null | sed 's/^/  /' >&2
  if ((rc == 0)); then log "PASS ($LABEL)"; else log "FAIL ($LABEL)"; fi
  return "$rc"
}

# One row of the matrix table from a run's results directory (or the
# reason it has none).
matrix_row() { # TARGET LOG
  local target=$1 results sum host auto tests lane lp load
  results=$(cat "$BUILD/vmtest/latest-$target" 2>/dev/null) || results=
  if [[ -z $results || ! -f $results/summary ]]; then
    local why
    why=$(grep -m1 -E 'error:|wrote no status' "$2" 2>/dev/null | sed 's/^vmtest: //; s/|/\\|/g')
    printf '| %s | - | - | - | - | - | %s |\n' "$target" "${why:-no results}"
    return
  fi
  sum=$results/summary
  host=$(sed -E 's/^vm: ([0-9]+s), accel ([a-z]+).*/qemu \2, \1/; s/^native: no VM, /native, /' \
    "$results/summary.host" 2>/dev/null) || host=-
  auto=$(sed -nE 's/^path: auto\+auto: ok: .*\((bpf\/[a-z]+)\).*/\1/p; s/^path: auto\+auto: (FAILED.*)/\1/p' \
    "$sum" | head -1 | cut -c1-60)
  # ctest counts a skipped test as passed.
  tests=$(sed -nE 's/^ctest: [0-9]+% tests passed, ([0-9]+) tests failed out of ([0-9]+), ([0-9]+) of them skipped.*/\2 \1 \3/p' "$sum" |
    awk '{printf "%d passed, %d skipped, %d failed of %d", $1 - $2 - $3, $3, $2, $1}')
  lane=$(sed -nE 's/^lane result: [^:]*: (.*)/\1/p' "$sum")
  lp=$(grep -m1 '^lane: udp-port:' "$sum" | sed -E 's/^lane: udp-port: (PASS|FAIL): loaded (yes|no).*/\2/')
  load=$(sed -nE 's/^lane: udp-port: .* load ([0-9.]+s),.*/\1/p' "$sum")
  printf '| %s | %s | %s | %s | %s | %s | %s |\n' "$(sed -n 's/^kernel: //p' "$sum")" "$host" \
    "${auto:--}" "${tests:--}" "${lp:-no}" "${load:--}" "${lane:-no lane result}"
}

# Every kernel (each failure is recorded, not fatal), then the table; fails
# if any kernel did. WGCAP_VM_PARALLEL=N runs N at a time (their logs then
# go only to BUILD/vmtest/matrix-TARGET.log); with software emulation two
# one-CPU VMs side by side finish sooner than one after the other.
run_matrix() {
  local target rc=0 table=$BUILD/vmtest/matrix.md jobs=${WGCAP_VM_PARALLEL:-1} running=0
  [[ $jobs =~ ^[1-9]$ ]] || die "WGCAP_VM_PARALLEL must be 1-9"
  for target in 5.10 6.1 6.12 host; do
    rm -f "$BUILD/vmtest/latest-$target"
    if ((jobs == 1)); then
      log "matrix: $target"
      WGCAP_VM_SKIP_BUILD=1 WGCAP_BUILD_DIR=$BUILD "$REPO/scripts/vmtest.sh" "$target" -- \
        "${CTEST_ARGS[@]}" 2>&1 | tee "$BUILD/vmtest/matrix-$target.log" >&2 || rc=1
      continue
    fi
    if ((running == jobs)); then
      wait -n || rc=1
      running=$((running - 1))
    fi
    log "matrix: $target (log: $BUILD/vmtest/matrix-$target.log)"
    WGCAP_VM_SKIP_BUILD=1 WGCAP_BUILD_DIR=$BUILD WGCAP_VM_CPUS=${WGCAP_VM_CPUS:-1} \
      "$REPO/scripts/vmtest.sh" "$target" -- "${CTEST_ARGS[@]}" \
      >"$BUILD/vmtest/matrix-$target.log" 2>&1 &
    running=$((running + 1))
  done
  while ((running > 0)); do
    wait -n || rc=1
    running=$((running - 1))
  done
  {
    echo "| kernel | run | auto picks | privileged tests | least-privilege load | load time | least-privilege lane |"
    echo "|---|---|---|---|---|---|---|"
    for target in 5.10 6.1 6.12 host; do
      matrix_row "$target" "$BUILD/vmtest/matrix-$target.log"
    done
  } >"$table"
  cat "$table"
  log "matrix table: $table"
  return "$rc"
}

host_main() {
  local target=6.1
  if [[ $# -gt 0 && $1 != -- ]]; then
    target=$1
    shift
  fi
  CTEST_ARGS=()
  if [[ ${1:-} == -- ]]; then
    shift
    CTEST_ARGS=("$@")
  fi
  [[ $(id -u) -eq 0 ]] || die "needs root (BPF, namespaces, qemu's 9p export of /)"
  REPO=$(cd "$(dirname "$0")/.." && pwd)
  cd "$REPO"
  CACHE=$(realpath -m "${WGCAP_VM_CACHE:-/var/cache/wgcap-vmtest}")
  mkdir -p "$CACHE"
  BUILD=$(realpath -m "${WGCAP_BUILD_DIR:-build-vm}")

  if [[ ${WGCAP_VM_SKIP_BUILD:-0} == 1 ]]; then
    [[ -f $BUILD/CTestTestfile.cmake ]] || die "WGCAP_VM_SKIP_BUILD=1 but $BUILD is not built"
  else
    scripts/setup.sh
    cmake -S . -B "$BUILD" -G Ninja -DCMAKE_BUILD_TYPE=RelWithDebInfo >/dev/null
    cmake --build "$BUILD" -j"$(nproc)"
  fi
  mkdir -p "$BUILD/vmtest"
  if [[ $target == matrix ]]; then
    run_matrix
  else
    run_target "$target"
  fi
}

if [[ ${1:-} == __guest ]]; then
  guest_main
else
  host_main "$@"
fi
