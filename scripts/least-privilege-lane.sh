#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
#
# Least-privilege lane (issue 19, README "Kernel matrix"): wgcap --mode bpf
# run as uid 65534 holding only CAP_BPF + CAP_NET_ADMIN captures on a
# WireGuard tunnel and writes exactly the packets its filter selects.
#
#   scripts/least-privilege-lane.sh [--smoke] [--wg auto|kernel|go] WGCAP
#
# For each filter: start wgcap under capsh (uid/gid 65534, CAP_BPF and
# CAP_NET_ADMIN in the effective, permitted, ambient and bounding sets and
# nothing else, checked in /proc/PID/status while it runs), time it from
# start to its "listening on" line (open, verify, attach), send a known mix
# of matching and non-matching packets through the tunnel from namespace A,
# and compare what tcpdump -r reads back with the expected packets, in
# order. Non-matching packets are sent between the matching ones, so a
# filter that lets one through puts it among the first -c N packets.
#
#   udp-port    udp and port 5555                        (--smoke: only this)
#   relation    tcp[((tcp[12:1] & 0xf0) >> 2):4] = 0x47455420  ("GET ")
#   forty-terms 40 primitives joined by "or"
#   peer        peer PREFIX and udp port 5555 (issue 22: the LPM trie; PREFIX
#               the first 6 characters of B's key, A's one peer)
#
# --mode bpf: the afpacket fallback is not taken, so a program the kernel
# refuses fails the filter with wgcap's (the verifier's) words. Before 5.11
# BPF maps are charged to RLIMIT_MEMLOCK, so the limit is raised (as the
# systemd unit's LimitMEMLOCK does) before the capabilities are dropped.
# WireGuard: the kernel's (--wg kernel, the VMs), wireguard-go on TUN (--wg
# go), or auto (scripts/testbed.sh's choice). Exit 0 only if every filter
# loaded, kept bpf and wrote exactly the expected packets.
set -euo pipefail

readonly LANE_UID=65534
# The uid a capture runs as (the peer case may need the UAPI socket's owner).
RUN_UID=$LANE_UID
# CAP_NET_ADMIN is bit 12, CAP_BPF bit 39.
readonly WANT_CAPS=0000008000001000
readonly ADDR_B=198.51.100.2
# Overridable, so lanes run side by side on one host do not collide (the
# wireguard-go sockets are shared by all namespaces: the names must differ).
export WGCAP_NS_A=${WGCAP_NS_A:-wgvmlp-a} WGCAP_NS_B=${WGCAP_NS_B:-wgvmlp-b}
export WGCAP_IF_A=${WGCAP_IF_A:-wgvmlpa0} WGCAP_IF_B=${WGCAP_IF_B:-wgvmlpb0}

SCRIPTS=$(cd "$(dirname "$0")" && pwd)
SMOKE=0 WG=auto WGCAP='' WORK='' SERVER_PID=''
FAILED=0 LOADED=0 RIGHT=0 TOTAL=0 LOAD_TIMES=()

log() { printf 'lane: %s\n' "$*" >&2; }
die() {
  log "error: $*"
  exit 1
}

usage() {
  echo "usage: $0 [--smoke] [--wg auto|kernel|go] WGCAP" >&2
  exit 2
}

cleanup() {
  [[ -z $SERVER_PID ]] || kill "$SERVER_PID" 2>/dev/null || true
  "$SCRIPTS/testbed.sh" down || true
  [[ -z $WORK ]] || rm -rf "$WORK"
}

in_a() { ip netns exec "$WGCAP_NS_A" "$@"; }

# shellcheck disable=SC2016 # the inner shells expand their own arguments
# Traffic from A into the tunnel. bash's /dev/udp sends one datagram per
# write; /dev/tcp to a closed port is a SYN answered by a RST.
udp_to() { # PORT LENGTH
  in_a bash -c 'printf "%*s" "$1" "" >"/dev/udp/$2/$3"' _ "$2" "$ADDR_B" "$1"
}
# shellcheck disable=SC2016 # as above
syn_to() { # PORT
  in_a timeout 3 bash -c 'exec 3<>"/dev/tcp/$1/$2"' _ "$ADDR_B" "$1" 2>/dev/null || true
}
ping_b() { in_a ping -c 1 -W 2 "$ADDR_B" >/dev/null || true; }

# A TCP server in B for the relation: accepts, reads one request, closes.
start_server() { # PORT CONNECTIONS
  local ready=$WORK/server.ready i
  ip netns exec "$WGCAP_NS_B" /usr/bin/python3 -c '
import socket, sys
s = socket.socket()
s.settimeout(20)  # never outlives a capture that did not start
s.bind((sys.argv[1], int(sys.argv[2])))
s.listen(8)
open(sys.argv[4], "w").close()
for _ in range(int(sys.argv[3])):
    c, _ = s.accept()
    c.recv(200)
    c.close()
' "$ADDR_B" "$1" "$2" "$ready" &
  SERVER_PID=$!
  for ((i = 0; i < 50; i++)); do
    [[ -f $ready ]] && return 0
    sleep 0.1
  done
  die "the TCP server in $WGCAP_NS_B did not start"
}

# One request per connection, each waiting for the server's close, so the
# segments go out in this order.
http_requests() { # PORT PAYLOAD...
  in_a /usr/bin/python3 -c '
import socket, sys
for p in sys.argv[3:]:
    c = socket.create_connection((sys.argv[1], int(sys.argv[2])), timeout=5)
    c.sendall(p.encode().decode("unicode_escape").encode())
    c.recv(10)
    c.close()
' "$ADDR_B" "$@"
}

traffic_udp_port() {
  udp_to 5556 21
  udp_to 5555 11
  syn_to 5555
  ping_b
  udp_to 5555 12
  udp_to 5557 22
  udp_to 5555 13
  udp_to 4444 23
  udp_to 5555 14
}

traffic_relation() {
  # "GET / HTTP/1.0\r\n\r\n" is 18 bytes, "GET /ab ..." 20.
  http_requests 8999 'POST / HTTP/1.0\r\n\r\n' 'GET / HTTP/1.0\r\n\r\n' \
    'HEAD / HTTP/1.0\r\n\r\n' 'XGET / HTTP/1.0\r\n\r\n' 'GET /ab HTTP/1.0\r\n\r\n'
}

# 40 primitives of four kinds; the matching packets hit three udp terms.
forty_terms() {
  local i terms=()
  for ((i = 0; i < 40; i++)); do
    case $((i % 4)) in
      0) terms+=("udp dst port $((6000 + i))") ;;
      1) terms+=("tcp dst port $((6000 + i))") ;;
      2) terms+=("host 203.0.113.$i") ;;
      3) terms+=("(udp src port $((6000 + i)) and src host 203.0.113.$i)") ;;
    esac
  done
  local IFS='|'
  printf '%s' "${terms[*]}" | sed 's/|/ or /g'
}

traffic_forty_terms() {
  udp_to 5999 31
  udp_to 6004 31
  udp_to 6001 41
  syn_to 6004
  udp_to 6020 32
  ping_b
  udp_to 6040 42
  udp_to 6036 33
}

# What tcpdump reads back, one "DSTPORT/LENGTH" per packet (ICMP and
# anything without ports shows as "other").
read_back() { # FILE
  tcpdump -nn -r "$1" 2>/dev/null |
    sed -E 's/.* > [0-9.]+\.([0-9]+): .* length ([0-9]+)(:.*)?$/\1\/\2/; t; s/.*/other/' |
    paste -sd' '
}

# Starts wgcap as uid 65534 with CAP_BPF + CAP_NET_ADMIN only, in A.
# Sets CAP_PID; stderr goes to ERR.
start_capture() { # OUT ERR COUNT EXPR
  local out=$1 err=$2 count=$3 expr=$4 others
  # Everything else leaves the bounding set too (the three needed to switch
  # user are dropped from it last).
  others=$(capsh --print | sed -n 's/^Bounding set =//p' | tr ',' '\n' |
    grep -vxE 'cap_bpf|cap_net_admin|cap_setpcap|cap_setuid|cap_setgid' | paste -sd,)
  # shellcheck disable=SC2016 # expanded by the inner shells
  # Not through in_a: a backgrounded function would run in a subshell and
  # $! would be that shell's PID, not wgcap's (every step below execs).
  ip netns exec "$WGCAP_NS_A" bash -c 'ulimit -l "$MEMLOCK" && exec "$@"' _ \
    capsh --drop="$others" --caps='cap_bpf,cap_net_admin+eip cap_setuid,cap_setgid,cap_setpcap+ep' \
    --keep=1 --user="$(id -nu "$RUN_UID")" --addamb=cap_bpf,cap_net_admin \
    --drop=cap_setuid,cap_setgid,cap_setpcap -- -c 'exec "$0" "$@"' \
    "$WGCAP" -i "$WGCAP_IF_A" --mode bpf -c "$count" --duration 20s -w "$out" "$expr" \
    </dev/null >/dev/null 2>"$err" &
  CAP_PID=$!
}

# The capture's process must be wgcap itself, as uid 65534, with exactly
# CAP_BPF + CAP_NET_ADMIN.
check_caps() { # NAME
  local status uid eff prm amb bnd
  status=$(cat "/proc/$CAP_PID/status" 2>/dev/null) || {
    echo "caps: $1: FAIL (wgcap $CAP_PID gone before its capabilities could be read)"
    return 1
  }
  uid=$(awk '/^Uid:/ {print $2 "/" $3}' <<<"$status")
  eff=$(awk '/^CapEff:/ {print $2}' <<<"$status")
  prm=$(awk '/^CapPrm:/ {print $2}' <<<"$status")
  amb=$(awk '/^CapAmb:/ {print $2}' <<<"$status")
  bnd=$(awk '/^CapBnd:/ {print $2}' <<<"$status")
  local line names
  names=$(capsh --decode="$eff" | sed 's/.*=//')
  line="uid $uid CapEff $eff CapPrm $prm CapAmb $amb CapBnd $bnd ($names)"
  if [[ $(cat "/proc/$CAP_PID/comm") == wgcap && $uid == "$RUN_UID/$RUN_UID" &&
    $eff == "$WANT_CAPS" && $prm == "$WANT_CAPS" && $bnd == "$WANT_CAPS" ]]; then
    echo "caps: $1: ok: $line"
  else
    echo "caps: $1: FAIL: $line, comm $(cat "/proc/$CAP_PID/comm")"
    return 1
  fi
}

# Waits for the listening line or wgcap's exit; sets LOAD_S (seconds from
# start to the listening line) and LISTENING (the line, or empty).
wait_listening() { # ERR START_NS
  local i now
  LISTENING='' LOAD_S=-
  for ((i = 0; i < 3000; i++)); do
    if LISTENING=$(grep -m1 'listening on' "$1" 2>/dev/null); then
      now=$(date +%s%N)
      LOAD_S=$(awk -v d=$((now - $2)) 'BEGIN {printf "%.2f", d / 1e9}')
      return 0
    fi
    kill -0 "$CAP_PID" 2>/dev/null || break
    sleep 0.01
  done
  LISTENING=
  return 1
}

# run_filter NAME COUNT EXPR EXPECTED TRAFFIC_FN: one capture and its line.
run_filter() {
  local name=$1 count=$2 expr=$3 expected=$4 traffic=$5
  local out=$WORK/$name.pcap err=$WORK/$name.err start code=0 got=- verdict=PASS reason=
  local begun=$SECONDS
  TOTAL=$((TOTAL + 1))
  start=$(date +%s%N)
  start_capture "$out" "$err" "$count" "$expr"
  if wait_listening "$err" "$start"; then
    LOADED=$((LOADED + 1))
    LOAD_TIMES+=("$name=${LOAD_S}s")
    check_caps "$name" || { verdict=FAIL reason="capabilities"; }
    "$traffic"
  fi
  wait "$CAP_PID" || code=$?
  [[ -f $out ]] && got=$(read_back "$out")
  if [[ -z $LISTENING ]]; then
    verdict=FAIL reason="not loaded (exit $code): $(grep -v '^$' "$err" | head -3 | paste -sd' ')"
  elif [[ $LISTENING != *"(bpf/"* ]]; then
    verdict=FAIL reason="not the bpf backend"
  elif grep -q 'passes every packet' "$err"; then
    # The kernel program fell back to passing everything (the Matcher still
    # decides, so the packets would be right): the filter was not loaded.
    verdict=FAIL reason="kernel filter not exact: $(grep -m1 'passes every packet' "$err")"
  elif [[ $code -ne 0 ]]; then
    verdict=FAIL reason="wgcap exit $code: $(tail -2 "$err" | paste -sd' ')"
  elif [[ $got != "$expected" ]]; then
    verdict=FAIL reason="read back [$got], expected [$expected]"
  else
    [[ $verdict == PASS ]] && RIGHT=$((RIGHT + 1))
  fi
  local n_got=0
  [[ $got == - || -z $got ]] || n_got=$(wc -w <<<"$got")
  echo "lane: $name: $verdict: loaded $([[ -n $LISTENING ]] && echo yes || echo no)," \
    "\"${LISTENING:-no listening line}\", load ${LOAD_S}s, packets expected $count written $n_got, took $((SECONDS - begun))s${reason:+; $reason}"
  if [[ $verdict != PASS ]]; then
    FAILED=1
    # The verifier's words, whole, for the log.
    [[ -n $LISTENING ]] || sed 's/^/  wgcap: /' "$err" | tail -40
  fi
}

relation_filter() {
  local expr='tcp[((tcp[12:1] & 0xf0) >> 2):4] = 0x47455420' msg
  # Relations are new in the parser (issue 21): until it takes them this is
  # a FAIL with the parser's words, not a skip.
  if ! msg=$("$WGCAP" -d "$expr" 2>&1 >/dev/null) || [[ -n $msg ]]; then
    TOTAL=$((TOTAL + 1))
    FAILED=1
    if [[ $msg == *"filter: column"* ]]; then
      echo "lane: relation: FAIL: parser does not support relations yet ($(head -1 <<<"$msg"))"
    else
      echo "lane: relation: FAIL: wgcap -d refused it: $(head -3 <<<"$msg" | paste -sd' ')"
    fi
    return
  fi
  start_server 8999 5
  run_filter relation 2 "$expr" "8999/18 8999/20" traffic_relation
  kill "$SERVER_PID" 2>/dev/null || true
  wait "$SERVER_PID" 2>/dev/null || true
  SERVER_PID=
}

# The kernel's part of `peer`: A's peers are read (UAPI or genl), the term
# resolves, the LPM trie is filled before attaching, and the generated
# lookup finds B for the packets to B. A lookup that missed would select
# nothing: no packet, a FAIL at the duration.
peer_filter() {
  local pub
  pub=$(<"/run/wgcap-testbed/$WGCAP_NS_A/b.pub")
  # Kernel WireGuard answers generic netlink to CAP_NET_ADMIN. wireguard-go's
  # UAPI socket is root's, mode 0700, and wireguard-go exits when anything
  # changes its attributes (an inotify IN_ATTRIB), so it cannot be handed to
  # uid 65534: there the capture runs as its owner, uid 0, still with only
  # CAP_BPF + CAP_NET_ADMIN (no CAP_DAC_OVERRIDE, no CAP_SYS_ADMIN).
  local sock=/var/run/wireguard/$WGCAP_IF_A.sock
  if [[ -S $sock ]]; then
    RUN_UID=0
    chmod 0777 "$WORK" # uid 0 without CAP_DAC_OVERRIDE writes the capture too
  fi
  run_filter peer 4 "peer ${pub:0:6} and udp port 5555" "5555/11 5555/12 5555/13 5555/14" \
    traffic_udp_port
  RUN_UID=$LANE_UID
}

main() {
  while [[ $# -gt 0 ]]; do
    case $1 in
      --smoke) SMOKE=1 ;;
      --wg)
        WG=${2:-}
        shift
        ;;
      -*) usage ;;
      *) WGCAP=$1 ;;
    esac
    shift
  done
  [[ -n $WGCAP ]] || usage
  case $WG in auto | kernel | go) ;; *) usage ;; esac
  [[ -x $WGCAP ]] || die "no executable $WGCAP"
  WGCAP=$(realpath "$WGCAP")
  [[ $(id -u) -eq 0 ]] || die "needs root (namespaces; it drops to uid $LANE_UID itself)"
  local tool
  for tool in capsh tcpdump /usr/bin/python3 wg; do
    command -v "$tool" >/dev/null || die "needs $tool"
  done
  trap cleanup EXIT
  WORK=$(mktemp -d /tmp/wgcap-lane.XXXXXX)
  # uid 65534 writes the captures (wgcap renames a temporary file into place).
  chown "$LANE_UID" "$WORK"
  local begun=$SECONDS
  WGCAP_WG_IMPL=$WG "$SCRIPTS/testbed.sh" up >/dev/null || die "scripts/testbed.sh up failed (--wg $WG)"
  # Unlimited where this root may raise it (it may not in a container
  # without CAP_SYS_RESOURCE: then the hard limit, which 5.11+ ignores).
  MEMLOCK=unlimited
  (ulimit -l unlimited 2>/dev/null) || MEMLOCK=$(ulimit -H -l)
  export MEMLOCK
  echo "lane: kernel $(uname -r), wireguard $(cat "/run/wgcap-testbed/$WGCAP_NS_A/impl")," \
    "uid $LANE_UID with CAP_BPF + CAP_NET_ADMIN, RLIMIT_MEMLOCK $MEMLOCK, testbed up in $((SECONDS - begun))s"

  run_filter udp-port 4 'udp and port 5555' "5555/11 5555/12 5555/13 5555/14" traffic_udp_port
  if ((!SMOKE)); then
    relation_filter
    run_filter forty-terms 3 "$(forty_terms)" "6004/31 6020/32 6036/33" traffic_forty_terms
    peer_filter
  fi
  echo "lane result: $(uname -r): loaded $LOADED/$TOTAL, captured right $RIGHT/$TOTAL," \
    "load ${LOAD_TIMES[*]:-none}: $( ((FAILED)) && echo FAIL || echo PASS)"
  return "$FAILED"
}

main "$@"
