# SPDX-License-Identifier: Apache-2.0
# shellcheck shell=bash
#
# Sourced by scripts/vmtest.sh: the test steps, the same in the guest and in
# the native host run. WGCAP_VM_STEPS (a comma list) picks them:
#   tests  ctest -L privileged (with the CTEST_ARGS given after --)
#   paths  one capture per attach x sample path on a WireGuard testbed
#   lane   scripts/least-privilege-lane.sh: every filter
#   smoke  scripts/least-privilege-lane.sh --smoke: one filter
#   gso    GSO/GRO super-packets (SPEC 10): a TCP bulk transfer through the
#          WireGuard testbed captured on the sender's egress, whose segments
#          add up to what the receiver counted; super-packets injected
#          through a vnet TUN device (both backends); `wgcap -D`'s peer
#          count, read from kernel WireGuard over generic netlink.
#          Skipped where `tests` ran the whole privileged suite already.
# The default is tests,paths,lane.

has_step() { [[ ,${WGCAP_VM_STEPS:-tests,paths,lane}, == *",$1,"* ]]; }

# run_suite RESULTS REPO BUILD WG_IMPL [CTEST_ARGS...]: the chosen steps.
# Writes RESULTS/{ctest.log,smoke.log,lane.log,gso.log,summary,status}. WG_IMPL is
# the lane's WireGuard (kernel in the VMs, whose Debian kernels have the
# module; go natively where the host has none).
run_suite() {
  local results=$1 repo=$2 build=$3 wg_impl=$4
  shift 4
  local rc=0 ctest_seconds=- lane_seconds=- gso_seconds=- start
  export WGCAP_REQUIRE_PRIVILEGED=1
  : >"$results/ctest.log"
  if has_step tests; then
    log "kernel $(uname -r): ctest -L privileged in $build"
    start=$SECONDS
    # ctest's own Testing/ lands in the build dir: on the overlay in the guest.
    ctest --test-dir "$build" -L privileged --output-on-failure -j"$(nproc)" "$@" \
      2>&1 | tee "$results/ctest.log" || rc=1
    ctest_seconds=$((SECONDS - start))
  fi
  if has_step gso; then
    if has_step tests && [[ $# -eq 0 ]]; then
      echo "gso: its tests ran in the tests step" >"$results/gso.log"
    else
      log "kernel $(uname -r): GSO and WireGuard peers"
      start=$SECONDS
      # -V: the transfer's own figures (its "gso:" line) go into the log.
      # Each test brings its testbed up (~30 s under emulation): they run
      # side by side, and of LivePeers the one whose `wgcap -D` reads the
      # peers over genl.
      ctest --test-dir "$build" -V -j"$(nproc)" \
        -R '^(Backends/GsoTun(nel)?\.|LivePeers\.DashDCountsThePeersAsRoot$)' \
        >"$results/gso.log" 2>&1 || rc=1
      gso_seconds=$((SECONDS - start))
      grep -E '^[0-9]+: gso:|tests passed|\*\*\*Failed|Not Run' "$results/gso.log" || true
    fi
  fi
  if has_step paths; then
    (smoke "$repo" "$build") >"$results/smoke.log" 2>&1 || rc=1
    cat "$results/smoke.log"
  fi
  if has_step lane || has_step smoke; then
    local lane_args=(--wg "$wg_impl")
    has_step lane || lane_args+=(--smoke)
    start=$SECONDS
    "$repo/scripts/least-privilege-lane.sh" "${lane_args[@]}" "$build/wgcap" \
      >"$results/lane.log" 2>&1 || rc=1
    lane_seconds=$((SECONDS - start))
    cat "$results/lane.log"
  fi

  local counts=- skipped=0
  if has_step tests; then
    counts=$(grep -Eo '[0-9]+% tests passed, [0-9]+ tests failed out of [0-9]+' \
      "$results/ctest.log" | tail -1) || counts="no ctest summary"
    skipped=$(grep -c '(Skipped)$' "$results/ctest.log") || true
  fi
  {
    printf 'kernel: %s\n' "$(uname -r)"
    printf 'steps: %s\n' "${WGCAP_VM_STEPS:-tests,paths,lane}"
    printf 'ctest: %s, %s of them skipped (%ss)\n' "$counts" "$skipped" "$ctest_seconds"
    grep '^path:' "$results/smoke.log" 2>/dev/null || true
    if has_step gso; then
      printf 'gso tests: %s (%ss)\n' "$(grep -Eo '[0-9]+% tests passed, [0-9]+ tests failed out of [0-9]+' \
        "$results/gso.log" | tail -1)" "$gso_seconds"
      grep -Eo 'gso: .*' "$results/gso.log" || true
    fi
    grep -E '^(lane|lane result|caps):' "$results/lane.log" 2>/dev/null || true
    printf 'lane time: %ss\n' "$lane_seconds"
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
