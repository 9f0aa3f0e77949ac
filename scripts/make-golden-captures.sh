#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
#
# Regenerates tests/golden/tools.pcap: real traffic from real tools through
# the WireGuard testbed (scripts/testbed.sh), captured with tcpdump on the
# tunnel interface of namespace A. The golden text tests read the committed
# pcap; run this only to make a new one.
#
#   scripts/make-golden-captures.sh [OUT.pcap]
#
# With the default output and a built wgcap ($WGCAP, default build/wgcap),
# it also rewrites the expected text beside it (tools.txt, tools-v.txt,
# tools-A-http-icmp.txt, with TZ=UTC), which the test compares byte for
# byte: read that diff line by line against SPEC section 5 and tcpdump's
# view of the same file before committing it.
#
#   ping, ping -6        to 198.51.100.2 and 2001:db8:100::2
#   dig                  to dnsmasq in B (local records under example.test
#                        only: --no-resolv --no-hosts, it never forwards)
#   curl                 to python3 -m http.server in B
#   openssl s_client     to openssl s_server in B (throwaway self-signed
#                        cert), once with SNI and once offering only TLS 1.2
#                        to a TLS 1.3-only server, which answers with an alert
#   ssh                  to dropbear in B (banner exchange and key exchange;
#                        authentication fails, as intended)
#
# The packages needed only here (dnsmasq-base, dropbear-bin, bind9-dnsutils,
# curl, openssl, openssh-client) are deliberately not in scripts/setup.sh:
# the tests need only the committed pcap.
#
# Everything stays inside the two namespaces of a testbed of its own
# (names below, so it never tears down someone else's testbed), and only
# documentation addresses are used. Every process started here is stopped
# by its PID, and the testbed is taken down, on every exit path.
set -euo pipefail
cd "$(dirname "$0")/.."

out=${1:-tests/golden/tools.pcap}
export WGCAP_NS_A=${WGCAP_NS_A:-wgcap-gold-a}
export WGCAP_NS_B=${WGCAP_NS_B:-wgcap-gold-b}
export WGCAP_IF_A=${WGCAP_IF_A:-wggolda0}
export WGCAP_IF_B=${WGCAP_IF_B:-wggoldb0}

log() { printf 'golden: %s\n' "$*" >&2; }
die() {
  log "error: $*"
  exit 1
}

[[ $(id -u) -eq 0 ]] || die "needs root (network namespaces)"
for tool in tcpdump ping dig dnsmasq curl python3 openssl dropbear dropbearkey ssh; do
  command -v "$tool" >/dev/null ||
    die "needs $tool (Debian: dnsmasq-base dropbear-bin bind9-dnsutils curl openssl openssh-client)"
done

work=$(mktemp -d)
pids=()
tcpdump_pid=
testbed_up=0

cleanup() {
  local pid
  if [[ -n $tcpdump_pid ]]; then
    kill -INT "$tcpdump_pid" 2>/dev/null || true
    wait "$tcpdump_pid" 2>/dev/null || true
  fi
  for pid in "${pids[@]}"; do
    kill -TERM "$pid" 2>/dev/null || true
  done
  for pid in "${pids[@]}"; do
    wait "$pid" 2>/dev/null || true
  done
  if ((testbed_up)); then
    scripts/testbed.sh down || true
  fi
  rm -rf "$work"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

scripts/testbed.sh up >/dev/null
testbed_up=1
eval "$(scripts/testbed.sh env)"
in_a() { ip netns exec "$WGCAP_NS_A" "$@"; }
in_b() { ip netns exec "$WGCAP_NS_B" "$@"; }
# Servers are started as `ip netns exec NS CMD &`, not through in_b: `ip`
# execs CMD, so $! is the server's own PID (a function would leave a
# subshell's PID, and killing that would leave the server running).
python=$(python3 -c 'import sys; print(sys.executable)') # past any version-manager shim

# Polls (up to 5 s) until TCP or UDP PORT listens in namespace B.
wait_listening() { # -t|-u PORT
  local i
  for ((i = 0; i < 50; i++)); do
    in_b ss -Hln "$1" "sport = :$2" | grep -q . && return 0
    sleep 0.1
  done
  die "nothing listens on port $2 in $WGCAP_NS_B"
}

# --- servers in B -----------------------------------------------------------
ip netns exec "$WGCAP_NS_B" dnsmasq --keep-in-foreground --conf-file=/dev/null --pid-file= --no-resolv --no-hosts \
  --listen-address="$WGCAP_ADDR_B" --bind-interfaces --port=53 \
  --local=/example.test/ \
  --host-record="wgcap.example.test,$WGCAP_ADDR_B,$WGCAP_ADDR6_B" \
  --cname=www.example.test,wgcap.example.test \
  --mx-host=example.test,mail.example.test,10 \
  --txt-record='example.test,v=wgcap golden' \
  --srv-host=_http._tcp.example.test,wgcap.example.test,8080,0,5 \
  --address=/blocked.example.test/ \
  2>"$work/dnsmasq.log" &
pids+=($!)
wait_listening -u 53

mkdir "$work/www"
printf 'hello from wgcap\n' >"$work/www/index.html"
ip netns exec "$WGCAP_NS_B" "$python" -m http.server 8080 --bind "$WGCAP_ADDR_B" --directory "$work/www" \
  >"$work/http.log" 2>&1 &
pids+=($!)
wait_listening -t 8080

openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -days 1 \
  -subj /CN=wgcap.example.test -keyout "$work/key.pem" -out "$work/cert.pem" 2>/dev/null
ip netns exec "$WGCAP_NS_B" openssl s_server -quiet -accept "$WGCAP_ADDR_B:4433" -cert "$work/cert.pem" \
  -key "$work/key.pem" </dev/null >"$work/tls.log" 2>&1 &
pids+=($!)
ip netns exec "$WGCAP_NS_B" openssl s_server -quiet -tls1_3 -accept "$WGCAP_ADDR_B:4434" -cert "$work/cert.pem" \
  -key "$work/key.pem" </dev/null >"$work/tls13.log" 2>&1 &
pids+=($!)
wait_listening -t 4433
wait_listening -t 4434

dropbearkey -t ed25519 -f "$work/host_key" >/dev/null 2>&1
ip netns exec "$WGCAP_NS_B" dropbear -F -E -s -p "$WGCAP_ADDR_B:22" -r "$work/host_key" -P "$work/dropbear.pid" \
  >"$work/ssh.log" 2>&1 &
pids+=($!)
wait_listening -t 22

# --- the capture --------------------------------------------------------------
ip netns exec "$WGCAP_NS_A" tcpdump -i "$WGCAP_IF_A" -s 0 -U -w "$work/tools.pcap" 2>"$work/tcpdump.log" &
tcpdump_pid=$!
for ((i = 0; i < 50; i++)); do
  grep -qs 'listening on' "$work/tcpdump.log" && break
  sleep 0.1
done

in_a ping -c 2 -i 0.2 "$WGCAP_ADDR_B" >/dev/null
in_a ping -6 -c 1 "$WGCAP_ADDR6_B" >/dev/null
for q in 'wgcap.example.test A' 'wgcap.example.test AAAA' 'www.example.test A' \
  'example.test MX' 'example.test TXT' '_http._tcp.example.test SRV' \
  '-x 198.51.100.2' 'missing.example.test A' 'blocked.example.test A' 'outside.test A'; do
  # shellcheck disable=SC2086 # the query is several words on purpose
  in_a dig +tries=1 +time=2 +nocookie @"$WGCAP_ADDR_B" $q >/dev/null
done
in_a curl -sS -o /dev/null "http://$WGCAP_ADDR_B:8080/"
in_a openssl s_client -connect "$WGCAP_ADDR_B:4433" -servername wgcap.example.test \
  </dev/null >/dev/null 2>&1
in_a openssl s_client -tls1_2 -connect "$WGCAP_ADDR_B:4434" -servername wgcap.example.test \
  </dev/null >/dev/null 2>&1 || true # refused with an alert, as intended
in_a ssh -F /dev/null -o BatchMode=yes -o StrictHostKeyChecking=no \
  -o UserKnownHostsFile=/dev/null -o ConnectTimeout=5 "nobody@$WGCAP_ADDR_B" true \
  </dev/null >/dev/null 2>&1 || true # no credentials: the exchange ends after the banner and kex
sleep 0.5

kill -INT "$tcpdump_pid"
wait "$tcpdump_pid" || true
tcpdump_pid=
mkdir -p "$(dirname "$out")"
cp "$work/tools.pcap" "$out"
log "wrote $out ($(stat -c %s "$out") bytes): $(tail -n 3 "$work/tcpdump.log" | tr '\n' ' ')"

wgcap=${WGCAP:-build/wgcap}
if [[ $out == tests/golden/tools.pcap && -x $wgcap ]]; then
  TZ=UTC "$wgcap" -r "$out" >tests/golden/tools.txt 2>/dev/null
  TZ=UTC "$wgcap" -r "$out" -v >tests/golden/tools-v.txt 2>/dev/null
  TZ=UTC "$wgcap" -r "$out" -A 'tcp port 8080 or icmp' >tests/golden/tools-A-http-icmp.txt \
    2>/dev/null
  log "rewrote tests/golden/tools*.txt with $wgcap: review the diff before committing"
fi
