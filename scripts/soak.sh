#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
#
# Soak test (SPEC 7; not run by CI): wgcap -w on the WireGuard testbed for
# MINUTES under steady traffic, then whether every packet is accounted for
# and whether its memory stayed flat.
#
#   scripts/soak.sh [MINUTES]      as root; MINUTES defaults to 10
#
# Traffic, all inside the testbed's namespaces (scripts/testbed.sh, under
# names of this script's own): from A to B through the tunnel, ping every
# 10 ms and a rate-limited UDP stream (bench/udp_flood) to a port B binds and
# never reads (no ICMP answers). wgcap captures everything on A's tunnel
# interface (no expression), writing rotated files (-G 60 -W 3) or one plain
# file, and its RSS (VmRSS) is sampled every 10 s.
#
# Counted at the end:
#   sent          packets through A's tunnel interface, as its counters say:
#                 tx_packets + tx_dropped (the TUN driver's drops when
#                 wireguard-go falls behind come after both capture points,
#                 TC and the AF_PACKET tap) + rx_packets. Counted there, not
#                 by the generators, because B's replies cross wireguard-go
#                 (which may lose them) before they reach A, and ping stopped
#                 by its deadline does not count a reply still on its way.
#                 The generators' own counts are shown beside it.
#   captured, reported drops (session queue + kernel ring + AF_PACKET), from
#                 wgcap --stats
#   unexplained   sent - captured - drops; 0 when nothing is lost silently
#   RSS           first (after the warm-up), min, max, last; flat when
#                 last <= first + 1 MiB
# Exit 0 when wgcap exited 0, nothing is unexplained and the RSS is flat.
#
# Environment: WGSOAK_MODE (wgcap --mode: auto, bpf, afpacket; default
# auto), WGSOAK_UDP_RATE (datagrams/s, 2000), WGSOAK_ROTATE (wgcap's
# rotation options, "-G 60 -W 3"; empty for one plain file),
# WGSOAK_WARMUP (seconds before the first RSS sample that counts, 30),
# WGSOAK_BUILD_DIR (build), WGSOAK_BUILD (1; 0 uses the binaries already
# there), WGSOAK_KEEP (0; 1 keeps the capture files and logs).
set -euo pipefail

ROOT=$(cd "$(dirname "$0")/.." && pwd)
MINUTES=${1:-10}
MODE=${WGSOAK_MODE:-auto}
UDP_RATE=${WGSOAK_UDP_RATE:-2000}
ROTATE=${WGSOAK_ROTATE--G 60 -W 3}
WARMUP=${WGSOAK_WARMUP:-30}
BUILD=${WGSOAK_BUILD_DIR:-$ROOT/build}
readonly SAMPLE_SECONDS=10 PING_INTERVAL=0.01 UDP_PORT=9000

# The testbed under names of our own, so a developer's testbed is untouched.
export WGCAP_NS_A=wgsoak-a WGCAP_NS_B=wgsoak-b WGCAP_IF_A=wgsoaka0 WGCAP_IF_B=wgsoakb0
readonly DST=198.51.100.2

log() { printf 'soak: %s\n' "$*" >&2; }
die() { log "error: $*"; exit 1; }

[[ $MINUTES =~ ^[0-9]+$ && $MINUTES -gt 0 ]] || die "usage: $0 [MINUTES] (a whole number > 0)"
[[ $(id -u) -eq 0 ]] || die "needs root (namespaces, BPF)"
readonly DURATION=$((MINUTES * 60))

TMP=$(mktemp -d /tmp/wgsoak.XXXXXX)
declare -a STARTED=() # PIDs this script started and has not yet reaped
TESTBED_UP=0

# SIGTERM, not SIGINT: without job control, background commands start with
# SIGINT ignored (wgcap and ping stop on either).
stop_pid() { # PID: SIGTERM, then SIGKILL after 10 s; only processes we started
  local pid=$1 i
  kill -TERM "$pid" 2>/dev/null || return 0
  for ((i = 0; i < 100; i++)); do
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
  if ((TESTBED_UP)); then "$ROOT/scripts/testbed.sh" down >/dev/null 2>&1 || true; fi
  if [[ ${WGSOAK_KEEP:-0} == 1 ]]; then log "kept $TMP"; else rm -rf "$TMP"; fi
  exit "$status"
}
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

# --- build --------------------------------------------------------------------
if [[ ${WGSOAK_BUILD:-1} == 1 ]]; then
  fresh=()
  [[ -f $BUILD/CMakeCache.txt ]] || fresh=(-G Ninja -DCMAKE_BUILD_TYPE=RelWithDebInfo)
  cmake -S "$ROOT" -B "$BUILD" "${fresh[@]}" -DWGCAP_BUILD_BENCH=ON >/dev/null
  cmake --build "$BUILD" --target wgcap_cli udp_flood >/dev/null
fi
WGCAP=$BUILD/wgcap
UDP_FLOOD=$BUILD/bench/udp_flood
[[ -x $WGCAP && -x $UDP_FLOOD ]] || die "no $WGCAP or $UDP_FLOOD (WGSOAK_BUILD_DIR?)"

# --- helpers ------------------------------------------------------------------
counter() { # NAME: a statistics counter of A's tunnel interface
  ip netns exec "$WGCAP_NS_A" cat "/sys/class/net/$WGCAP_IF_A/statistics/$1"
}

interface_packets() { # packets through A's tunnel interface, both ways
  echo $(($(counter tx_packets) + $(counter tx_dropped) + $(counter rx_packets)))
}

rss_kib() { # PID
  awk '/^VmRSS:/ { print $2 }' "/proc/$1/status"
}

json_field() { # FILE NAME: a field of wgcap's --stats line
  grep -oE "\"$2\":[0-9]+" "$1" | tail -1 | cut -d: -f2
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

# --- run ----------------------------------------------------------------------
log "bringing up the testbed ($WGCAP_NS_A, $WGCAP_NS_B)"
TESTBED_UP=1
"$ROOT/scripts/testbed.sh" up >/dev/null

ip netns exec "$WGCAP_NS_B" "$UDP_FLOOD" sink --bind "$DST" --port "$UDP_PORT" &
STARTED+=("$!")

read -ra rotate_args <<<"$ROTATE"
WGCAP_ERR=$TMP/wgcap.err
# `ip netns exec` execs, so $! is wgcap's own PID.
ip netns exec "$WGCAP_NS_A" "$WGCAP" -i "$WGCAP_IF_A" --mode "$MODE" --stats \
  -w "$TMP/soak.pcap" "${rotate_args[@]}" 2>"$WGCAP_ERR" &
WGCAP_PID=$!
STARTED+=("$WGCAP_PID")
wait_listening "$WGCAP_PID" "$WGCAP_ERR" || die "wgcap did not start: $(cat "$WGCAP_ERR")"
log "$(grep 'listening on' "$WGCAP_ERR")"

iface_before=$(interface_packets)
start=$(date +%s)
ip netns exec "$WGCAP_NS_A" ping -q -n -i "$PING_INTERVAL" -w "$DURATION" "$DST" \
  >"$TMP/ping.out" 2>&1 &
PING_PID=$!
STARTED+=("$PING_PID")
ip netns exec "$WGCAP_NS_A" "$UDP_FLOOD" send --dst "$DST" --port "$UDP_PORT" \
  --rate "$UDP_RATE" --seconds "$DURATION" >"$TMP/udp.out" 2>&1 &
UDP_PID=$!
STARTED+=("$UDP_PID")
log "traffic for ${MINUTES} min: ping every ${PING_INTERVAL}s, UDP at ${UDP_RATE}/s;" \
  "wgcap ${ROTATE:-(plain file)}, RSS every ${SAMPLE_SECONDS}s"

declare -a RSS_T=() RSS_KIB=()
while kill -0 "$PING_PID" 2>/dev/null || kill -0 "$UDP_PID" 2>/dev/null; do
  sleep "$SAMPLE_SECONDS"
  kill -0 "$WGCAP_PID" 2>/dev/null || die "wgcap exited during the soak: $(cat "$WGCAP_ERR")"
  t=$(($(date +%s) - start))
  rss=$(rss_kib "$WGCAP_PID")
  RSS_T+=("$t")
  RSS_KIB+=("$rss")
  # SIGUSR1: wgcap prints its counts so far.
  kill -USR1 "$WGCAP_PID"
  sleep 0.2
  so_far=$(grep -oE '^[0-9]+ packets captured' "$WGCAP_ERR" | tail -1 | cut -d' ' -f1)
  log "$(printf 't=%4ss  RSS %6s KiB  captured %s' "$t" "$rss" "${so_far:-?}")"
done
wait "$PING_PID" || log "warning: ping exited non-zero: $(tail -2 "$TMP/ping.out")"
wait "$UDP_PID" || die "udp_flood failed: $(cat "$TMP/udp.out")"
forget_pid "$PING_PID"
forget_pid "$UDP_PID"
elapsed=$(($(date +%s) - start))

sleep 1 # the last packets through the interface and into the ring
iface_after=$(interface_packets)
kill -TERM "$WGCAP_PID"
wgcap_status=0
wait "$WGCAP_PID" || wgcap_status=$?
forget_pid "$WGCAP_PID"

# --- report -------------------------------------------------------------------
read -r ping_tx ping_rx < <(sed -nE 's/^([0-9]+) packets transmitted, ([0-9]+) (packets )?received.*/\1 \2/p' \
  "$TMP/ping.out")
udp_sent=$(sed -nE 's/.*packets=([0-9]+).*/\1/p' "$TMP/udp.out")
[[ -n ${ping_tx:-} && -n ${udp_sent:-} ]] || die "no counts from the generators: $(cat "$TMP/ping.out" "$TMP/udp.out")"
generated=$((ping_tx + ping_rx + udp_sent))
sent=$((iface_after - iface_before))
captured=$(json_field "$WGCAP_ERR" packets)
drops=$(($(json_field "$WGCAP_ERR" dropped) + $(json_field "$WGCAP_ERR" kernel_ring_drops) +
  $(json_field "$WGCAP_ERR" kernel_drops)))
unexplained=$((sent - captured - drops))

# The files left: each must read to its end.
files=0 in_files=0 bad_files=0
for f in "$TMP"/soak*.pcap; do
  [[ -e $f ]] || continue
  files=$((files + 1))
  # tcpdump's status (a truncated file fails), wc's count.
  if n=$(
    tcpdump -nn -r "$f" 2>/dev/null | wc -l
    exit "${PIPESTATUS[0]}"
  ); then
    in_files=$((in_files + n))
  else
    bad_files=$((bad_files + 1))
  fi
done

# RSS over the samples after the warm-up (all of them if the run is shorter).
first="" min="" max="" last=""
for i in "${!RSS_T[@]}"; do
  [[ ${RSS_T[$i]} -ge $WARMUP || $DURATION -le $WARMUP ]] || continue
  r=${RSS_KIB[$i]}
  [[ -n $first ]] || first=$r
  [[ -n $min && $min -le $r ]] || min=$r
  [[ -n $max && $max -ge $r ]] || max=$r
  last=$r
done
flat=no
[[ -n $first && $last -le $((first + 1024)) ]] && flat=yes

backend=$(grep -oE '"backend":"[^"]+"' "$WGCAP_ERR" | cut -d'"' -f4)
echo
echo "wgcap soak: ${elapsed} s ($MINUTES min requested), backend ${backend:-?}," \
  "${ROTATE:-plain file}, kernel $(uname -r), load $(cut -d' ' -f1-3 /proc/loadavg)"
printf '  %-22s %s\n' \
  "wgcap exit status" "$wgcap_status" \
  "packets sent" "$sent (through $WGCAP_IF_A: tx + tx_dropped + rx)" \
  "generators reported" "$generated (ping $ping_tx out + $ping_rx replies, UDP $udp_sent)" \
  "captured" "$captured" \
  "reported drops" "$drops" \
  "unexplained losses" "$unexplained (sent - captured - drops)" \
  "files left" "$files ($in_files packets, $bad_files unreadable)" \
  "RSS samples" "${#RSS_KIB[@]} every ${SAMPLE_SECONDS}s: ${RSS_KIB[*]} KiB" \
  "RSS (after ${WARMUP}s)" "first ${first:-?} min ${min:-?} max ${max:-?} last ${last:-?} KiB" \
  "RSS flat" "$flat (last <= first + 1024 KiB)"

# One plain file holds every packet captured; rotation keeps only the newest.
file_ok=1
[[ -n $ROTATE || $in_files -eq $captured ]] || file_ok=0
((wgcap_status == 0 && unexplained == 0 && bad_files == 0 && file_ok)) && [[ $flat == yes ]]
