#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
#
# wgcap end to end on a fresh machine: install packages, build, bring up the
# WireGuard testbed (scripts/testbed.sh), send ping, UDP and TCP through the
# tunnel while capturing on the WireGuard interface, then read the capture
# back with wgcap: as text, filtered, and rewritten as pcap for tcpdump.
#
# The live capture runs wgcap in its default mode (`wgcap -i IF -w FILE
# --print`): the text is shown as packets arrive, the file is kept for the
# offline part. The file is pcapng (what -w writes unless the name ends in
# .pcap), so reading it back still tells IN from OUT.
#
# Run as root from anywhere: scripts/demo.sh. Exits non-zero if any step
# fails; the testbed and temp files are removed either way.
set -euo pipefail

repo=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
cd "$repo"

readonly TCP_PORT=8080 UDP_PORT=9999
testbed=$repo/scripts/testbed.sh
tmp=
testbed_up=0
capture_pid=
server_pid=

heading() { printf '\n== %s ==\n' "$*"; }
die() { printf 'demo: error: %s\n' "$*" >&2; exit 1; }

# Ends only what this script started (by PID), then the testbed, then temp
# files, on success and failure alike; the exit status is kept.
cleanup() {
  local status=$?
  local pid
  # A second Ctrl-C or SIGTERM must not cut the cleanup short.
  trap '' INT TERM
  for pid in "$capture_pid" "$server_pid"; do
    [[ -n $pid ]] || continue
    kill -TERM "$pid" 2>/dev/null || true
    wait "$pid" 2>/dev/null || true
  done
  if ((testbed_up)); then
    heading "testbed down"
    "$testbed" down || status=1
  fi
  cd "$repo"
  [[ -z $tmp ]] || rm -rf "$tmp"
  ((status == 0)) || printf '\ndemo: FAILED (exit %d)\n' "$status" >&2
  exit "$status"
}
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

# Echoes a command as one would type it (quoting arguments with spaces),
# so the output reads like a transcript.
echo_command() {
  local arg line='$'
  for arg in "$@"; do
    [[ $arg == *' '* ]] && arg="'$arg'"
    line+=" $arg"
  done
  printf '%s\n' "$line"
}

show() {
  echo_command "$@"
  "$@"
}

# Like show, and keeps a copy of the output in FILE for expect. stderr goes
# through the same pipe so a summary line stays after the packets.
show_to() { # FILE COMMAND...
  local file=$1
  shift
  echo_command "$@"
  "$@" 2>&1 | tee "$file"
}

# Packet lines in FILE: they start with a timestamp, summaries do not.
packet_lines() { grep -c '^[0-9][0-9]:[0-9][0-9]:' "$1" || true; }

# Fails the demo when fewer packets came out than the traffic sent.
expect() { # MIN COUNT WHAT
  (($2 >= $1)) || die "$3: expected at least $1 packets, got $2"
}

[[ $(id -u) -eq 0 ]] || die "run as root (installs packages, creates network namespaces)"

heading "setup (packages)"
scripts/setup.sh

tmp=$(mktemp -d -t wgcap-demo.XXXXXX)

heading "build (log: build/demo-build.log)"
# The log lives in build/ so it survives the demo for a failed build.
mkdir -p build
if ! { cmake -S . -B build -G Ninja -DCMAKE_BUILD_TYPE=RelWithDebInfo &&
  cmake --build build; } >build/demo-build.log 2>&1; then
  tail -n 30 build/demo-build.log >&2
  die "build failed (full log: build/demo-build.log)"
fi
[[ -x build/wgcap ]] || die "build succeeded but build/wgcap is missing"
# On PATH so the commands below read as a user would type them.
PATH=$repo/build:$PATH
wgcap --version

heading "testbed up"
testbed_up=1
# Its stdout repeats the names as assignments; the summary on stderr suffices.
"$testbed" up >/dev/null
eval "$("$testbed" env)"

heading "capture on $WGCAP_IF_A (namespace $WGCAP_NS_A)"
# The capture and the files made from it live in the temp dir; working
# there keeps the commands shown short.
cd "$tmp"
capture=capture.pcapng
ip netns exec "$WGCAP_NS_A" wgcap -i "$WGCAP_IF_A" -w "$capture" --print \
  >live.txt 2>capture.err &
capture_pid=$!
for _ in {1..50}; do
  grep -q 'listening on' capture.err && break
  kill -0 "$capture_pid" 2>/dev/null || { cat capture.err >&2; die "wgcap did not start"; }
  sleep 0.1
done
grep -q 'listening on' capture.err || die "wgcap not listening after 5 s"
cat capture.err
echo "wgcap running as pid $capture_pid"

heading "traffic through the tunnel"
# Listener in namespace B: one TCP exchange and one UDP datagram per family,
# echoed back. perl-base is Essential on Debian, so no extra package; the
# alarm keeps it from outliving a broken demo.
# shellcheck disable=SC2016 # perl code: its $ are perl's
ip netns exec "$WGCAP_NS_B" perl -e '
  use strict; use warnings; use IO::Socket::IP; use IO::Select;
  my ($a4, $a6, $tport, $uport, $ready) = @ARGV;
  alarm 20;
  my $tcp = IO::Socket::IP->new(LocalHost => $a4, LocalPort => $tport,
    Listen => 1, ReuseAddr => 1) or die "tcp listen: $@\n";
  my @udp = map { IO::Socket::IP->new(LocalHost => $_, LocalPort => $uport,
    Proto => "udp") or die "udp bind $_: $@\n" } ($a4, $a6);
  open(my $fh, ">", $ready) or die "$ready: $!\n"; close $fh;
  my $sel = IO::Select->new($tcp, @udp);
  my $left = 3;
  while ($left > 0) {
    for my $s ($sel->can_read) {
      if ($s == $tcp) {
        my $c = $tcp->accept or next;
        my $line = <$c> // ""; print $c "echo: $line"; close $c;
      } else {
        my $peer = $s->recv(my $buf, 2048);
        $s->send("echo: $buf", 0, $peer);
      }
      $left--;
    }
  }' "$WGCAP_ADDR_B" "$WGCAP_ADDR6_B" "$TCP_PORT" "$UDP_PORT" server.ready &
server_pid=$!
for _ in {1..50}; do
  [[ -e server.ready ]] && break
  kill -0 "$server_pid" 2>/dev/null || die "listener in $WGCAP_NS_B did not start"
  sleep 0.1
done
[[ -e server.ready ]] || die "listener in $WGCAP_NS_B not ready after 5 s"

show ip netns exec "$WGCAP_NS_A" ping -c2 -i0.2 -W2 "$WGCAP_ADDR_B"
show ip netns exec "$WGCAP_NS_A" ping -6 -c2 -i0.2 -W2 "$WGCAP_ADDR6_B"
# Clients are bash's /dev/udp and /dev/tcp. The reply is taken with one
# read(2) by dd: bash's read takes a byte per read(2), which on a UDP socket
# drops the rest of the datagram. timeout bounds the wait.
exchange() { # tcp|udp ADDR PORT MESSAGE
  printf '$ %s to %s port %s: "%s"\n' "$1" "$2" "$3" "$4"
  # shellcheck disable=SC2016 # expanded by the inner bash, from its "$@"
  ip netns exec "$WGCAP_NS_A" bash -c '
    exec 3<>"/dev/$1/$2/$3" && printf "%s\n" "$4" >&3 &&
      reply=$(timeout 3 dd bs=2048 count=1 status=none <&3) && [[ -n $reply ]] &&
      printf "  reply: %s\n" "$reply"' \
    exchange "$@" || die "no $1 reply from $2 port $3"
}
exchange udp "$WGCAP_ADDR_B" "$UDP_PORT" "hello over udp"
exchange udp "$WGCAP_ADDR6_B" "$UDP_PORT" "hello over udp6"
exchange tcp "$WGCAP_ADDR_B" "$TCP_PORT" "hello over tcp"
wait "$server_pid" || die "listener in $WGCAP_NS_B failed"
server_pid=

# A short pause lets the last TCP segments (FIN/ACK) arrive before it stops.
sleep 0.3
kill -INT "$capture_pid"
wait "$capture_pid" || die "wgcap failed: $(cat capture.err)"
capture_pid=

heading "wgcap live: what it printed while capturing"
cat live.txt
sed -n '/packets /p' capture.err
expect 18 "$(packet_lines live.txt)" "live capture"

heading "wgcap: all packets"
show_to all.txt wgcap -r "$capture"
expect 18 "$(packet_lines all.txt)" "all packets"
# pcapng recorded each packet's direction; a pcap file would show [?  ...].
expect 1 "$(grep -c '\[IN ' all.txt || true)" "[IN ...] lines read back"
expect 1 "$(grep -c '\[OUT ' all.txt || true)" "[OUT ...] lines read back"
expect 18 "$(grep -c '\[IN \|\[OUT ' all.txt || true)" "packets with a direction"

heading "wgcap: ICMP only"
show_to icmp.txt wgcap -r "$capture" 'icmp or icmp6'
expect 8 "$(packet_lines icmp.txt)" "icmp or icmp6"

heading "wgcap: TCP port $TCP_PORT only"
show_to tcp.txt wgcap -r "$capture" "tcp and port $TCP_PORT"
expect 6 "$(packet_lines tcp.txt)" "tcp and port $TCP_PORT"

heading "wgcap: UDP written to pcap, read back by tcpdump"
show wgcap -r "$capture" -w udp.pcap udp
show_to udp.txt tcpdump -nr udp.pcap
expect 4 "$(grep -c ' UDP, ' udp.txt)" "udp read back by tcpdump"

heading "wgcap: which WireGuard peer (SPEC 10)"
# The live capture attributed each packet to the peer whose allowed-ips
# hold its inner address and recorded it in the pcapng (peer=KEY); -e shows
# the key's first 8 characters, and `peer` selects by any prefix of 4 or more.
peer_b=${WGCAP_KEY_B:0:8}
show_to peer.txt wgcap -r "$capture" -e "peer $peer_b and udp"
expect 4 "$(grep -c " peer $peer_b " peer.txt || true)" "udp packets attributed to peer $peer_b"

heading "done"
echo "demo: OK"
