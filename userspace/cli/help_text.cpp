// SPDX-License-Identifier: Apache-2.0
// `wgcap --help`. docs/wgcap.8 says the same at length; a unit test checks
// that both name every option of the getopt tables in arguments.cpp.
#include "cli/arguments.hpp"

namespace wgcap::cli {

std::string HelpText() {
  return R"(usage: wgcap [-i IFACE | -r FILE] [options] [expression ...]
       wgcap serve --socket PATH [serve options]   (wgcap serve --help)

Captures the packets on an interface (a WireGuard interface shows the
decrypted traffic inside the tunnel), or reads a capture file, keeps those the
filter expression selects and writes them as pcapng, pcap or one line of text
per packet. tcpdump's everyday flags mean what they mean there, and short
ones combine as there: -nnvX, -c5, -s0.

input:
  -i IFACE     capture live on IFACE; IFACE,IFACE,... captures several into
               one output (-e names each packet's); all-wg: every WireGuard
               interface of this network namespace
  -r FILE      read a pcap or pcapng file ("-" = stdin); Ethernet and Linux
               cooked captures are reduced to their IP packets
  -F FILE      read the expression from FILE (# starts a comment; expression
               arguments are then ignored, as in tcpdump)
  --wg-peers FILE
               with -r: the WireGuard peers (the output of `wg show IFACE
               dump`) to attribute packets to and resolve `peer KEY` with;
               without it, a wgcap pcapng's own records attribute
  -Q in|out|inout
               capture only that direction (in the kernel: only that hook
               is attached)
  -p           accepted; an L3 device has no promiscuous mode
  --mode M     capture backend: auto (default: bpf, else afpacket), bpf,
               afpacket
  -B MIB       kernel ring buffer size (default 4)
  -s N         snap length: bytes kept per packet (0 = 65535, at most 262144)
  -c N         stop after N packets written
  --duration D stop after D (30s, 5m, 1h, 250ms)
  -D, --list-interfaces
               list the interfaces, numbered, WireGuard ones marked, and exit
  --connect PATH
               capture through a wgcap serve daemon listening on PATH
               (needs no privileges of its own)
  -Z USER      once attached and the output is open, run as USER keeping
               only what detaching needs (CAP_NET_ADMIN with clsact);
               -w FILE is then USER's and written in place

output:
  -w FILE      write the capture to FILE ("-" = stdout), as pcapng unless
               FILE ends in .pcap; FILE appears only when complete. Without
               -w, text goes to stdout
  --pcapng     write pcapng (direction, interface, filter and loss counts
               recorded); the default for -w
  --pcap       write pcap instead (no direction), as a name ending in .pcap
  --time-stamp-precision micro|nano
               pcap timestamps in microseconds (default) or nanoseconds (the
               a1b23c4d magic; tcpdump and tshark read both); pcapng is
               always ns; nano also prints 9 digits in text
  -C MB        flight recorder: start a new file before one passes MB million
               bytes (names BASE.UTCTIME.SEQ.EXT sort by time)
  -G SECONDS   ... or once a file is SECONDS old
  -W N         ... keeping only the newest N files
  --print      print text to stdout even with -w FILE
  -U           flush the output after every packet
  -l           line-buffered text: every line reaches a pipe at once

text:
  -v, -vv, -vvv
               verbose: TCP seq/ack relative to each flow's first, window
               and options; ttl, IP id and IP length on every line
  -A           after each line, the payload as ASCII (other bytes as .)
  -x, -xx      after each line, the packet in hex
  -X, -XX      after each line, the packet in hex and ASCII
  -t           no time; -tt epoch seconds; -ttt delta to the previous line;
               -tttt date and time; -ttttt delta to the first line
  -e           the interface name before the tag
  -q           short lines: no flags, options or annotations
  -S           absolute TCP sequence numbers
  -#, --number the packet number first on the line
  -n, -nn, -N  accepted; wgcap never resolves names

other:
  --stats      print the final counters as one JSON object on stderr
  -d           print the compiled filters (classic and kernel forms) and exit
  --parity-check
               with -r: run every packet through the Matcher, the classic
               socket filter and the kernel program; print disagreements
               (exit 3 if any)
  -h, --help   this text
  --version    print the version

expression (tcpdump's; "and" binds tighter than "or"; see wgcap(8)):
  [proto] [dir] [kind] ID: tcp dst port 443, src net 198.51.100.0/24,
  host 2001:db8::1, portrange 8000-8080; a bare ID takes the qualifiers of
  the one before it: "port 80 or 443"
  tcp | udp | icmp | icmp6 | ip | ip6 | proto N | less N | greater N
  peer KEY (a WireGuard peer's allowed-ips)
  not / !, and / &&, or / ||, parentheses

examples:
  wgcap -i wg0 -nn -X tcp dst port 443
  wgcap -i wg0 -w cap.pcapng -c 100 icmp or icmp6
  wgcap -i wg0 -Q in -w - | tshark -r -
  wgcap -i wg0 -F filter.txt
  wgcap -r cap.pcapng 'tcp and (port 443 or 80)'
  wgcap -r cap.pcapng -w dns.pcap udp port 53
  wgcap -r cap.pcapng --wg-peers wg0.dump 'peer xTIB and tcp'

signals: SIGINT/SIGTERM stop, finish the output and print the counts;
SIGUSR1 prints the counts and goes on.

exit status: 0 done, 1 runtime failure, 2 usage or filter error, 3 parity
disagreement
)";
}

} // namespace wgcap::cli
