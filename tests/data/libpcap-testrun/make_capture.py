#!/usr/bin/env python3
# SPDX-License-Identifier: Apache-2.0
"""Writes crafted.pcap, the raw-IP capture issue 23's harness filters.

Usage: make_capture.py [--check]

The packets are built from what ip-expressions.txt names: every IPv4/IPv6
address and network in it, with bits flipped at each prefix length it uses
(so each net/mask/CIDR term has packets just inside and just outside), every
port and port-range edge (+-1), the lengths of greater/less/len, and the
index tests' offsets and values; plus, whatever the list says: every IP
protocol libpcap has a keyword for, IPv4 fragments (first and later) and
options, IPv6 extension header chains (hop-by-hop, routing, fragment,
destination options, AH) before TCP/UDP/ICMPv6, all 256 TCP flag bytes,
all ICMP and ICMPv6 types, multicast and broadcast destinations and
Geneve-encapsulated frames. Deterministic: same list, same bytes.

--check runs tcpdump over the written capture for every kept expression and
prints how many match all packets or none (those cannot tell a wrong verdict
from a right one on that side).
"""

import argparse
import ipaddress
import json
import os
import re
import socket
import struct
import subprocess
import sys

HERE = os.path.dirname(os.path.abspath(__file__))
LINKTYPE_RAW = 101

# IP protocol numbers the keywords stand for (libpcap's gencode.c).
PROTOCOLS = [0, 1, 2, 4, 6, 9, 17, 41, 47, 50, 51, 58, 88, 103, 108, 112, 132, 255]
IPV6_EXT = {"hop": 0, "rt": 43, "frag": 44, "dst": 60, "ah": 51}


def read_expressions(path):
    out = []
    with open(path, encoding="utf-8") as f:
        for line in f:
            line = line.rstrip("\n")
            if line.startswith("#"):
                continue
            out.append(json.loads(line) if line.startswith('"') else line)
    return out


def csum(data):
    if len(data) % 2:
        data += b"\0"
    s = sum(struct.unpack("!%dH" % (len(data) // 2), data))
    while s >> 16:
        s = (s & 0xFFFF) + (s >> 16)
    return ~s & 0xFFFF


def ipv4(src, dst, proto, payload, ttl=64, frag=0, flags=0, options=b"", ident=1):
    ihl = 5 + len(options) // 4
    total = ihl * 4 + len(payload)
    hdr = struct.pack("!BBHHHBBH4s4s", 0x40 | ihl, 0, total, ident, (flags << 13) | frag, ttl,
                      proto, 0, src.packed, dst.packed) + options
    hdr = hdr[:10] + struct.pack("!H", csum(hdr)) + hdr[12:]
    return hdr + payload


def ipv6(src, dst, next_header, payload, hlim=64):
    return struct.pack("!IHBB16s16s", 0x60000000, len(payload), next_header, hlim, src.packed,
                       dst.packed) + payload


def ext_header(kind, next_header, more=False):
    if kind == "frag":
        return struct.pack("!BBHI", next_header, 0, 1 if more else 0, 0x1234)
    if kind == "ah":  # length in 4-byte units minus 2: 12-byte ICV-less header + 4
        return struct.pack("!BBHII", next_header, 2, 0, 0x100, 1) + b"\0" * 4
    if kind == "rt":
        return struct.pack("!BBBB", next_header, 0, 0, 0) + b"\0" * 4
    return struct.pack("!BB", next_header, 0) + b"\x01\x04\0\0\0\0"  # PadN


def tcp(sport, dport, flags=0x18, payload=b"", offset_words=5):
    opts = b"\x01" * ((offset_words - 5) * 4)
    return struct.pack("!HHIIBBHHH", sport, dport, 1, 0, offset_words << 4, flags, 8192, 0,
                       0) + opts + payload


def udp(sport, dport, payload=b""):
    return struct.pack("!HHHH", sport, dport, 8 + len(payload), 0) + payload


def sctp(sport, dport, payload=b""):
    return struct.pack("!HHII", sport, dport, 1, 0) + payload


def transport(proto, sport, dport, payload=b""):
    if proto == 6:
        return tcp(sport, dport, payload=payload)
    if proto == 17:
        return udp(sport, dport, payload)
    if proto == 132:
        return sctp(sport, dport, payload)
    return payload


class Harvest:
    """Values the expressions name."""

    def __init__(self, exprs):
        self.v4, self.v6, self.ports, self.lengths = set(), set(), set(), set()
        self.v4_prefixes, self.v6_prefixes = {0, 8, 16, 24, 31}, {0, 3, 16, 32, 64, 112, 127}
        for e in exprs:
            self.take(e)

    def take(self, e):
        for m in re.finditer(r"(?<![\w:.])((?:[0-9a-fA-F]{0,4}:){2,7}[0-9a-fA-F.]*)(?:/(\d+))?", e):
            try:
                self.v6.add(ipaddress.IPv6Address(m.group(1)))
            except ValueError:
                continue
            if m.group(2):
                self.v6_prefixes.add(int(m.group(2)))
        for m in re.finditer(r"(?<![\w:.\[])(\d+(?:\.\d+){1,3})(?:\s*/\s*(\d+))?(?![\w:])", e):
            parts = [int(p) for p in m.group(1).split(".")]
            if any(p > 255 for p in parts):
                continue
            self.v4.add(ipaddress.IPv4Address(bytes(parts + [0] * (4 - len(parts)))))
            if m.group(2):
                self.v4_prefixes.add(int(m.group(2)))
        for m in re.finditer(r"\bmask\s+(\d+(?:\.\d+){0,3})", e):
            parts = [int(p) for p in m.group(1).split(".")] + [0] * 4
            self.v4_prefixes.add(bin(int.from_bytes(bytes(parts[:4]), "big")).count("1"))
        for m in re.finditer(r"\b(?:host|src|dst|net)\s+(0[xX][0-9a-fA-F]+|0[0-7]+|\d{5,})\b", e):
            tok = m.group(1)
            value = int(tok, 16) if tok[:2] in ("0x", "0X") else int(tok, 8) if tok[0] == "0" \
                else int(tok)
            if value < 1 << 32:
                self.v4.add(ipaddress.IPv4Address(value))
        for m in re.finditer(r"\b(?:port|portrange)\s+([\w-]+)", e):
            for tok in re.split(r"-", m.group(1)):
                self.ports.add(self.port(tok))
        for m in re.finditer(r"\b(?:greater|less|len|length)\s*(?:[<>=!]=?)?\s*(\d+)", e):
            self.lengths.add(int(m.group(1)))
        self.ports.discard(None)

    # The service names the list uses, fixed so the capture does not depend
    # on the machine's /etc/services; others are looked up there.
    SERVICES = {"smtp": 25, "domain": 53, "bootps": 67, "bootpc": 68}

    @classmethod
    def port(cls, tok):
        if tok.isdigit():
            return int(tok) if int(tok) < 65536 else None
        if tok in cls.SERVICES:
            return cls.SERVICES[tok]
        try:
            return socket.getservbyname(tok)
        except OSError:
            return None

    def v4_addresses(self):
        out = set()
        for a in self.v4:
            n = int(a)
            out.add(n)
            for p in self.v4_prefixes:
                if p < 32:
                    out.add(n ^ (1 << (31 - p)))
                    out.add(n | ((1 << (32 - p)) - 1))
        return sorted(ipaddress.IPv4Address(n) for n in out)

    def v6_addresses(self):
        out = set()
        for a in self.v6:
            n = int(a)
            out.add(n)
            for p in self.v6_prefixes:
                if p < 128:
                    out.add(n ^ (1 << (127 - p)))
        return sorted(ipaddress.IPv6Address(n) for n in out)


def build(h):
    packets = []
    v4, v6 = h.v4_addresses(), h.v6_addresses()
    o4, o6 = ipaddress.IPv4Address("10.99.0.1"), ipaddress.IPv6Address("2001:db8:99::1")
    ports = sorted({q for p in h.ports for q in (p - 1, p, p + 1) if 0 <= q < 65536} |
                   {0, 22, 80, 443, 1024, 65535})
    protos = (6, 17, 132)

    # Addresses: each as source, destination and both, over TCP/UDP/SCTP/ICMP.
    for i, a in enumerate(v4):
        p = protos[i % 3] if i % 4 else 1
        packets.append(ipv4(a, o4, p, transport(p, 1234, 4321) or b"\x08\0\0\0\0\0\0\0"))
        packets.append(ipv4(o4, a, p, transport(p, 4321, 1234) or b"\0" * 8))
        packets.append(ipv4(a, a, 17, udp(1, 2)))
    for i, a in enumerate(v6):
        p = protos[i % 3] if i % 4 else 58
        packets.append(ipv6(a, o6, p, transport(p, 1234, 4321) or b"\x80\0\0\0\0\0\0\0"))
        packets.append(ipv6(o6, a, p, transport(p, 4321, 1234) or b"\x81\0\0\0\0\0\0\0"))
        packets.append(ipv6(a, a, 6, tcp(1, 2)))
    # Ports: each as source, destination and both, on every port protocol.
    for i, port in enumerate(ports):
        other = 40000 + i
        for p in protos:
            packets.append(ipv4(o4, o4, p, transport(p, port, other)))
            packets.append(ipv4(o4, o4, p, transport(p, other, port)))
            packets.append(ipv6(o6, o6, p, transport(p, port, port)))
        packets.append(ipv6(o6, o6, 17, udp(other, port)))
    # Every protocol number the keywords use, plain and with odd TTLs/payloads.
    for p in PROTOCOLS + [3, 89, 115, 200]:
        packets.append(ipv4(o4, ipaddress.IPv4Address("10.0.0.2"), p,
                            transport(p, 53, 25, b"x" * 20) or bytes(range(40))))
        packets.append(ipv6(o6, ipaddress.IPv6Address("2001:db8::2"), p,
                            transport(p, 25, 53, b"y" * 20) or bytes(range(40))))
    # IPv4 fragments: first (MF, offset 0), middle and last (offset > 0), DF.
    for p in (1, 6, 17, 132):
        body = transport(p, 53, 80, b"z" * 16) or b"\x08\0\0\0" + b"z" * 16
        packets.append(ipv4(o4, o4, p, body, flags=1, frag=0))
        packets.append(ipv4(o4, o4, p, body, flags=1, frag=3))
        packets.append(ipv4(o4, o4, p, body, flags=0, frag=5))
        packets.append(ipv4(o4, o4, p, body, flags=2, frag=0))
    # IPv4 options (IHL 6 and 15) before each transport.
    for opts in (b"\x94\x04\0\0", b"\x01" * 39 + b"\0"):
        for p in (1, 6, 17, 132, 2):
            packets.append(ipv4(o4, o4, p, transport(p, 53, 25) or b"\x08\0\0\0\0\0\0\0",
                                options=opts))
    # IPv6 extension header chains before TCP/UDP/ICMPv6, for protochain.
    chains = [["hop"], ["rt"], ["frag"], ["dst"], ["ah"], ["hop", "dst", "rt"],
              ["hop", "rt", "frag", "dst"], ["dst", "ah"], ["hop", "ah", "dst"]]
    for chain in chains:
        for p in (6, 17, 58, 108, 41):
            payload = transport(p, 53, 25) or b"\x80\0\0\0\0\0\0\0"
            nxt = p
            for kind in reversed(chain):
                payload = ext_header(kind, nxt) + payload
                nxt = IPV6_EXT[kind]
            packets.append(ipv6(o6, o6, nxt, payload))
    # IPv4 AH before UDP/ICMP/IP-in-IP, for "ip protochain".
    for p in (17, 1, 4, 108, 6):
        packets.append(ipv4(o4, o4, 51, ext_header("ah", p) + (transport(p, 7, 9) or b"\0" * 20)))
    # Every TCP flag byte, over IPv4 and (every 8th) IPv6; TTL/byte 8 varies.
    for flags in range(256):
        packets.append(ipv4(o4, o4, 6, tcp(1000, 2000, flags), ttl=flags % 11))
        if flags % 8 == 0:
            packets.append(ipv6(o6, o6, 6, tcp(1000, 2000, flags)))
    # Every ICMP and ICMPv6 type, codes 0 and 1.
    for t in range(256):
        for code in (0, 1) if t < 20 or 128 <= t < 160 else (0,):
            packets.append(ipv4(o4, o4, 1, struct.pack("!BBHI", t, code, 0, 0) + b"p" * 8))
            packets.append(ipv6(o6, o6, 58, struct.pack("!BBHI", t, code, 0, 0) + b"p" * 8))
    # Multicast and broadcast destinations.
    for d in ("224.0.0.1", "239.255.255.250", "255.255.255.255", "0.0.0.0", "10.255.255.255"):
        packets.append(ipv4(o4, ipaddress.IPv4Address(d), 17, udp(5353, 5353)))
    for d in ("ff02::1", "ff05::2", "ff11::1", "ff00::", "fe80::1"):
        packets.append(ipv6(o6, ipaddress.IPv6Address(d), 17, udp(5353, 5353)))
    # Lengths around every length the expressions name.
    for n in sorted(h.lengths | {20, 40, 64}):
        for m in (n - 1, n, n + 1):
            if m >= 28:
                packets.append(ipv4(o4, o4, 17, udp(9, 9, b"L" * (m - 28))))
            if m >= 48:
                packets.append(ipv6(o6, o6, 17, udp(9, 9, b"L" * (m - 48))))
    # Index tests ("proto[0xab] == 0xcd" and friends): the byte set, and not.
    for value in (0xCD, 0xCC):
        tail = b"\0" * 0xAB + bytes([value]) + b"\0" * 4
        for p in (6, 17, 1, 2, 9, 103, 112, 132):
            body = bytearray(transport(p, 53, 53) + b"\0" * 256)
            body[0xAB] = value
            packets.append(ipv4(o4, o4, p, bytes(body)))
        for p in (58, 6, 17, 132, 103, 112):
            body = bytearray(transport(p, 53, 53) + b"\0" * 256)
            body[0xAB] = value
            packets.append(ipv6(o6, o6, p, bytes(body)))
        packets.append(ipv4(o4, o4, 0xFD, tail))
        packets[-1] = packets[-1][:0xAB] + bytes([value]) + packets[-1][0xAC:]
        packets.append(ipv6(o6, o6, 0xFD, tail))
        packets[-1] = packets[-1][:0xAB] + bytes([value]) + packets[-1][0xAC:]
    # VRRP/CARP headers: version/type nibbles, priority 191, CARP field > 0xb000.
    for first, third in ((0x31, 191), (0x21, 100), (0x32, 191), (0x31, 0)):
        for p in (112,):
            body = bytes([first, 1, third, 1]) + b"\0\0\xb0\x01" + b"\0" * 12
            packets.append(ipv4(o4, ipaddress.IPv4Address("224.0.0.18"), p, body, ttl=255))
            packets.append(ipv6(o6, ipaddress.IPv6Address("ff02::12"), p, body))
    # Geneve (UDP 6081) with VNIs 10, 11, 12345, carrying Ethernet/IPv4/TCP.
    for vni in (10, 11, 12345, 99):
        for sport in (22, 23):
            inner_tcp = bytearray(tcp(sport, 80) + b"\0" * 200)
            inner_tcp[0xAB] = 0xCD if vni != 99 else 0
            inner = ipv4(o4, o4, 6, bytes(inner_tcp))
            eth = b"\x02" * 6 + b"\x04" * 6 + b"\x08\x00" + inner
            gnv = struct.pack("!BBHI", 0, 0, 0x6558, vni << 8) + eth
            packets.append(ipv4(o4, o4, 17, udp(50000, 6081, gnv)))
            packets.append(ipv6(o6, o6, 17, udp(50000, 6081, gnv)))
    # Geneve in Geneve, for "geneve and geneve".
    inner = ipv4(o4, o4, 17, udp(50001, 6081, struct.pack("!BBHI", 0, 0, 0x6558, 7 << 8)))
    eth = b"\x02" * 6 + b"\x04" * 6 + b"\x08\x00" + inner
    packets.append(ipv4(o4, o4, 17, udp(50000, 6081, struct.pack("!BBHI", 0, 0, 0x6558, 5 << 8) +
                                        eth)))
    # Neither IPv4 nor IPv6 (version 0, 5, 15) and truncated headers: the
    # "not ip and not ip6" side, and every test's bounds checks.
    for first in (0x00, 0x50, 0xF5):
        packets.append(bytes([first]) + bytes(range(1, 40)))
    full4 = ipv4(o4, o4, 6, tcp(80, 443, 0x12))
    full6 = ipv6(o6, o6, 6, tcp(80, 443, 0x12))
    for cut in (1, 9, 19, 21, 33):
        packets.append(full4[:cut])
    for cut in (1, 7, 39, 41, 55):
        packets.append(full6[:cut])
    return packets


def write_pcap(path, packets):
    with open(path, "wb") as f:
        f.write(struct.pack("<IHHiIII", 0xA1B2C3D4, 2, 4, 0, 0, 65535, LINKTYPE_RAW))
        for i, p in enumerate(packets):
            f.write(struct.pack("<IIII", 1700000000 + i, 0, len(p), len(p)) + p)


def count_records(data):
    n, off = 0, 24
    while off + 16 <= len(data):
        caplen = struct.unpack_from("<I", data, off + 8)[0]
        off += 16 + caplen
        n += 1
    return n


def check(path, exprs, total):
    none, every = [], []
    for e in exprs:
        out = subprocess.run(["tcpdump", "-r", path, "-w", "-", e], capture_output=True,
                             check=True).stdout
        n = count_records(out)
        if n == 0:
            none.append(e)
        elif n == total:
            every.append(e)
    print("%d expressions; match no packet: %d; match every packet: %d" %
          (len(exprs), len(none), len(every)))
    for e in none:
        print("  none: %r" % e)
    for e in every:
        print("  all:  %r" % e)


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--check", action="store_true")
    args = ap.parse_args()
    exprs = read_expressions(os.path.join(HERE, "ip-expressions.txt"))
    packets = build(Harvest(exprs))
    path = os.path.join(HERE, "crafted.pcap")
    write_pcap(path, packets)
    print("%d packets, %d bytes" % (len(packets), os.path.getsize(path)))
    if args.check:
        check(path, exprs, len(packets))


if __name__ == "__main__":
    sys.exit(main())
