#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
#
# What the generated filter costs the kernel on a miss, next to an empty TC
# program, measured by the kernel itself (issue 19, BENCHMARKS.md):
# kernel.bpf_stats_enabled=1 makes every program report run_time_ns and
# run_cnt. Both programs sit on the same clsact ingress hook of one TUN
# device (the empty one first, both return TC_ACT_UNSPEC so both run on
# every packet), so they see the same packets in the same run; the ratio of
# their ns per run is the figure. tun_injector floods 128-byte IPv4 UDP to
# port 9, which none of the expressions below matches.
#
#   scripts/bench-kernel-cost.sh [EXPRESSION...]
#
# Environment: WGBENCH_BUILD_DIR (build), WGBENCH_SECONDS per expression (3).
set -euo pipefail

ROOT=$(cd "$(dirname "$0")/.." && pwd)
BUILD=${WGBENCH_BUILD_DIR:-$ROOT/build}
SECONDS_PER_RUN=${WGBENCH_SECONDS:-3}
readonly NS=wgkcost TUN_DEV=wgkc0

log() { printf 'bench-kernel-cost: %s\n' "$*" >&2; }
die() { log "error: $*"; exit 1; }
[[ $(id -u) -eq 0 ]] || die "needs root (namespaces, BPF, TUN)"

if (($# == 0)); then
  # Ten terms of which the flood packet passes nine: the whole chain runs.
  ten='ip and udp and dst port 9 and dst host 203.0.113.1 and src host 198.51.100.1'
  ten+=' and src net 198.51.100.0/24 and dst net 203.0.113.0/24 and greater 100 and less 200'
  ten+=' and host 192.0.2.99'
  set -- 'tcp and port 443' "$ten" 'udp and dst port 53 or icmp' \
    'udp[8:4] = 0x47455420 or ip[6:2] & 0x1fff != 0 and len > 1400'
fi

TMP=$(mktemp -d /tmp/wgkcost.XXXXXX)
WGCAP_PID=''
STATS_BEFORE=$(sysctl -n kernel.bpf_stats_enabled)
cleanup() {
  local status=$?
  if [[ -n $WGCAP_PID ]]; then
    kill -INT "$WGCAP_PID" 2>/dev/null || true
    wait "$WGCAP_PID" 2>/dev/null || true
  fi
  [[ ! -e /run/netns/$NS ]] || ip netns delete "$NS"
  sysctl -qw kernel.bpf_stats_enabled="$STATS_BEFORE"
  rm -rf "$TMP"
  exit "$status"
}
trap cleanup EXIT

cmake --build "$BUILD" --target wgcap_cli tun_injector >/dev/null
cat >"$TMP/empty.bpf.c" <<'EOF'
#include <linux/bpf.h>
#include <bpf/bpf_helpers.h>
SEC("tc") int wgkc_empty(struct __sk_buff *skb) { return -1; }
char LICENSE[] SEC("license") = "Dual BSD/GPL";
EOF
clang -O2 -g -target bpf -I/usr/include/x86_64-linux-gnu -c "$TMP/empty.bpf.c" -o "$TMP/empty.o"

[[ ! -e /run/netns/$NS ]] || ip netns delete "$NS"
ip netns add "$NS"
ip netns exec "$NS" sysctl -qw net.ipv6.conf.all.disable_ipv6=1 \
  net.ipv6.conf.default.disable_ipv6=1 net.ipv4.conf.all.rp_filter=1 \
  net.ipv4.conf.default.rp_filter=1
ip -n "$NS" tuntap add dev "$TUN_DEV" mode tun
ip -n "$NS" link set "$TUN_DEV" up
ip netns exec "$NS" tc qdisc add dev "$TUN_DEV" clsact
ip netns exec "$NS" tc filter add dev "$TUN_DEV" ingress pref 1 bpf da obj "$TMP/empty.o" sec tc
sysctl -qw kernel.bpf_stats_enabled=1

# "RUN_TIME_NS RUN_CNT" of the loaded program named $1 (bpftool truncates
# names to 15 characters).
prog_stats() {
  bpftool -j prog show | python3 -c '
import json, sys
for p in json.load(sys.stdin):
    if p.get("name") == sys.argv[1]:
        print(p.get("run_time_ns", 0), p.get("run_cnt", 0))
        break
else:
    print(0, 0)' "$1"
}

printf '%-60s %10s %10s %8s\n' expression "empty ns" "filter ns" ratio
for expr in "$@"; do
  WGCAP_TC_ATTACH=clsact ip netns exec "$NS" "$BUILD/wgcap" --mode bpf -Q in -i "$TUN_DEV" \
    -w "$TMP/out.pcap" "$expr" 2>"$TMP/wgcap.err" &
  WGCAP_PID=$!
  for _ in $(seq 50); do grep -q 'listening on' "$TMP/wgcap.err" && break; sleep 0.1; done
  grep -q 'listening on' "$TMP/wgcap.err" || die "wgcap did not start: $(cat "$TMP/wgcap.err")"
  read -r e0 ec0 < <(prog_stats wgkc_empty)
  read -r f0 fc0 < <(prog_stats wgcap_ingress)
  ip netns exec "$NS" "$BUILD/bench/tun_injector" --dev "$TUN_DEV" --seconds "$SECONDS_PER_RUN" >/dev/null
  read -r e1 ec1 < <(prog_stats wgkc_empty)
  read -r f1 fc1 < <(prog_stats wgcap_ingress)
  kill -INT "$WGCAP_PID"
  wait "$WGCAP_PID" 2>/dev/null || true
  WGCAP_PID=''
  grep -q '^0 packets captured' "$TMP/wgcap.err" || die "the flood matched \"$expr\": $(cat "$TMP/wgcap.err")"
  python3 - "$expr" "$e0" "$ec0" "$e1" "$ec1" "$f0" "$fc0" "$f1" "$fc1" <<'EOF'
import sys
expr = sys.argv[1]
e0, ec0, e1, ec1, f0, fc0, f1, fc1 = map(int, sys.argv[2:])
runs_e, runs_f = ec1 - ec0, fc1 - fc0
if runs_e == 0 or runs_f == 0:
    sys.exit(f"no runs counted for {expr!r} (empty {runs_e}, filter {runs_f})")
ne, nf = (e1 - e0) / runs_e, (f1 - f0) / runs_f
print(f"{expr[:60]:<60} {ne:10.1f} {nf:10.1f} {nf / ne:8.2f}   ({runs_f} runs)")
EOF
done
