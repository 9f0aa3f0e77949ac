#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
#
# Kernel matrix (README "Kernel matrix"): the privileged tests (BPF loading,
# TC attachment, kernel filter, the live WireGuard testbed) on a kernel other
# than the one this machine runs, inside a qemu VM.
#
#   scripts/vmtest.sh            Debian 12's packaged kernel (linux-image-amd64,
#                                6.1: no tcx, older verifier), fetched with
#                                apt-get download and unpacked into the cache
#   scripts/vmtest.sh debian     the same
#   scripts/vmtest.sh host       the running kernel: booted in the VM if
#                                /boot has its image, else (as on the CI
#                                machines, whose /boot is empty) the same
#                                steps run natively, labelled "native"
#   scripts/vmtest.sh IMAGE      a bzImage/vmlinuz; its modules are taken from
#                                IMAGE/../../lib/modules/VER (a package tree),
#                                else /lib/modules/VER; VER from the file name
#                                vmlinuz-VER or WGCAP_VM_KVER
#   ... -- CTEST_ARGS            extra ctest arguments (e.g. -- -R Live)
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
#   WGCAP_WG_IMPL    WireGuard for the testbed: auto (kernel module where the
#                    kernel has one, as Debian's has), kernel or go
#
# Results: BUILD_DIR/vmtest/LABEL/ (console.log, ctest.log, smoke.log,
# summary). Exit status: 0 when every test passed and the bpf backend (not
# the afpacket fallback) captured on the testbed; 1 otherwise.
set -euo pipefail

readonly ROOT_TAG=wgcaproot SCRATCH_TAG=wgcapscratch
readonly GUEST_SCRATCH=/run/wgcap-vmtest-results
# The modules the initramfs loads to reach the root (in modules.dep order),
# and those the tests need (loaded by modprobe inside the guest).
readonly BOOT_MODULES=(virtio_pci 9pnet_virtio 9p overlay)
readonly TEST_MODULES=(sch_ingress cls_bpf veth tun)

log() { printf 'vmtest: %s\n' "$*" >&2; }
die() {
  log "error: $*"
  exit 1
}

# ---------------------------------------------------------------------------
# The test steps, shared by the guest and the native host run.
# ---------------------------------------------------------------------------

# run_suite RESULTS REPO BUILD [CTEST_ARGS...]: the privileged subset, then
# one capture per attach/sample combination on a testbed, recording what
# wgcap chose. Writes RESULTS/{ctest.log,smoke.log,summary,status}.
run_suite() {
  local results=$1 repo=$2 build=$3
  shift 3
  local rc=0 ctest_rc=0 smoke_rc=0
  export WGCAP_REQUIRE_PRIVILEGED=1
  log "kernel $(uname -r): ctest -L privileged in $build"
  local start=$SECONDS
  # ctest's own Testing/ lands in the build dir: on the overlay in the guest.
  ctest --test-dir "$build" -L privileged --output-on-failure -j"$(nproc)" "$@" \
    2>&1 | tee "$results/ctest.log" || ctest_rc=$?
  local ctest_seconds=$((SECONDS - start))
  (smoke "$repo" "$build") >"$results/smoke.log" 2>&1 || smoke_rc=$?
  cat "$results/smoke.log"
  ((ctest_rc == 0 && smoke_rc == 0)) || rc=1

  local counts skipped
  counts=$(grep -Eo '[0-9]+% tests passed, [0-9]+ tests failed out of [0-9]+' "$results/ctest.log" |
    tail -1) || counts="no ctest summary"
  skipped=$(grep -c '(Skipped)$' "$results/ctest.log") || true
  {
    printf 'kernel: %s\n' "$(uname -r)"
    printf 'ctest: %s, %s of them skipped (%ss)\n' "$counts" "$skipped" "$ctest_seconds"
    grep '^path:' "$results/smoke.log" || true
  } >"$results/summary"
  echo "$rc" >"$results/status"
  return "$rc"
}

# One short capture per attach x sample path on a WireGuard testbed: what
# the kernel takes by itself (auto), and each forced combination. "path:"
# lines go into the summary: ok (and wgcap's listening line), refused (a
# path this kernel does not offer, with wgcap's reason) or FAILED. The run
# fails if auto does not capture with bpf (not the afpacket fallback), or a
# path fails for another reason than the kernel lacking it.
smoke() {
  local repo=$1 build=$2 rc=0 path attach sample line err code tb_env pid i
  local wgcap=$build/wgcap
  [[ -x $wgcap ]] || {
    echo "path: -: FAILED (no $wgcap)"
    return 1
  }
  export WGCAP_NS_A=wgvm-a WGCAP_NS_B=wgvm-b WGCAP_IF_A=wgvma0 WGCAP_IF_B=wgvmb0
  tb_env=$("$repo/scripts/testbed.sh" up) || {
    echo "path: testbed: FAILED (scripts/testbed.sh up)"
    return 1
  }
  eval "$tb_env"
  err=$(mktemp)
  for path in auto+auto tcx+reserve tcx+output clsact+reserve clsact+output; do
    attach=${path%+*} sample=${path#*+}
    env WGCAP_TC_ATTACH="$attach" WGCAP_SAMPLE_MODE="$sample" \
      ip netns exec "$WGCAP_NS_A" "$wgcap" -i "$WGCAP_IF_A" --mode bpf -c 4 --duration 30s icmp \
      >/dev/null 2>"$err" &
    pid=$!
    for ((i = 0; i < 300; i++)); do
      grep -q 'listening on' "$err" && break
      kill -0 "$pid" 2>/dev/null || break
      sleep 0.1
    done
    ip netns exec "$WGCAP_NS_A" ping -c 2 -i 0.2 -W 2 "$WGCAP_ADDR_B" >/dev/null || true
    code=0
    wait "$pid" || code=$?
    line=$(grep -m1 'listening on' "$err" || true)
    if [[ $code -eq 0 && $line == *"(bpf/"* ]] && grep -q '^4 packets captured' "$err"; then
      echo "path: $path: ok: $line"
    elif [[ $path != auto+auto && $code -eq 1 && -z $line ]] &&
      grep -Eq 'kernel lacks tcx|loading the BPF program' "$err"; then
      echo "path: $path: refused: $(head -1 "$err")"
    else
      echo "path: $path: FAILED (exit $code): ${line:-$(head -3 "$err" | tr '\n' ' ')}"
      rc=1
    fi
  done
  rm -f "$err"
  "$repo/scripts/testbed.sh" down
  return "$rc"
}

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
  modprobe -a "${TEST_MODULES[@]}" || log "warning: modprobe ${TEST_MODULES[*]} failed"
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
    run_suite "$results" "$GUEST_REPO" "$GUEST_BUILD" "${GUEST_CTEST_ARGS[@]}" || rc=$?
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

# Downloads a Debian package (not installed: unpacked into DIR).
unpack_deb() { # PACKAGE DIR
  local pkg=$1 dir=$2 deb
  [[ -f $dir/.unpacked ]] && return
  rm -rf "$dir"
  mkdir -p "$dir"
  # (apt warns that root downloads unsandboxed into a directory _apt cannot
  # write: expected here, so its output is shown only on failure.)
  (cd "$CACHE" && apt-get download -q "$pkg" >"$CACHE/apt.log" 2>&1) ||
    die "apt-get download $pkg failed: $(cat "$CACHE/apt.log")"
  rm -f "$CACHE/apt.log"
  deb=$(find "$CACHE" -maxdepth 1 -name "${pkg}_*.deb" | head -1)
  dpkg-deb -x "$deb" "$dir"
  rm -f "$deb" # the unpacked tree is what is kept
  touch "$dir/.unpacked"
}

# Debian 12's kernel: the linux-image-amd64 meta package names the image
# package of the day (linux-image-6.1.0-N-amd64).
debian_kernel() {
  local image_pkg
  image_pkg=$(apt-cache depends linux-image-amd64 | awk '/Depends: linux-image-/ {print $2; exit}')
  [[ -n $image_pkg ]] || die "apt-cache knows no linux-image-amd64 (apt-get update?)"
  unpack_deb "$image_pkg" "$CACHE/$image_pkg"
  KVER=${image_pkg#linux-image-}
  KERNEL=$CACHE/$image_pkg/boot/vmlinuz-$KVER
  MODULES=$CACHE/$image_pkg/lib/modules/$KVER
  LABEL=debian-$KVER
}

# MODULES=... for a given image: the package layout beside it, else /lib/modules.
image_modules() {
  local dir
  dir=$(cd "$(dirname "$KERNEL")/.." && pwd)/lib/modules/$KVER
  if [[ -d $dir ]]; then
    MODULES=$dir
  elif [[ -d /lib/modules/$KVER ]]; then
    MODULES=/lib/modules/$KVER
  else
    MODULES= # a kernel with everything built in
  fi
}

# Module file paths (relative to MODULES) for NAMEs, dependencies first;
# names built into the kernel are skipped.
module_closure() { # NAME...
  local name rel
  declare -A seen=()
  local -a order=()
  add() { # REL
    local dep
    [[ -n ${seen[$1]:-} ]] && return
    seen[$1]=1
    while read -r dep; do
      add "$dep"
    done < <(awk -v m="$1:" '$1 == m {for (i = 2; i <= NF; i++) print $i}' "$MODULES/modules.dep")
    order+=("$1")
  }
  for name in "$@"; do
    rel=$(awk -v n="$name" -F: '{f = $1; sub(/.*\//, "", f); sub(/\.ko(\.[a-z]+)?$/, "", f);
      gsub(/-/, "_", f); if (f == n) {print $1; exit}}' "$MODULES/modules.dep")
    if [[ -n $rel ]]; then
      add "$rel"
    elif ! grep -Eq "/${name//_/[-_]}\.ko" "$MODULES/modules.builtin" 2>/dev/null; then
      die "module $name is neither in $MODULES/modules.dep nor built in"
    fi
  done
  printf '%s\n' "${order[@]}"
}

make_initramfs() { # OUT
  local out=$1 dir rel
  dir=$(mktemp -d "$CACHE/initramfs.XXXXXX")
  mkdir -p "$dir"/{bin,proc,sys,dev,lower,rw,newroot,modules}
  cp "$BUSYBOX" "$dir/bin/busybox"
  : >"$dir/modules.list"
  if [[ -n $MODULES ]]; then
    [[ -f $MODULES/modules.dep ]] || depmod -b "$(dirname "$(dirname "$(dirname "$MODULES")")")" "$KVER"
    while read -r rel; do
      [[ -n $rel ]] || continue
      cp "$MODULES/$rel" "$dir/modules/"
      basename "$rel" >>"$dir/modules.list"
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

host_main() {
  local target=debian
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
  CACHE=${WGCAP_VM_CACHE:-/var/cache/wgcap-vmtest}
  mkdir -p "$CACHE"
  BUILD=$(realpath -m "${WGCAP_BUILD_DIR:-build-vm}")

  if [[ ${WGCAP_VM_SKIP_BUILD:-0} == 1 ]]; then
    [[ -f $BUILD/CTestTestfile.cmake ]] || die "WGCAP_VM_SKIP_BUILD=1 but $BUILD is not built"
  else
    scripts/setup.sh
    cmake -S . -B "$BUILD" -G Ninja -DCMAKE_BUILD_TYPE=RelWithDebInfo >/dev/null
    cmake --build "$BUILD" -j"$(nproc)"
  fi

  local native=0
  case $target in
    debian)
      need_packages qemu-system-x86 kmod
      debian_kernel
      ;;
    host)
      KVER=$(uname -r)
      KERNEL=/boot/vmlinuz-$KVER
      LABEL=host-$KVER
      if [[ -f $KERNEL ]]; then
        need_packages qemu-system-x86 kmod
        image_modules
      else
        native=1
        LABEL=native-$KVER
        log "no /boot/vmlinuz-$KVER on this machine: running the same steps natively"
      fi
      ;;
    *)
      [[ -f $target ]] || die "no kernel image '$target' (debian, host or a path)"
      need_packages qemu-system-x86 kmod
      KERNEL=$(realpath "$target")
      KVER=${WGCAP_VM_KVER:-$(basename "$KERNEL" | sed -n 's/^vmlinuz-//p')}
      [[ -n $KVER ]] || die "cannot tell the kernel version from '$target': set WGCAP_VM_KVER"
      image_modules
      LABEL=image-$KVER
      ;;
  esac

  local results=$BUILD/vmtest/$LABEL rc=0
  rm -rf "$results"
  mkdir -p "$results"
  if ((native)); then
    run_suite "$results" "$REPO" "$BUILD" "${CTEST_ARGS[@]}" || rc=$?
    echo "native: no VM" >"$results/summary.host"
  else
    unpack_deb busybox-static "$CACHE/busybox-static"
    BUSYBOX=$CACHE/busybox-static/bin/busybox
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

if [[ ${1:-} == __guest ]]; then
  guest_main
else
  host_main "$@"
fi
