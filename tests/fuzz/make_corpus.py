#!/usr/bin/env python3
# SPDX-License-Identifier: Apache-2.0
# Writes the seed corpus under tests/fuzz/corpus/ (committed; rerun only to
# change the seeds): the filter expressions of the unit tests, the packets of
# tests/golden/tools.pcap, and small pcap and pcapng files in every byte
# order and link type the readers know. Seeds named regression-* are crash
# inputs kept by hand and never touched here.
import os
import re
import struct
import sys

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
CORPUS = os.path.join(ROOT, "tests", "fuzz", "corpus")


def write(target, name, data):
    d = os.path.join(CORPUS, target)
    os.makedirs(d, exist_ok=True)
    with open(os.path.join(d, name), "wb") as f:
        f.write(data if isinstance(data, bytes) else data.encode())


def clear(target):
    d = os.path.join(CORPUS, target)
    if os.path.isdir(d):
        for f in os.listdir(d):
            if not f.startswith("regression-"):
                os.remove(os.path.join(d, f))


def c_strings(path, pattern):
    """The C string literals a regex group captures, unescaped."""
    text = open(os.path.join(ROOT, path)).read()
    out = []
    for m in re.finditer(pattern, text):
        out.append(bytes(m.group(1), "utf-8").decode("unicode_escape"))
    return out


def expressions():
    exprs = c_strings("tests/support/verdict_packets.cpp", r'\{"((?:[^"\\]|\\.)*)", ')
    exprs += c_strings("tests/unit/filter/filter_parser_test.cpp", r'(?:Shape|Bad)\{"((?:[^"\\]|\\.)*)"')
    exprs += c_strings("tests/unit/filter/filter_qualifier_test.cpp", r'(?:Same|Bad)\{"((?:[^"\\]|\\.)*)"')
    exprs += c_strings("tests/unit/filter/filter_relation_test.cpp", r'Expect\(\s*"((?:[^"\\]|\\.)*)"')
    exprs += c_strings("tests/unit/filter/filter_relation_test.cpp", r'\{"((?:[^"\\]|\\.)*)", "column')
    exprs += c_strings("tests/unit/filter/filter_relation_test.cpp", r'const std::string e = "((?:[^"\\]|\\.)*)"')
    seen, out = set(), []
    for e in exprs:
        if e not in seen:
            seen.add(e)
            out.append(e)
    return out


def tools_packets():
    d = open(os.path.join(ROOT, "tests", "golden", "tools.pcap"), "rb").read()
    assert struct.unpack("<I", d[:4])[0] == 0xA1B2C3D4 and struct.unpack("<I", d[20:24])[0] == 101
    off, out = 24, []
    while off < len(d):
        sec, usec, cap, orig = struct.unpack("<IIII", d[off:off + 16])
        out.append((sec, usec, orig, d[off + 16:off + 16 + cap]))
        off += 16 + cap
    return out


# --- pcap -----------------------------------------------------------------
def pcap(packets, link_type=101, big=False, nano=False, snaplen=262144):
    e = ">" if big else "<"
    out = struct.pack(e + "IHHiIII", 0xA1B23C4D if nano else 0xA1B2C3D4, 2, 4, 0, 0, snaplen,
                      link_type)
    for sec, frac, orig, data in packets:
        out += struct.pack(e + "IIII", sec, frac * (1000 if nano else 1), len(data), orig) + data
    return out


def with_link(link_type, ip):
    v6 = ip[0] >> 4 == 6
    ethertype = 0x86DD if v6 else 0x0800
    if link_type == 1:  # Ethernet with one 802.1Q tag
        return bytes(6) + bytes([2, 0, 0, 0, 0, 1]) + struct.pack(">HHH", 0x8100, 7, ethertype) + ip
    if link_type == 113:  # Linux cooked v1, outgoing
        return struct.pack(">HHH8sH", 4, 1, 6, bytes(8), ethertype) + ip
    if link_type == 276:  # Linux cooked v2, incoming
        return struct.pack(">HHIHBB8s", ethertype, 0, 3, 1, 0, 6, bytes(8)) + ip
    if link_type == 0:  # BSD loopback, host byte order
        return struct.pack("<I", 30 if v6 else 2) + ip
    return ip


# --- pcapng ---------------------------------------------------------------
def option(e, code, value):
    pad = (4 - len(value) % 4) % 4
    return struct.pack(e + "HH", code, len(value)) + value + bytes(pad)


def block(e, kind, body):
    length = 12 + len(body)
    return struct.pack(e + "II", kind, length) + body + struct.pack(e + "I", length)


def shb(e, options=b""):
    return block(e, 0x0A0D0D0A, struct.pack(e + "IHHq", 0x1A2B3C4D, 1, 0, -1) + options)


def idb(e, link_type, name, tsresol=9, expression=None, snaplen=262144):
    opts = option(e, 2, name.encode()) + option(e, 9, bytes([tsresol]))
    if expression is not None:
        opts += option(e, 11, b"\x00" + expression.encode())
    opts += option(e, 0, b"")
    return block(e, 1, struct.pack(e + "HHI", link_type, 0, snaplen) + opts)


def epb(e, interface, ns, data, orig, flags=None, comments=()):
    pad = (4 - len(data) % 4) % 4
    body = struct.pack(e + "IIIII", interface, ns >> 32, ns & 0xFFFFFFFF, len(data), orig)
    body += data + bytes(pad)
    if flags is not None or comments:
        if flags is not None:
            body += option(e, 2, struct.pack(e + "I", flags))
        for c in comments:
            body += option(e, 1, c.encode())
        body += option(e, 0, b"")
    return block(e, 6, body)


def spb(e, data):
    pad = (4 - len(data) % 4) % 4
    return block(e, 3, struct.pack(e + "I", len(data)) + data + bytes(pad))


def isb(e, interface, ns):
    opts = option(e, 4, struct.pack(e + "Q", 10)) + option(e, 5, struct.pack(e + "Q", 1))
    opts += option(e, 0, b"")
    return block(e, 5, struct.pack(e + "III", interface, ns >> 32, ns & 0xFFFFFFFF) + opts)


def main():
    packets = tools_packets()
    exprs = expressions()
    t0 = packets[0][0] * 10**9

    clear("filter_parser_fuzz")
    for i, e in enumerate(exprs):
        write("filter_parser_fuzz", "expr-%03d" % i, e)

    # "S EXPRESSION [\0 PACKET]" (tests/fuzz/fuzz_check.hpp): the snap-length
    # digit cycles through the table; every fourth seed carries a packet.
    for target, count in (("classic_filter_fuzz", len(exprs)), ("kernel_filter_fuzz", 40)):
        clear(target)
        parseable = [e for e in exprs if "port 99999" not in e][:count]
        for i, e in enumerate(parseable):
            seed = str(i % 8) + e
            if i % 4 == 3:
                seed = seed.encode() + b"\x00" + packets[i % len(packets)][3]
            write(target, "expr-%03d" % i, seed)

    # One control byte (direction, wire-length mode), then the packet.
    clear("packet_text_fuzz")
    for i, (_, _, orig, data) in enumerate(packets):
        write("packet_text_fuzz", "tools-%03d" % i, bytes([i % 3]) + data)
    for i, cut in enumerate((0, 1, 20, 21, 39, 40, 41)):
        write("packet_text_fuzz", "cut-%02d" % i, bytes([0x04 | i % 3]) + packets[i * 7][3][:cut])

    clear("pcap_reader_fuzz")
    few = packets[:4] + [p for p in packets if p[3][0] >> 4 == 6][:1]
    write("pcap_reader_fuzz", "raw-le-micro", pcap(few))
    write("pcap_reader_fuzz", "raw-be-nano", pcap(few, big=True, nano=True))
    for lt, name in ((1, "ethernet-vlan"), (113, "sll"), (276, "sll2"), (0, "null"), (228, "ipv4")):
        linked = [(s, u, o + len(with_link(lt, d)) - len(d), with_link(lt, d)) for s, u, o, d in few]
        write("pcap_reader_fuzz", name, pcap(linked, link_type=lt))
    write("pcap_reader_fuzz", "snaplen-cut", pcap([(s, u, o, d[:40]) for s, u, o, d in few], snaplen=40))
    write("pcap_reader_fuzz", "truncated-record", pcap(few)[:-7])
    write("pcap_reader_fuzz", "header-only", pcap([]))

    clear("pcapng_reader_fuzz")
    for e, name in (("<", "le"), (">", "be")):
        f = shb(e) + idb(e, 101, "wg0", expression="udp port 53")
        for i, (s, u, o, d) in enumerate(few):
            f += epb(e, 0, s * 10**9 + u * 1000, d, o, flags=1 + i % 2)
        f += isb(e, 0, t0 + 10**9)
        write("pcapng_reader_fuzz", "raw-" + name, f)
    e = "<"
    two = shb(e) + idb(e, 101, "wg0") + idb(e, 1, "eth0", tsresol=6, snaplen=64)
    two += epb(e, 1, t0 // 1000, with_link(1, few[0][3]), few[0][2] + 18)
    two += epb(e, 0, t0, few[1][3], few[1][2], flags=2)
    write("pcapng_reader_fuzz", "two-interfaces", two)
    sections = shb(e) + idb(e, 101, "wg0") + spb(e, few[2][3])
    sections += shb(">") + idb(">", 113, "any", tsresol=0x86) + epb(">", 0, t0 // 10**9 * 64,
                                                                   with_link(113, few[3][3]),
                                                                   few[3][2] + 16)
    write("pcapng_reader_fuzz", "two-sections-spb", sections)
    write("pcapng_reader_fuzz", "truncated-block", two[:-9])
    write("pcapng_reader_fuzz", "section-header-only", shb(e))
    # SPEC 10's EPB comments (peer=KEY, gso=SEGSxSIZE), well formed and not.
    key = "AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh8="
    wg = shb(e) + idb(e, 101, "wg0")
    for i, comments in enumerate(((f"peer={key}",), ("gso=45x1420", f"peer={key}"),
                                  ("peer=AAEC", "gso=0x5", "gso=1x", "not ours"))):
        s, u, o, d = few[i % len(few)]
        wg += epb(e, 0, s * 10**9 + u * 1000, d, o, flags=1 + i % 2, comments=comments)
    write("pcapng_reader_fuzz", "wireguard-comments", wg)

    # What `wgcap --connect` sends: one Arguments frame (argv after "wgcap",
    # NUL-separated), then perhaps a Stop frame.
    def frame(kind, payload):
        return kind.encode() + bytes(3) + struct.pack("<I", len(payload)) + payload

    clear("serve_request_fuzz")
    requests = (
        ["-i", "wg0", "udp", "port", "53"],
        ["-i", "wg0", "-w", "-", "--pcapng", "-c", "100", "tcp and port 443"],
        ["-i", "wg0", "-vA", "-s", "96", "--duration", "30s", "--mode", "afpacket", "icmp"],
        ["-i", "eth0", "-U", "-B", "8", "--stats", "not", "port", "22"],
        ["-r", "x.pcap", "-d"],
    )
    for i, words in enumerate(requests):
        payload = b"\0".join(w.encode() for w in words)
        write("serve_request_fuzz", "request-%02d" % i,
              frame("A", payload) + (frame("S", b"") if i % 2 else b""))

    total = 0
    for dirpath, _, files in os.walk(CORPUS):
        total += sum(os.path.getsize(os.path.join(dirpath, f)) for f in files)
    print("corpus: %d bytes" % total, file=sys.stderr)


if __name__ == "__main__":
    main()
