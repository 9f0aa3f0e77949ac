#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
#
# WireGuard test network for wgcap (SPEC section 8).
#
#   scripts/testbed.sh up       build it (tears down any previous one first)
#   scripts/testbed.sh down     remove everything, also after a half-failed up
#   scripts/testbed.sh status   print what exists; exit 0 only if complete
#   scripts/testbed.sh env      print shell assignments: eval "$(... env)"
#
# Layout: namespaces A and B joined by a veth pair (underlay 192.0.2.1/.2),
# and a WireGuard tunnel over it (198.51.100.1/.2, 2001:db8:100::1/::2).
# With WGCAP_NS_C and WGCAP_IF_C set, a third namespace C joins as a second
# peer of A (underlay 192.0.2.17/.18 on a veth pair of its own, tunnel
# 198.51.100.3 and 2001:db8:100::3): A is then a server with two peers whose
# allowed-ips differ, B and C each know only A. Only documentation addresses
# are used and all traffic stays in the namespaces. The kernel's WireGuard is used where the module exists,
# otherwise wireguard-go on TUN (WGCAP_WG_IMPL=auto|kernel|go forces one).
#
# Names are configurable so parallel testbeds can coexist:
#   WGCAP_NS_A (wgcap-a)  WGCAP_NS_B (wgcap-b)  namespaces
#   WGCAP_IF_A (wgcapa0)  WGCAP_IF_B (wgcapb0)  WireGuard interfaces; they
#     must differ: wireguard-go's control socket /var/run/wireguard/IF.sock
#     lives in the one filesystem that all namespaces share.
#   WGCAP_NS_C, WGCAP_IF_C (both unset)  the third peer, when both are set
#
# `up` and `env` print the peers' public keys (WGCAP_KEY_A, _B, _C) once the
# testbed is up, so tests can name peers by key.
set -euo pipefail

NS_A=${WGCAP_NS_A:-wgcap-a}
NS_B=${WGCAP_NS_B:-wgcap-b}
IF_A=${WGCAP_IF_A:-wgcapa0}
IF_B=${WGCAP_IF_B:-wgcapb0}
NS_C=${WGCAP_NS_C:-}
IF_C=${WGCAP_IF_C:-}
WG_IMPL=${WGCAP_WG_IMPL:-auto}

readonly UL_IF_A=veth-a UL_IF_B=veth-b
readonly UL_ADDR_A=192.0.2.1 UL_ADDR_B=192.0.2.2
readonly PORT_A=51820 PORT_B=51821
readonly ADDR_A=198.51.100.1 ADDR_B=198.51.100.2
readonly ADDR6_A=2001:db8:100::1 ADDR6_B=2001:db8:100::2
# The third peer's underlay is a /28 of its own, so A routes to B and C by
# longest prefix over two veth pairs.
readonly UL_IF_AC=veth-ac UL_IF_C=veth-c
readonly UL_ADDR_AC=192.0.2.17 UL_ADDR_C=192.0.2.18
readonly PORT_C=51822
readonly ADDR_C=198.51.100.3 ADDR6_C=2001:db8:100::3
readonly WG_SOCK_DIR=/var/run/wireguard
readonly STATE_ROOT=/run/wgcap-testbed
STATE_DIR=$STATE_ROOT/$NS_A

log() { printf 'testbed: %s\n' "$*" >&2; }
die() { log "error: $*"; exit 1; }

# Names end up in paths (state dir, control socket) that `down` deletes, so
# anything that could escape those directories is refused before use.
valid_name() { [[ $1 =~ ^[A-Za-z0-9_][A-Za-z0-9_.-]{0,14}$ ]]; }

check_name() { # WHAT VALUE
  valid_name "$2" || die "$1='$2' is not a valid name (1-15 of A-Z a-z 0-9 _ . -)"
}

# `down` and `status` must not fail on a name that `up` would refuse: nothing
# can have been built with it. Such a name is dropped (set empty) and the
# rest is still cleaned up or shown.
drop_invalid_names() {
  local var
  for var in NS_A NS_B IF_A IF_B NS_C IF_C; do
    [[ -n ${!var} ]] || continue
    valid_name "${!var}" && continue
    log "warning: ignoring WGCAP_$var='${!var}': not a name up accepts"
    printf -v "$var" '%s' ""
  done
  if [[ -n $NS_A ]]; then STATE_DIR=$STATE_ROOT/$NS_A; else STATE_DIR=; fi
}

check_names() {
  check_name WGCAP_NS_A "$NS_A"
  check_name WGCAP_NS_B "$NS_B"
  check_name WGCAP_IF_A "$IF_A"
  check_name WGCAP_IF_B "$IF_B"
  [[ $NS_A != "$NS_B" ]] || die "WGCAP_NS_A and WGCAP_NS_B must differ"
  [[ $IF_A != "$IF_B" ]] || die "WGCAP_IF_A and WGCAP_IF_B must differ (shared control socket path)"
  if [[ -n $NS_C || -n $IF_C ]]; then
    check_name WGCAP_NS_C "$NS_C"
    check_name WGCAP_IF_C "$IF_C"
    [[ $NS_C != "$NS_A" && $NS_C != "$NS_B" ]] || die "WGCAP_NS_C must differ from A's and B's"
    [[ $IF_C != "$IF_A" && $IF_C != "$IF_B" ]] || die "WGCAP_IF_C must differ from A's and B's"
  fi
  case $WG_IMPL in auto | kernel | go) ;; *) die "WGCAP_WG_IMPL must be auto, kernel or go" ;; esac
}

# Serialises up/down/status of testbeds: two `up`s racing would each tear
# down the other's half-built namespaces. The lock dies with this process,
# and fd 9 is closed for wireguard-go so the daemon does not inherit it.
take_lock() {
  mkdir -p "$STATE_ROOT"
  chmod 0700 "$STATE_ROOT"
  exec 9<"$STATE_ROOT"
  flock -w 60 9 || die "another testbed.sh holds $STATE_ROOT for over 60 s"
}

ns_exists() { [[ -n $1 && -e /run/netns/$1 ]]; }

# /proc/PID/stat field 22 (start time in clock ticks) tells a recorded PID
# from a later process that reused the number. A zombie (state Z, exited
# but not yet reaped by init) counts as gone.
start_time() { # PID
  local stat rest fields
  stat=$(<"/proc/$1/stat") || return 1
  rest=${stat##*) }
  read -ra fields <<<"$rest"
  [[ ${fields[0]} != Z ]] || return 1
  printf '%s\n' "${fields[19]}"
}

# True if PID FILE still names the wireguard-go that `up` started.
recorded_pid_alive() { # PIDFILE
  local pid started now
  [[ -f $1 ]] || return 1
  read -r pid started <"$1" || return 1
  [[ $pid =~ ^[0-9]+$ ]] || return 1
  now=$(start_time "$pid" 2>/dev/null) || return 1
  [[ $now == "$started" ]] || return 1
  printf '%s\n' "$pid"
}

# Polls up to TENTHS tenths of a second until none of PIDFILEs is alive.
wait_daemons_gone() { # TENTHS PIDFILE...
  local tenths=$1 f alive
  shift
  while ((tenths-- > 0)); do
    alive=0
    for f in "$@"; do
      recorded_pid_alive "$f" >/dev/null && alive=1
    done
    ((alive)) || return 0
    sleep 0.1
  done
  return 1
}

stop_daemons() { # PIDFILE...
  local f pid
  # SIGTERM lets wireguard-go remove its interface and control socket; it
  # takes about 2 s to exit, so both are signalled before waiting.
  for f in "$@"; do
    pid=$(recorded_pid_alive "$f") && kill -TERM "$pid" 2>/dev/null
  done
  if ! wait_daemons_gone 50 "$@"; then
    for f in "$@"; do
      pid=$(recorded_pid_alive "$f") || continue
      log "wireguard-go $pid ignored SIGTERM; sending SIGKILL"
      kill -KILL "$pid" 2>/dev/null || true
    done
    wait_daemons_gone 30 "$@" || log "warning: a wireguard-go outlived SIGKILL"
  fi
  rm -f "$@"
}

# Names recorded by `up` (ns_b, ns_c, if_a, if_b, if_c), so `down` cleans
# what was built even if the environment changed since; only NS_A must stay
# the same.
recorded_ifaces() {
  local f
  if [[ -n $STATE_DIR ]]; then
    for f in "$STATE_DIR/if_a" "$STATE_DIR/if_b" "$STATE_DIR/if_c"; do
      [[ -f $f ]] && cat "$f"
    done
  fi
  printf '%s\n%s\n%s\n' "$IF_A" "$IF_B" "$IF_C"
}

recorded_name() { # FILE: a valid name recorded by `up`, or nothing
  local name=
  [[ -z $STATE_DIR || ! -f $STATE_DIR/$1 ]] || name=$(<"$STATE_DIR/$1")
  valid_name "$name" && printf '%s\n' "$name"
  return 0
}

cmd_down() {
  local ifname ns
  if [[ -n $STATE_DIR && -d $STATE_DIR ]]; then
    stop_daemons "$STATE_DIR/wg-a.pid" "$STATE_DIR/wg-b.pid" "$STATE_DIR/wg-c.pid"
  fi
  local recorded_ns_b recorded_ns_c
  recorded_ns_b=$(recorded_name ns_b)
  recorded_ns_c=$(recorded_name ns_c)
  for ns in "$NS_A" "$NS_B" "$NS_C" "$recorded_ns_b" "$recorded_ns_c"; do
    ns_exists "$ns" || continue
    # Deleting the name does not end a namespace that still has processes;
    # those are not ours to kill, so say so instead.
    local pids
    pids=$(ip netns pids "$ns" 2>/dev/null | tr '\n' ' ')
    [[ -z $pids ]] || log "warning: processes still in $ns (not started by testbed): $pids"
    ip netns delete "$ns"
  done
  # A wireguard-go killed with SIGKILL leaves its socket behind, and a stale
  # socket makes `wg` talk to nothing. Names are validated, so this stays in
  # WG_SOCK_DIR.
  while read -r ifname; do
    [[ -n $ifname ]] || continue
    valid_name "$ifname" || continue
    rm -f "$WG_SOCK_DIR/$ifname.sock"
  done < <(recorded_ifaces | sort -u)
  [[ -z $STATE_DIR ]] || rm -rf "$STATE_DIR"
}

# Probing inside a namespace avoids leaving even a transient device in the
# host namespace; creating the device also loads the module where it exists.
kernel_wireguard_available() {
  if ip -n "$NS_A" link add wgcapprobe0 type wireguard 2>/dev/null; then
    ip -n "$NS_A" link delete wgcapprobe0
    return 0
  fi
  return 1
}

start_wireguard_go() { # NS IFNAME PIDFILE
  local ns=$1 ifname=$2 pidfile=$3 i
  # -f keeps it in the foreground so $! is the daemon itself and `down` can
  # end exactly that PID; setsid detaches it from the caller's terminal.
  # `ip netns exec` and setsid exec, so the PID stays the same throughout.
  WG_I_PREFER_BUGGY_USERSPACE_TO_POLISHED_KMOD=1 \
    setsid ip netns exec "$ns" wireguard-go -f "$ifname" \
    </dev/null >>"$STATE_DIR/wg-$ifname.log" 2>&1 9<&- &
  local pid=$!
  printf '%s %s\n' "$pid" "$(start_time "$pid")" >"$pidfile"
  for ((i = 0; i < 50; i++)); do
    [[ -S $WG_SOCK_DIR/$ifname.sock ]] && ip -n "$ns" link show "$ifname" &>/dev/null && return 0
    recorded_pid_alive "$pidfile" >/dev/null || break
    sleep 0.1
  done
  log "wireguard-go for $ifname in $ns did not come up; its log:"
  # Without the box-drawn banner it prints on every start.
  grep -v '[│┌└]' "$STATE_DIR/wg-$ifname.log" | sed 's/^/  /' >&2 || true
  return 1
}

create_wg_iface() { # NS IFNAME PIDFILE
  if [[ $(<"$STATE_DIR/impl") == kernel ]]; then
    ip -n "$1" link add "$2" type wireguard
  else
    start_wireguard_go "$@"
  fi
}

configure_end() { # NS IFNAME PORT KEY PEERKEY PEER_UL PEER_PORT ADDR ADDR6 PEER_ADDR PEER_ADDR6
  local ns=$1 ifname=$2 port=$3 key=$4 peerkey=$5 peer_ul=$6 peer_port=$7
  local addr=$8 addr6=$9 peer_addr=${10} peer_addr6=${11}
  # No persistent-keepalive: captures should hold only the traffic a test
  # sends, plus the handshake it triggers.
  ip netns exec "$ns" wg set "$ifname" listen-port "$port" private-key "$key" \
    peer "$(<"$peerkey")" endpoint "$peer_ul:$peer_port" \
    allowed-ips "$peer_addr/32,$peer_addr6/128"
  ip -n "$ns" addr add "$addr/24" dev "$ifname"
  # nodad: the address is usable at once instead of after DAD's delay.
  ip -n "$ns" addr add "$addr6/64" dev "$ifname" nodad
  ip -n "$ns" link set "$ifname" up
}

# The first ping also waits for the handshake, so allow a few tries.
ping_through() { # FAMILY_FLAG ADDR
  local i
  for ((i = 0; i < 3; i++)); do
    ip netns exec "$NS_A" ping "$1" -c1 -W2 "$2" >/dev/null && return 0
  done
  return 1
}

build() {
  local ns
  mkdir -m 0700 "$STATE_DIR" # take_lock made STATE_ROOT; down removed this
  printf '%s\n' "$IF_A" >"$STATE_DIR/if_a"
  printf '%s\n' "$IF_B" >"$STATE_DIR/if_b"
  printf '%s\n' "$NS_B" >"$STATE_DIR/ns_b"
  if [[ -n $NS_C ]]; then
    printf '%s\n' "$NS_C" >"$STATE_DIR/ns_c"
    printf '%s\n' "$IF_C" >"$STATE_DIR/if_c"
  fi

  for ns in "$NS_A" "$NS_B" ${NS_C:+"$NS_C"}; do
    ip netns add "$ns"
    ip -n "$ns" link set lo up
    # Before any interface exists, so every later one inherits them: no DAD
    # delay for the tunnel's IPv6 address, and no link-local address, whose
    # router solicitation would otherwise show up in captures after `up`.
    ip netns exec "$ns" sysctl -qw net.ipv6.conf.all.accept_dad=0 \
      net.ipv6.conf.default.accept_dad=0 net.ipv6.conf.default.addr_gen_mode=1
  done

  ip link add "$UL_IF_A" netns "$NS_A" type veth peer name "$UL_IF_B" netns "$NS_B"
  # The underlay needs only IPv4; no link-local chatter on it.
  ip netns exec "$NS_A" sysctl -qw "net.ipv6.conf.$UL_IF_A.disable_ipv6=1"
  ip netns exec "$NS_B" sysctl -qw "net.ipv6.conf.$UL_IF_B.disable_ipv6=1"
  ip -n "$NS_A" addr add "$UL_ADDR_A/24" dev "$UL_IF_A"
  ip -n "$NS_B" addr add "$UL_ADDR_B/24" dev "$UL_IF_B"
  ip -n "$NS_A" link set "$UL_IF_A" up
  ip -n "$NS_B" link set "$UL_IF_B" up
  [[ -z $NS_C ]] || build_underlay_c

  local impl=$WG_IMPL
  if [[ $impl == auto ]]; then
    if kernel_wireguard_available; then impl=kernel; else impl=go; fi
  elif [[ $impl == kernel ]] && ! kernel_wireguard_available; then
    die "WGCAP_WG_IMPL=kernel but this kernel has no WireGuard module"
  fi
  printf '%s\n' "$impl" >"$STATE_DIR/impl"

  (
    umask 077
    wg genkey >"$STATE_DIR/a.key"
    wg genkey >"$STATE_DIR/b.key"
    [[ -z $NS_C ]] || wg genkey >"$STATE_DIR/c.key"
  )
  wg pubkey <"$STATE_DIR/a.key" >"$STATE_DIR/a.pub"
  wg pubkey <"$STATE_DIR/b.key" >"$STATE_DIR/b.pub"
  [[ -z $NS_C ]] || wg pubkey <"$STATE_DIR/c.key" >"$STATE_DIR/c.pub"

  create_wg_iface "$NS_A" "$IF_A" "$STATE_DIR/wg-a.pid"
  create_wg_iface "$NS_B" "$IF_B" "$STATE_DIR/wg-b.pid"
  configure_end "$NS_A" "$IF_A" "$PORT_A" "$STATE_DIR/a.key" "$STATE_DIR/b.pub" \
    "$UL_ADDR_B" "$PORT_B" "$ADDR_A" "$ADDR6_A" "$ADDR_B" "$ADDR6_B"
  configure_end "$NS_B" "$IF_B" "$PORT_B" "$STATE_DIR/b.key" "$STATE_DIR/a.pub" \
    "$UL_ADDR_A" "$PORT_A" "$ADDR_B" "$ADDR6_B" "$ADDR_A" "$ADDR6_A"

  [[ -z $NS_C ]] || build_peer_c

  ping_through -4 "$ADDR_B" || die "no IPv4 ping through the tunnel ($NS_A -> $ADDR_B)"
  ping_through -6 "$ADDR6_B" || die "no IPv6 ping through the tunnel ($NS_A -> $ADDR6_B)"
  if [[ -n $NS_C ]]; then
    ping_through -4 "$ADDR_C" || die "no IPv4 ping through the tunnel ($NS_A -> $ADDR_C)"
    ping_through -6 "$ADDR6_C" || die "no IPv6 ping through the tunnel ($NS_A -> $ADDR6_C)"
  fi
}

build_underlay_c() {
  ip link add "$UL_IF_AC" netns "$NS_A" type veth peer name "$UL_IF_C" netns "$NS_C"
  ip netns exec "$NS_A" sysctl -qw "net.ipv6.conf.$UL_IF_AC.disable_ipv6=1"
  ip netns exec "$NS_C" sysctl -qw "net.ipv6.conf.$UL_IF_C.disable_ipv6=1"
  ip -n "$NS_A" addr add "$UL_ADDR_AC/28" dev "$UL_IF_AC"
  ip -n "$NS_C" addr add "$UL_ADDR_C/28" dev "$UL_IF_C"
  ip -n "$NS_A" link set "$UL_IF_AC" up
  ip -n "$NS_C" link set "$UL_IF_C" up
}

# C's end knows only A; A learns C as its second peer, with allowed-ips of
# its own (so every inner address names exactly one peer).
build_peer_c() {
  create_wg_iface "$NS_C" "$IF_C" "$STATE_DIR/wg-c.pid"
  configure_end "$NS_C" "$IF_C" "$PORT_C" "$STATE_DIR/c.key" "$STATE_DIR/a.pub" \
    "$UL_ADDR_AC" "$PORT_A" "$ADDR_C" "$ADDR6_C" "$ADDR_A" "$ADDR6_A"
  ip netns exec "$NS_A" wg set "$IF_A" peer "$(<"$STATE_DIR/c.pub")" \
    endpoint "$UL_ADDR_C:$PORT_C" allowed-ips "$ADDR_C/32,$ADDR6_C/128"
}

cmd_up() {
  cmd_down
  # Whatever fails inside build() (set -e, die, Ctrl-C), nothing stays
  # behind. A trap rather than `if ! build`, because bash ignores set -e
  # inside a function called as a condition; a second signal is ignored so
  # it cannot cut the cleanup short.
  trap 'trap "" INT TERM; log "up failed; removing what was built"; cmd_down' EXIT
  trap 'exit 130' INT
  trap 'exit 143' TERM
  build
  trap - EXIT INT TERM
  log "up ($(<"$STATE_DIR/impl")): $NS_A/$IF_A $ADDR_A $ADDR6_A <-> $NS_B/$IF_B $ADDR_B $ADDR6_B" \
    "(underlay $UL_ADDR_A:$PORT_A <-> $UL_ADDR_B:$PORT_B)"
  [[ -z $NS_C ]] || log "up: $NS_A/$IF_A <-> $NS_C/$IF_C $ADDR_C $ADDR6_C" \
    "(underlay $UL_ADDR_AC:$PORT_A <-> $UL_ADDR_C:$PORT_C)"
  cmd_env
}

cmd_env() {
  local name end
  for name in NS_A NS_B IF_A IF_B ADDR_A ADDR_B ADDR6_A ADDR6_B UL_ADDR_A UL_ADDR_B; do
    printf 'WGCAP_%s=%q\n' "$name" "${!name}"
  done
  if [[ -n $NS_C ]]; then
    for name in NS_C IF_C ADDR_C ADDR6_C UL_ADDR_C; do
      printf 'WGCAP_%s=%q\n' "$name" "${!name}"
    done
  fi
  # Public keys only: the private ones stay in the state directory.
  for end in a b c; do
    [[ -n $STATE_DIR && -r $STATE_DIR/$end.pub ]] || continue
    printf 'WGCAP_KEY_%s=%q\n' "${end^^}" "$(<"$STATE_DIR/$end.pub")"
  done
}

cmd_status() {
  local complete=0 ns ifname pidfile pid
  printf 'state dir: %s\n' "$([[ -n $STATE_DIR && -d $STATE_DIR ]] && echo "$STATE_DIR" || echo none)"
  [[ -f $STATE_DIR/impl ]] && printf 'implementation: %s\n' "$(<"$STATE_DIR/impl")"
  for ns in "$NS_A" "$NS_B" ${NS_C:+"$NS_C"}; do
    if ns_exists "$ns"; then
      printf 'namespace %s:\n' "$ns"
      ip -n "$ns" -brief addr show | sed 's/^/  /'
    else
      printf 'namespace %s: absent\n' "$ns"
      complete=1
    fi
  done
  for pidfile in "$STATE_DIR/wg-a.pid" "$STATE_DIR/wg-b.pid" "$STATE_DIR/wg-c.pid"; do
    [[ -f $pidfile ]] || continue
    if pid=$(recorded_pid_alive "$pidfile"); then
      printf 'wireguard-go: pid %s running\n' "$pid"
    else
      printf 'wireguard-go: recorded in %s but not running\n' "$pidfile"
      complete=1
    fi
  done
  for ifname in "$IF_A" "$IF_B" "$IF_C"; do
    [[ -n $ifname && -S $WG_SOCK_DIR/$ifname.sock ]] && printf 'control socket: %s\n' "$WG_SOCK_DIR/$ifname.sock"
  done
  if ns_exists "$NS_A" && [[ -n $IF_A ]] && ip -n "$NS_A" link show "$IF_A" &>/dev/null; then
    ip netns exec "$NS_A" wg show "$IF_A" | sed 's/^/  /'
  else
    complete=1
  fi
  ns_exists "$NS_B" && [[ -n $IF_B ]] && ip -n "$NS_B" link show "$IF_B" &>/dev/null || complete=1
  if [[ -n $NS_C ]]; then
    ns_exists "$NS_C" && [[ -n $IF_C ]] && ip -n "$NS_C" link show "$IF_C" &>/dev/null || complete=1
  fi
  return "$complete"
}

usage() {
  echo "usage: $0 up|down|status|env" >&2
  exit 2
}

main() {
  [[ $# -eq 1 ]] || usage
  case $1 in
    env) check_names; cmd_env; return ;;
    up | down | status) ;;
    *) usage ;;
  esac
  [[ $(id -u) -eq 0 ]] || die "needs root (network namespaces)"
  if [[ $1 == up ]]; then check_names; else drop_invalid_names; fi
  take_lock
  "cmd_$1"
}

main "$@"
