#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
#
# End-to-end benchmark (BENCHMARKS.md): floods an L3 interface and captures
# the flood with wgcap --mode bpf, wgcap --mode afpacket and tcpdump, one
# after another on the same traffic, and prints one table.
#
#   scripts/bench.sh [--micro]     as root, on Debian 12
#   scripts/bench.sh flood         the TUN full-speed flood only, one table of
#                                  cost per packet (issue 20; below)
#
# Traffic, all inside namespaces this script creates and removes:
#   tun   tun_injector writes one 128-byte IPv4 UDP packet (198.51.100.1 >
#         203.0.113.1:9) into a TUN device as fast as it can (and, for the
#         paced rows, at fixed rates); the kernel drops it after TC ingress
#         (no route, rp_filter) and sends nothing of its own.
#   wg    the WireGuard testbed (scripts/testbed.sh under its own names) with
#         udp_flood sending 128-byte packets from namespace A to B through
#         the tunnel, captured on B's WireGuard interface.
# Per run: packets sent (generator), seen (the interface's rx counter),
# captured and lost as the tool reports them, lost as counted (seen -
# captured, match-all only), the capture process's CPU (utime + stime from
# /proc/PID/stat, from flood start to the end of the drain that follows) per
# million packets captured, and the datapath rate (packets through the
# interface per second) with capture running against the mean of the
# no-capture runs of the same flood just before and just after it. Every
# cell is the median over the repetitions; ratios are taken per run, then
# the median.
#
# --micro also runs the micro-benchmarks and the kernel benchmark first.
#
# flood: only the tun flood at full speed, no capture / tcpdump / wgcap bpf /
# wgcap afpacket, each with both filters and every capture run between two
# no-capture runs, and a table (bench_flood_table.awk) of what capture costs
# per packet: the datapath rate kept, the fraction captured, the tool's own
# CPU per million captured, the whole machine's non-idle CPU (/proc/stat,
# all CPUs) over the flood window above the no-capture runs beside it, and
# the flood path's CPU (the injector's own, which holds the AF_PACKET taps
# and TC programs that run inside its writes, plus the tool's) above theirs.
# tcpdump's cost is mostly in that path, not in its own process. Also each
# tool's reported counts and whether they add up (captured + dropped by
# kernel + dropped by buffer == received by filter).
#
# Environment: WGBENCH_SECONDS (flood per run, default 2), WGBENCH_REPS (3),
# WGBENCH_RATES (paced tun rates, "100000 300000"), WGBENCH_WG (1; 0 skips
# the WireGuard rows), WGBENCH_BUILD_DIR (build-bench-release),
# WGBENCH_RESULTS (a file to keep the per-run rows in).
set -euo pipefail

ROOT=$(cd "$(dirname "$0")/.." && pwd)
SECONDS_PER_RUN=${WGBENCH_SECONDS:-2}
REPS=${WGBENCH_REPS:-3}
RATES=${WGBENCH_RATES:-100000 300000}
WITH_WG=${WGBENCH_WG:-1}
BUILD=${WGBENCH_BUILD_DIR:-$ROOT/build-bench-release}
MODE=full
MICRO=0

readonly NS_TUN=wgbench-tun TUN_DEV=wgbtun0
# The testbed under names of our own, so a developer's testbed is untouched.
export WGCAP_NS_A=wgbench-a WGCAP_NS_B=wgbench-b WGCAP_IF_A=wgbencha0 WGCAP_IF_B=wgbenchb0
readonly WG_DST=198.51.100.2 FLOOD_PORT=9
readonly MATCH_NONE='tcp and port 443' # the flood is UDP to port 9

log() { printf 'bench: %s\n' "$*" >&2; }
die() { log "error: $*"; exit 1; }

for arg in "$@"; do
  case $arg in
    flood) MODE=flood ;;
    --micro) MICRO=1 ;;
    *) die "usage: scripts/bench.sh [flood] [--micro] (unknown argument '$arg')" ;;
  esac
done
[[ $(id -u) -eq 0 ]] || die "needs root (namespaces, BPF, TUN)"

TMP=$(mktemp -d /tmp/wgbench.XXXXXX)
RESULTS=$TMP/results.tsv
declare -a STARTED=() # PIDs this script started and has not yet reaped
TESTBED_UP=0

stop_pid() { # PID: SIGINT, then SIGKILL after 5 s; only processes we started
  local pid=$1 i
  kill -INT "$pid" 2>/dev/null || return 0
  for ((i = 0; i < 50; i++)); do
    kill -0 "$pid" 2>/dev/null || break
    sleep 0.1
  done
  kill -KILL "$pid" 2>/dev/null || true
  wait "$pid" 2>/dev/null || true
}

forget_pid() { # PID
  local keep=() p
  for p in "${STARTED[@]}"; do [[ $p == "$1" ]] || keep+=("$p"); done
  STARTED=("${keep[@]}")
}

cleanup() {
  local status=$? pid
  trap '' INT TERM
  for pid in "${STARTED[@]}"; do stop_pid "$pid"; done
  [[ -e /run/netns/$NS_TUN ]] && ip netns delete "$NS_TUN"
  if ((TESTBED_UP)); then "$ROOT/scripts/testbed.sh" down >/dev/null 2>&1 || true; fi
  rm -rf "$TMP"
  exit "$status"
}
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

# --- build --------------------------------------------------------------------
"$ROOT/scripts/setup.sh" >&2
log "building (Release) in $BUILD"
# A fresh build directory skips the tests (faster); an existing one keeps its
# settings apart from these.
fresh=()
[[ -f $BUILD/CMakeCache.txt ]] || fresh=(-G Ninja -DWGCAP_BUILD_TESTS=OFF)
cmake -S "$ROOT" -B "$BUILD" "${fresh[@]}" -DCMAKE_BUILD_TYPE=Release -DWGCAP_BUILD_BENCH=ON >/dev/null
targets=(wgcap_cli tun_injector)
[[ $MODE == flood && $MICRO == 0 ]] || targets+=(udp_flood wgcap_bench_ebpf
  wgcap_bench_filter wgcap_bench_session wgcap_bench_writers)
cmake --build "$BUILD" --target "${targets[@]}" >/dev/null
WGCAP=$BUILD/wgcap
INJECTOR=$BUILD/bench/tun_injector
UDP_FLOOD=$BUILD/bench/udp_flood
TCPDUMP=$(command -v tcpdump) || die "tcpdump not found"
CLK_TCK=$(getconf CLK_TCK)

if ((MICRO)); then
  for b in wgcap_bench_filter wgcap_bench_session wgcap_bench_writers; do
    "$BUILD/bench/$b" --benchmark_min_time=0.2 2>/dev/null
  done
  "$BUILD/bench/wgcap_bench_ebpf"
  echo
fi

# --- helpers ------------------------------------------------------------------
rx_packets() { # NS DEV
  ip netns exec "$1" cat "/sys/class/net/$2/statistics/rx_packets"
}

cpu_ticks() { # PID: utime + stime in clock ticks (whole thread group)
  local stat rest fields
  stat=$(<"/proc/$1/stat")
  rest=${stat##*) }
  read -ra fields <<<"$rest"
  echo $((fields[11] + fields[12]))
}

# Sets STAT_BUSY and STAT_IDLE: the whole machine's non-idle
# (user+nice+system+irq+softirq+steal) and idle (idle+iowait) jiffies since
# boot, all CPUs (/proc/stat's first line). No subshell: nothing of our own
# runs between two samples but the flood.
proc_stat_sample() {
  local label user nice system idle iowait irq softirq steal rest
  read -r label user nice system idle iowait irq softirq steal rest </proc/stat
  STAT_BUSY=$((user + nice + system + irq + softirq + steal))
  STAT_IDLE=$((idle + iowait))
}

wait_listening() { # PID ERRFILE
  local i
  for ((i = 0; i < 100; i++)); do
    grep -q 'listening on' "$2" 2>/dev/null && return 0
    kill -0 "$1" 2>/dev/null || return 1
    sleep 0.1
  done
  return 1
}

count_line() { # FILE WORDS: the number before "packets WORDS", or 0
  local n
  n=$(grep -oE "^[0-9]+ packets $2" "$1" | head -1 | cut -d' ' -f1) || true
  echo "${n:-0}"
}

# One capture run: starts TOOL on DEV in NS with FILTER (empty = match all),
# floods with GENERATOR..., stops the tool and appends a row to $RESULTS.
run_case() { # REP TRAFFIC NS DEV TOOL FILTERNAME RATE GENERATOR...
  local rep=$1 traffic=$2 ns=$3 dev=$4 tool=$5 fname=$6 rate=$7
  shift 7
  local filter=""
  [[ $fname == none ]] && filter=$MATCH_NONE
  local err=$TMP/tool.err pid="" backend=$tool
  : >"$err"
  local -a cmd=() words=()
  case $tool in
    # --pcap: what tcpdump -w - writes, and what BENCHMARKS.md was measured with.
    wgcap-bpf) cmd=("$WGCAP" -i "$dev" --mode bpf -w - --pcap) ;;
    wgcap-afpacket) cmd=("$WGCAP" -i "$dev" --mode afpacket -w - --pcap) ;;
    # -B 4096: the same 4 MiB kernel buffer as wgcap's default -B 4.
    tcpdump) cmd=("$TCPDUMP" -i "$dev" -n -B 4096 -Z root -w -) ;;
    none) ;;
  esac
  if [[ $tool != none ]]; then
    # The expression as separate words, as a user would type it.
    if [[ -n $filter ]]; then
      read -ra words <<<"$filter"
      cmd+=("${words[@]}")
    fi
    ip netns exec "$ns" "${cmd[@]}" >/dev/null 2>"$err" &
    pid=$!
    STARTED+=("$pid")
    wait_listening "$pid" "$err" || die "$tool did not start: $(cat "$err")"
    backend=$(grep -oE '\((bpf/[a-z]+|afpacket)\)' "$err" | tr -d '()' || true)
    [[ -n $backend ]] || backend=$tool
  fi
  local rx0 rx1 cpu0=0 cpu1=0 out busy0 idle0 t0 t1
  rx0=$(rx_packets "$ns" "$dev")
  [[ -n $pid ]] && cpu0=$(cpu_ticks "$pid")
  proc_stat_sample
  busy0=$STAT_BUSY idle0=$STAT_IDLE t0=$EPOCHREALTIME
  out=$("$@")
  t1=$EPOCHREALTIME
  proc_stat_sample
  # The tool drains what is still queued. tcpdump needs over 1 s: it sees a
  # partly filled TPACKET_V3 block only once the kernel retires it (libpcap's
  # 1000 ms timeout), and never counts the packets in it otherwise.
  case $tool in
    tcpdump) sleep 1.1 ;;
    none) ;;
    *) sleep 0.3 ;;
  esac
  [[ -n $pid ]] && cpu1=$(cpu_ticks "$pid")
  rx1=$(rx_packets "$ns" "$dev")
  local captured=0 lost=0 received=0 lost_kernel=0 lost_buffer=0
  if [[ -n $pid ]]; then
    stop_pid "$pid"
    forget_pid "$pid"
    sleep 0.5 # what the tool's exit leaves to the kernel (RCU, deferred frees)
    captured=$(count_line "$err" captured)
    received=$(count_line "$err" "received by filter")
    lost_kernel=$(count_line "$err" "dropped by kernel")
    lost_buffer=$(count_line "$err" "dropped by buffer")
    lost=$((lost_kernel + lost_buffer))
  fi
  local sent gen_rate seconds
  sent=$(sed -nE 's/.*packets=([0-9]+).*/\1/p' <<<"$out")
  seconds=$(sed -nE 's/.*seconds=([0-9.]+).*/\1/p' <<<"$out")
  gen_rate=$(sed -nE 's/.*rate=([0-9]+).*/\1/p' <<<"$out")
  # The generator's own CPU (tun_injector only; - for udp_flood).
  local gen_cpu
  gen_cpu=$(sed -nE 's/^cpu=([0-9.]+)$/\1/p' <<<"$out")
  # Columns 1-13 are what bench_table.awk reads; 14-20 bench_flood_table.awk.
  printf '%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s' "$rep" "$traffic" "$rate" "$tool" \
    "$fname" "$backend" "$sent" "$((rx1 - rx0))" "$captured" "$lost" \
    "$(awk -v t=$((cpu1 - cpu0)) -v hz="$CLK_TCK" 'BEGIN { printf "%.3f", t / hz }')" \
    "$seconds" "$gen_rate" >>"$RESULTS"
  printf '\t%s\t%s\t%s\t%s\t%s\t%s\t%s\n' \
    "$(awk -v b=$((STAT_BUSY - busy0)) -v hz="$CLK_TCK" 'BEGIN { printf "%.3f", b / hz }')" \
    "$(awk -v i=$((STAT_IDLE - idle0)) -v hz="$CLK_TCK" 'BEGIN { printf "%.3f", i / hz }')" \
    "$(awk -v a="$t0" -v b="$t1" 'BEGIN { printf "%.3f", b - a }')" \
    "$received" "$lost_kernel" "$lost_buffer" "${gen_cpu:--}" >>"$RESULTS"
  log "$(printf 'rep %s %-4s %-7s %-15s %-4s sent %9s seen %9s captured %9s lost %8s' \
    "$rep" "$traffic" "$rate" "$backend" "$fname" "$sent" "$((rx1 - rx0))" "$captured" "$lost")"
}

# --- TUN flood ----------------------------------------------------------------
setup_tun() {
  # Left over by a killed earlier run (the name is this script's own).
  [[ ! -e /run/netns/$NS_TUN ]] || ip netns delete "$NS_TUN"
  ip netns add "$NS_TUN"
  ip -n "$NS_TUN" link set lo up
  # Nothing of the kernel's own on the device: no IPv6 (no router
  # solicitations), and strict reverse-path filtering with no route back,
  # so the flood is dropped after TC ingress without an ICMP error.
  ip netns exec "$NS_TUN" sysctl -qw net.ipv6.conf.all.disable_ipv6=1 \
    net.ipv6.conf.default.disable_ipv6=1 net.ipv4.conf.all.rp_filter=1 \
    net.ipv4.conf.default.rp_filter=1
  ip -n "$NS_TUN" tuntap add dev "$TUN_DEV" mode tun
  ip -n "$NS_TUN" link set "$TUN_DEV" up
}

tun_flood() { # RATE (full = as fast as it goes)
  local -a pace=()
  [[ $1 == full ]] || pace=(--rate "$1")
  ip netns exec "$NS_TUN" "$INJECTOR" --dev "$TUN_DEV" --seconds "$SECONDS_PER_RUN" "${pace[@]}"
}

wg_flood() {
  ip netns exec "$WGCAP_NS_A" "$UDP_FLOOD" send --dst "$WG_DST" --port "$FLOOD_PORT" \
    --seconds "$SECONDS_PER_RUN"
}

TOOLS=(wgcap-bpf wgcap-afpacket tcpdump)
# The flood table lists tcpdump first: the reference the others are read against.
[[ $MODE == full ]] || TOOLS=(tcpdump wgcap-bpf wgcap-afpacket)

log "load before the runs: $(cut -d' ' -f1-3 /proc/loadavg) on $(nproc) CPUs"
setup_tun
if ((WITH_WG)) && [[ $MODE == full ]]; then
  log "bringing up the WireGuard testbed ($WGCAP_NS_A, $WGCAP_NS_B)"
  TESTBED_UP=1
  "$ROOT/scripts/testbed.sh" up >/dev/null
  # A bound socket that never reads: the flood is dropped silently at B
  # instead of drawing ICMP port unreachable (traffic of B's own).
  ip netns exec "$WGCAP_NS_B" "$UDP_FLOOD" sink --bind "$WG_DST" --port "$FLOOD_PORT" &
  STARTED+=("$!")
fi

# Full speed: every capture run sits between two no-capture runs of the
# same flood, and is compared with their mean (bench_table.awk), because the
# machine's other load drifts over minutes.
full_speed_block() { # REP TRAFFIC NS DEV GENERATOR...
  local fname tool
  run_case "$1" "$2" "$3" "$4" none all full "${@:5}"
  for fname in all none; do
    for tool in "${TOOLS[@]}"; do
      run_case "$1" "$2" "$3" "$4" "$tool" "$fname" full "${@:5}"
      run_case "$1" "$2" "$3" "$4" none all full "${@:5}"
    done
  done
}

if [[ $MODE == flood ]]; then
  for ((rep = 1; rep <= REPS; rep++)); do
    full_speed_block "$rep" tun "$NS_TUN" "$TUN_DEV" tun_flood full
  done
  echo
  echo "wgcap flood cost: $REPS repetitions of ${SECONDS_PER_RUN} s TUN floods of 128-byte UDP at" \
    "full speed, medians; $(nproc) CPUs, kernel $(uname -r), load $(cut -d' ' -f1-3 /proc/loadavg)"
  echo "filters: all = no expression, none = '$MATCH_NONE'"
  awk -F'\t' -f "$ROOT/scripts/bench_median.awk" -f "$ROOT/scripts/bench_flood_table.awk" "$RESULTS"
  [[ -z ${WGBENCH_RESULTS:-} ]] || cp "$RESULTS" "$WGBENCH_RESULTS"
  exit 0
fi

for ((rep = 1; rep <= REPS; rep++)); do
  full_speed_block "$rep" tun "$NS_TUN" "$TUN_DEV" tun_flood full
  # Paced: does each tool keep every packet at a rate it should manage?
  # (the goal compares bpf with tcpdump; afpacket only at full speed)
  for rate in $RATES; do
    for tool in wgcap-bpf tcpdump; do
      run_case "$rep" tun "$NS_TUN" "$TUN_DEV" "$tool" all "$rate" tun_flood "$rate"
    done
  done
  if ((WITH_WG)); then
    full_speed_block "$rep" wg "$WGCAP_NS_B" "$WGCAP_IF_B" wg_flood
  fi
done

# --- the table ------------------------------------------------------------------
echo
echo "wgcap end-to-end: $REPS repetitions of ${SECONDS_PER_RUN} s floods, medians;" \
  "$(nproc) CPUs, kernel $(uname -r), load $(cut -d' ' -f1-3 /proc/loadavg)"
echo "filters: all = no expression, none = '$MATCH_NONE'; tun = TUN injector (rate: full speed" \
  "or paced pps), wg = UDP through wireguard-go"
awk -F'\t' -f "$ROOT/scripts/bench_median.awk" -f "$ROOT/scripts/bench_table.awk" "$RESULTS"
# WGBENCH_RESULTS=FILE keeps the per-run rows (the table's input).
[[ -z ${WGBENCH_RESULTS:-} ]] || cp "$RESULTS" "$WGBENCH_RESULTS"
