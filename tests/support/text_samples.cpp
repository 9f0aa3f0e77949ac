// SPDX-License-Identifier: Apache-2.0
#include "support/text_samples.hpp"

#include <arpa/inet.h>

#include "support/packet_builder.hpp"

namespace wgcap::test {
namespace {

constexpr const char* kA = "198.51.100.1";
constexpr const char* kB = "198.51.100.2";
constexpr const char* kX = "2001:db8:100::1";
constexpr const char* kY = "2001:db8:100::2";

Bytes Address(int family, const char* text) {
  Bytes out(family == 4 ? 4 : 16);
  inet_pton(family == 4 ? AF_INET : AF_INET6, text, out.data());
  return out;
}

Bytes Text(std::string_view s) {
  return Bytes(s.begin(), s.end());
}

Bytes Pointer(std::uint16_t offset) {
  return {static_cast<std::uint8_t>(0xc0 | offset >> 8), static_cast<std::uint8_t>(offset)};
}

// A DNS message on UDP between A (client, port 40000) and B (server, 53).
Bytes DnsPacket(const Bytes& message, bool response, std::uint16_t port = 53) {
  auto b = response ? PacketBuilder::Ipv4(kB, kA).Udp(port, 40000)
                    : PacketBuilder::Ipv4(kA, kB).Udp(40000, port);
  return b.Payload(message).Build();
}

std::string Len(const Bytes& message) {
  return " (" + std::to_string(message.size()) + ")";
}

// A question for `name` plus one answer record pointing back at it.
Bytes Answer(std::string_view name, std::uint16_t type, const Bytes& rdata,
             std::uint16_t flags = 0x8180) {
  return Concat({DnsHeader(0x1a2b, flags, 1, 1, 0, 0), DnsQuestion(DnsName(name), type),
                 DnsRecord(Pointer(12), type, 300, rdata)});
}

Bytes Tcp(std::uint16_t sport, std::uint16_t dport, const Bytes& payload,
          std::uint8_t flags = 0x18) {
  return PacketBuilder::Ipv4(kA, kB).Tcp(sport, dport, flags, 1000, 1).Payload(payload).Build();
}

Bytes InnerUdpV4() {
  return PacketBuilder::Ipv4(kA, "203.0.113.9").Udp(5000, 53).PayloadSize(4).Build();
}

Bytes InnerUdpV6() {
  return PacketBuilder::Ipv6(kX, "2001:db8::9").Udp(5000, 53).PayloadSize(4).Build();
}

std::vector<TextSample> Build();

} // namespace

const std::vector<TextSample>& TextSamples() {
  static const std::vector<TextSample> samples = Build();
  return samples;
}

namespace {

std::vector<TextSample> Build() {
  std::vector<TextSample> s;
  auto add = [&s](std::string name, Bytes packet, std::string expected, bool verbose = false,
                  bool ascii = false, std::uint32_t captured = 0) {
    s.push_back(
        {std::move(name), std::move(packet), std::move(expected) + "\n", verbose, ascii, captured});
  };
  const std::string ab4 = "198.51.100.1 > 198.51.100.2 ";
  const std::string ba4 = "198.51.100.2 > 198.51.100.1 ";
  const std::string xy6 = "2001:db8:100::1 > 2001:db8:100::2 ";
  const std::string yx6 = "2001:db8:100::2 > 2001:db8:100::1 ";

  // --- TCP ------------------------------------------------------------------
  add("tcp-syn", PacketBuilder::Ipv4(kA, kB).Tcp(40000, 443, 0x02).Build(),
      "[?    TCP] 198.51.100.1:40000 > 198.51.100.2:443 [S] length 0");
  add("tcp-all-flags-in-spec-order", PacketBuilder::Ipv4(kA, kB).Tcp(40000, 443, 0x3f).Build(),
      "[?    TCP] 198.51.100.1:40000 > 198.51.100.2:443 [SFRP.U] length 0");
  add("tcp-no-flags", PacketBuilder::Ipv4(kA, kB).Tcp(40000, 443, 0x00).Build(),
      "[?    TCP] 198.51.100.1:40000 > 198.51.100.2:443 [none] length 0");
  add("tcp-ipv6-payload", PacketBuilder::Ipv6(kX, kY).Tcp(50000, 80, 0x18).Payload("hello").Build(),
      "[?    TCP] [2001:db8:100::1]:50000 > [2001:db8:100::2]:80 [P.] length 5");
  const Bytes syn_options = {2, 4, 0x05, 0xb4, 4, 2, 8, 10, 0, 0, 0, 1, 0, 0, 0, 0, 1, 3, 3, 7};
  add("tcp-verbose-syn-with-options",
      PacketBuilder::Ipv4(kA, kB).Tcp(40000, 443, 0x02, 123456789).TcpOptions(syn_options).Build(),
      "[?    TCP] 198.51.100.1:40000 > 198.51.100.2:443 [S], seq 0, win 64240, options [mss "
      "1460,sackOK,TS val 1 ecr 0,nop,wscale 7], length 0, ttl 64, id 4660, iplen 60",
      true);
  add("tcp-verbose-ack-and-sack-raw-without-the-peer",
      PacketBuilder::Ipv4(kB, kA)
          .Tcp(443, 40000, 0x10, 5000, 7000)
          .TcpOptions({1, 1, 5, 10, 0, 0, 0x1b, 0x58, 0, 0, 0x1f, 0x40})
          .Build(),
      "[?    TCP] 198.51.100.2:443 > 198.51.100.1:40000 [.], seq 0, ack 7000, win 64240, "
      "options [nop,nop,sack 1 {7000:8000}], length 0, ttl 64, id 4660, iplen 52",
      true);
  add("tcp-verbose-payload-seq-range",
      PacketBuilder::Ipv6(kX, kY).Tcp(50000, 9000, 0x18, 77, 5).PayloadSize(10).Build(),
      "[?    TCP] [2001:db8:100::1]:50000 > [2001:db8:100::2]:9000 [P.], seq 0:10, ack 5, win "
      "64240, length 10, ttl 64, id 0, iplen 70",
      true);
  add("tcp-verbose-bad-option",
      PacketBuilder::Ipv4(kA, kB).Tcp(40000, 443, 0x02).TcpOptions({2, 3, 0, 1}).Build(),
      "[?    TCP] 198.51.100.1:40000 > 198.51.100.2:443 [S], seq 0, win 64240, options [[bad "
      "opt]], length 0, ttl 64, id 4660, iplen 44",
      true);
  add("tcp-verbose-unknown-and-named-options",
      PacketBuilder::Ipv4(kA, kB)
          .Tcp(40000, 443, 0x02)
          .TcpOptions({99, 4, 0xab, 0xcd, 34, 2, 30, 4, 0, 0, 0})
          .Build(),
      "[?    TCP] 198.51.100.1:40000 > 198.51.100.2:443 [S], seq 0, win 64240, options "
      "[unknown-99abcd,tfo,mptcp,eol], length 0, ttl 64, id 4660, iplen 52",
      true);
  add("tcp-verbose-options-cut-by-capture",
      PacketBuilder::Ipv4(kA, kB).Tcp(40000, 443, 0x02).TcpOptions(syn_options).Build(),
      "[?    TCP] 198.51.100.1:40000 > 198.51.100.2:443 [S], seq 0, win 64240, options [mss "
      "1460,sackOK,[|tcp]], length 0, ttl 64, id 4660, iplen 60",
      true, false, 46);
  add("tcp-header-cut-by-capture", PacketBuilder::Ipv4(kA, kB).Tcp(40000, 443).Build(),
      "[?    TCP] 198.51.100.1:40000 > 198.51.100.2:443 [|tcp]", false, false, 30);
  Bytes short_header = PacketBuilder::Ipv4(kA, kB).Tcp(40000, 443).Build();
  short_header[20 + 12] = 0x40; // data offset 4 words
  add("tcp-bad-header-length", short_header,
      "[?    TCP] 198.51.100.1:40000 > 198.51.100.2:443 [bad hdr length 16 - too short, < 20]");

  // --- UDP ------------------------------------------------------------------
  add("udp", PacketBuilder::Ipv4(kA, kB).Udp(5000, 9999).PayloadSize(30).Build(),
      "[?    UDP] 198.51.100.1:5000 > 198.51.100.2:9999 length 30");
  add("udp-verbose-ipv6", PacketBuilder::Ipv6(kX, kY).Udp(5000, 9999).PayloadSize(10).Build(),
      "[?    UDP] [2001:db8:100::1]:5000 > [2001:db8:100::2]:9999 length 10, ttl 64, id 0, "
      "iplen 58",
      true);
  add("udp-ports-cut-by-capture", PacketBuilder::Ipv4(kA, kB).Udp(5000, 9999).Build(),
      "[?    UDP] " + ab4 + "[|udp]", false, false, 22);

  // --- DNS ------------------------------------------------------------------
  const Bytes query = Concat(
      {DnsHeader(0x1a2b, 0x0100, 1, 0, 0, 0), DnsQuestion(DnsName("wgcap.example.test"), 1)});
  add("dns-query", DnsPacket(query, false),
      "[?    UDP] 198.51.100.1:40000 > 198.51.100.2:53 1a2b+ A? wgcap.example.test. (36)");
  const Bytes mdns = Concat({DnsHeader(0, 0, 1, 0, 0, 0), DnsQuestion(DnsName("host.local"), 28)});
  add("dns-mdns-query-without-rd", DnsPacket(mdns, false, 5353),
      "[?    UDP] 198.51.100.1:40000 > 198.51.100.2:5353 0000 AAAA? host.local." + Len(mdns));
  const std::string resp = "[?    UDP] 198.51.100.2:53 > 198.51.100.1:40000 ";
  const Bytes a = Answer("wgcap.example.test", 1, Address(4, kB));
  add("dns-answer-a", DnsPacket(a, true), resp + "1a2b 1/0/0 A 198.51.100.2 (52)");
  const Bytes aaaa = Answer("wgcap.example.test", 28, Address(6, kY));
  add("dns-answer-aaaa", DnsPacket(aaaa, true),
      resp + "1a2b 1/0/0 AAAA 2001:db8:100::2" + Len(aaaa));
  const Bytes cname = Answer("www.example.test", 5, DnsName("wgcap.example.test"));
  add("dns-answer-cname", DnsPacket(cname, true),
      resp + "1a2b 1/0/0 CNAME wgcap.example.test." + Len(cname));
  const Bytes ptr = Answer("2.100.51.198.in-addr.arpa", 12, DnsName("wgcap.example.test"));
  add("dns-answer-ptr", DnsPacket(ptr, true),
      resp + "1a2b 1/0/0 PTR wgcap.example.test." + Len(ptr));
  // NS data compressed: "ns1" then a pointer to "example.test" in the question.
  const Bytes ns = Answer("example.test", 2, Concat({{3, 'n', 's', '1'}, Pointer(12)}));
  add("dns-answer-ns-compressed", DnsPacket(ns, true),
      resp + "1a2b 1/0/0 NS ns1.example.test." + Len(ns));
  const Bytes mx = Answer("example.test", 15, Concat({{0, 10}, DnsName("mail.example.test")}));
  add("dns-answer-mx", DnsPacket(mx, true), resp + "1a2b 1/0/0 MX mail.example.test. 10" + Len(mx));
  const Bytes txt = Answer("example.test", 16,
                           Concat({{7}, Text("v=wgcap"), {10}, Text("say \"hi\"\\"), {0x1b}}));
  add("dns-answer-txt-escaped", DnsPacket(txt, true),
      resp + "1a2b 1/0/0 TXT \"v=wgcap\" \"say \\\"hi\\\"\\\\\\027\"" + Len(txt));
  const Bytes srv = Answer("_http._tcp.example.test", 33,
                           Concat({{0, 0, 0, 5, 0x1f, 0x90}, DnsName("wgcap.example.test")}));
  add("dns-answer-srv", DnsPacket(srv, true),
      resp + "1a2b 1/0/0 SRV wgcap.example.test.:8080 0 5" + Len(srv));
  const Bytes soa = Answer("example.test", 6, Bytes(22, 0));
  add("dns-answer-other-type-alone", DnsPacket(soa, true), resp + "1a2b 1/0/0 SOA" + Len(soa));
  const Bytes nodata =
      Concat({DnsHeader(0x1a2b, 0x8180, 1, 0, 1, 0), DnsQuestion(DnsName("example.test"), 28),
              DnsRecord(Pointer(12), 6, 60, Bytes(22, 0))});
  add("dns-no-data", DnsPacket(nodata, true), resp + "1a2b 0/1/0" + Len(nodata));
  const Bytes nx = Concat(
      {DnsHeader(0x1a2b, 0x8183, 1, 0, 0, 0), DnsQuestion(DnsName("missing.example.test"), 1)});
  add("dns-nxdomain", DnsPacket(nx, true), resp + "1a2b 0/0/0 NXDomain" + Len(nx));
  const char* const rcodes[] = {"FormErr",  "ServFail", "NXDomain", "NotImp",  "Refused",
                                "YXDomain", "YXRRSet",  "NXRRSet",  "NotAuth", "NotZone"};
  for (std::uint16_t rcode = 1; rcode <= 10; ++rcode) {
    const Bytes failure =
        Concat({DnsHeader(0x1a2b, static_cast<std::uint16_t>(0x8180 | rcode), 1, 0, 0, 0),
                DnsQuestion(DnsName("example.test"), 1)});
    add(std::string("dns-rcode-") + rcodes[rcode - 1], DnsPacket(failure, true),
        resp + "1a2b 0/0/0 " + rcodes[rcode - 1] + Len(failure));
  }
  const Bytes bogus = Concat(
      {DnsHeader(0x1a2b, 0x8182, 1, 0, 0, 1), DnsQuestion(DnsName("example.test"), 1), DnsOpt(6)});
  add("dns-servfail-with-ede", DnsPacket(bogus, true),
      resp + "1a2b 0/0/1 ServFail EDE=DNSSECBogus" + Len(bogus));
  const Bytes blocked =
      Concat({DnsHeader(0x1a2b, 0x8180, 1, 1, 0, 1), DnsQuestion(DnsName("ads.example.test"), 1),
              DnsRecord(Pointer(12), 1, 60, Bytes(4, 0)), DnsOpt(15)});
  add("dns-answer-with-ede", DnsPacket(blocked, true),
      resp + "1a2b 1/0/1 A 0.0.0.0 EDE=Blocked" + Len(blocked));
  const Bytes badvers = Concat({DnsHeader(0x1a2b, 0x8180, 0, 0, 0, 1), DnsOpt(-1, 1)});
  add("dns-extended-rcode", DnsPacket(badvers, true), resp + "1a2b 0/0/1 BADVERS" + Len(badvers));
  const Bytes odd = Concat({DnsHeader(0x1a2b, 0x818c, 0, 0, 0, 1), DnsOpt(999)});
  add("dns-unknown-rcode-and-ede", DnsPacket(odd, true),
      resp + "1a2b 0/0/1 rcode 12 EDE=999" + Len(odd));
  add("dns-answer-cut-by-capture", DnsPacket(a, true), resp + "1a2b 1/0/0 [|domain]", false, false,
      static_cast<std::uint32_t>(28 + a.size() - 3));
  add("dns-header-cut-by-capture", DnsPacket(query, false),
      "[?    UDP] 198.51.100.1:40000 > 198.51.100.2:53 [|domain]", false, false, 28 + 5);
  const Bytes loop = Concat({DnsHeader(0x1a2b, 0x0100, 1, 0, 0, 0), Pointer(12), {0, 1, 0, 1}});
  add("dns-compression-loop", DnsPacket(loop, false),
      "[?    UDP] 198.51.100.1:40000 > 198.51.100.2:53 1a2b+ [|domain]");
  // A question name whose three 63-byte labels hold a chain of 93 pointers,
  // each two bytes back; the answer's CNAME points at its top. Legal steps
  // all, but more than a name may take.
  Bytes chain_name;
  for (std::size_t label = 0; label < 3; ++label) {
    const std::size_t start = 12 + label * 64;
    chain_name.push_back(63);
    for (std::size_t at = start + 1; at + 1 < start + 64; at += 2) {
      const Bytes to = Pointer(static_cast<std::uint16_t>(at == 13          ? 12
                                                          : at == start + 1 ? at - 4
                                                                            : at - 2));
      chain_name.insert(chain_name.end(), to.begin(), to.end());
    }
    chain_name.push_back(0); // pads the label to 63
  }
  chain_name.push_back(0);
  const Bytes pointer_chain =
      Concat({DnsHeader(0x1a2b, 0x8180, 1, 1, 0, 0), DnsQuestion(chain_name, 5),
              DnsRecord(Pointer(12), 5, 60, Pointer(12 + 2 * 64 + 61))});
  add("dns-pointer-chain-too-long", DnsPacket(pointer_chain, true),
      resp + "1a2b 1/0/0 CNAME [|domain]");
  const Bytes hostile = Concat(
      {DnsHeader(0x1a2b, 0x0100, 1, 0, 0, 0),
       DnsQuestion(Concat({{3, 'a', '.', 'b', 6, 0x1b, '[', '2', 'J', ' ', '\\'}, DnsName("test")}),
                   16)});
  add("dns-name-escaped", DnsPacket(hostile, false),
      "[?    UDP] 198.51.100.1:40000 > 198.51.100.2:53 1a2b+ TXT? a\\.b.\\027[2J\\032\\\\.test." +
          Len(hostile));
  const Bytes update =
      Concat({DnsHeader(0x1a2b, 0x2800, 1, 0, 0, 0), DnsQuestion(DnsName("example.test"), 6)});
  add("dns-opcode-update", DnsPacket(update, false),
      "[?    UDP] 198.51.100.1:40000 > 198.51.100.2:53 1a2b update SOA? example.test." +
          Len(update));
  add("dns-verbose", DnsPacket(a, true),
      resp + "1a2b 1/0/0 A 198.51.100.2 (52), ttl 64, id 4660, iplen 80", true);

  // --- ICMP -----------------------------------------------------------------
  add("icmp-echo-request", PacketBuilder::Ipv4(kA, kB).Icmp(8, 0, 7, 3).PayloadSize(8).Build(),
      "[?   ICMP] " + ab4 + "echo request, id 7, seq 3, length 16");
  add("icmp-echo-reply-verbose", PacketBuilder::Ipv4(kB, kA).Icmp(0, 0, 7, 3).Build(),
      "[?   ICMP] " + ba4 + "echo reply, id 7, seq 3, length 8, ttl 64, id 4660, iplen 28", true);
  const auto unreachable = [&](std::uint8_t code, std::uint16_t mtu = 0) {
    return PacketBuilder::Ipv4(kB, kA).Icmp(3, code, 0, mtu).Payload(InnerUdpV4()).Build();
  };
  add("icmp-port-unreachable", unreachable(3),
      "[?   ICMP] " + ba4 + "203.0.113.9 udp port 53 unreachable, length 40");
  add("icmp-net-unreachable", unreachable(0),
      "[?   ICMP] " + ba4 + "net 203.0.113.9 unreachable, length 40");
  add("icmp-host-unreachable", unreachable(1),
      "[?   ICMP] " + ba4 + "host 203.0.113.9 unreachable, length 40");
  add("icmp-protocol-unreachable", unreachable(2),
      "[?   ICMP] " + ba4 + "203.0.113.9 protocol 17 unreachable, length 40");
  add("icmp-need-to-frag", unreachable(4, 1400),
      "[?   ICMP] " + ba4 + "203.0.113.9 unreachable - need to frag (mtu 1400), length 40");
  add("icmp-admin-prohibited", unreachable(13),
      "[?   ICMP] " + ba4 + "host 203.0.113.9 unreachable - admin prohibited filter, length 40");
  add("icmp-time-exceeded", PacketBuilder::Ipv4(kB, kA).Icmp(11, 0).Payload(InnerUdpV4()).Build(),
      "[?   ICMP] " + ba4 + "time exceeded in-transit, length 40");
  add("icmp-unknown-type", PacketBuilder::Ipv4(kA, kB).Icmp(42, 3).Build(),
      "[?   ICMP] " + ab4 + "type 42, code 3, length 8");
  add("icmp-cut-by-capture", PacketBuilder::Ipv4(kA, kB).Icmp(8, 0, 7, 3).Build(),
      "[?   ICMP] " + ab4 + "[|icmp]", false, false, 22);
  add("icmp-unreachable-without-quote", PacketBuilder::Ipv4(kB, kA).Icmp(3, 3).Build(),
      "[?   ICMP] " + ba4 + "[|icmp]");

  // --- ICMPv6 -----------------------------------------------------------------
  add("icmp6-echo-request", PacketBuilder::Ipv6(kX, kY).Icmp6(128, 0, 7, 1).PayloadSize(8).Build(),
      "[?   ICMP] " + xy6 + "echo request, id 7, seq 1, length 16");
  add("icmp6-port-unreachable",
      PacketBuilder::Ipv6(kY, kX).Icmp6(1, 4).Payload(InnerUdpV6()).Build(),
      "[?   ICMP] " + yx6 +
          "destination unreachable, unreachable port, 2001:db8::9 udp port 53, "
          "length 60");
  add("icmp6-address-unreachable",
      PacketBuilder::Ipv6(kY, kX).Icmp6(1, 3).Payload(InnerUdpV6()).Build(),
      "[?   ICMP] " + yx6 + "destination unreachable, unreachable address 2001:db8::9, length 60");
  add("icmp6-packet-too-big",
      PacketBuilder::Ipv6(kY, kX).Icmp6(2, 0, 0, 1280).Payload(InnerUdpV6()).Build(),
      "[?   ICMP] " + yx6 + "packet too big, mtu 1280, length 60");
  add("icmp6-time-exceeded", PacketBuilder::Ipv6(kY, kX).Icmp6(3, 0).Payload(InnerUdpV6()).Build(),
      "[?   ICMP] " + yx6 + "time exceeded in-transit for 2001:db8::9, length 60");
  add("icmp6-neighbor-solicitation",
      PacketBuilder::Ipv6(kY, "ff02::1:ff00:1").Icmp6(135, 0).Payload(Address(6, kX)).Build(),
      "[?   ICMP] 2001:db8:100::2 > ff02::1:ff00:1 neighbor solicitation, who has "
      "2001:db8:100::1, length 24");
  add("icmp6-neighbor-advertisement",
      PacketBuilder::Ipv6(kX, kY).Icmp6(136, 0, 0x6000).Payload(Address(6, kX)).Build(),
      "[?   ICMP] " + xy6 + "neighbor advertisement, tgt is 2001:db8:100::1, length 24");
  add("icmp6-router-solicitation", PacketBuilder::Ipv6(kX, "ff02::2").Icmp6(133, 0).Build(),
      "[?   ICMP] 2001:db8:100::1 > ff02::2 router solicitation, length 8");
  add("icmp6-router-advertisement",
      PacketBuilder::Ipv6(kY, "ff02::1").Icmp6(134, 0, 0x4000, 1800).PayloadSize(8).Build(),
      "[?   ICMP] 2001:db8:100::2 > ff02::1 router advertisement, length 16");
  add("icmp6-unknown-type", PacketBuilder::Ipv6(kX, kY).Icmp6(200, 3).Build(),
      "[?   ICMP] " + xy6 + "type 200, code 3, length 8");
  add("icmp6-solicitation-without-target", PacketBuilder::Ipv6(kY, kX).Icmp6(135, 0).Build(),
      "[?   ICMP] " + yx6 + "[|icmp6]");

  // --- TCP payload annotations ---------------------------------------------------
  const std::string t22 = "[?    TCP] 198.51.100.1:50000 > 198.51.100.2:22 [P.] length ";
  add("ssh-banner", Tcp(50000, 22, Text("SSH-2.0-OpenSSH_9.2p1 Debian-2+deb12u6\r\n")),
      t22 + "40: SSH-2.0-OpenSSH_9.2p1 Debian-2+deb12u6");
  add("ssh-banner-control-bytes-escaped",
      Tcp(50000, 22, Text("SSH-2.0-evil\x1b]0;pwned\x07\\\r\n")),
      t22 + "25: SSH-2.0-evil\\x1b]0;pwned\\x07\\\\");
  const std::string t443 = "[?    TCP] 198.51.100.1:50000 > 198.51.100.2:443 [P.] length ";
  const Bytes hello = TlsClientHello("wgcap.example.test");
  add("tls-client-hello-sni", Tcp(50000, 443, hello),
      t443 + std::to_string(hello.size()) + ": TLS ClientHello SNI=wgcap.example.test");
  const Bytes plain_hello = TlsClientHello("");
  add("tls-client-hello-without-sni", Tcp(50000, 443, plain_hello),
      t443 + std::to_string(plain_hello.size()) + ": TLS ClientHello");
  add("tls-client-hello-cut-before-sni", Tcp(50000, 443, hello),
      t443 + std::to_string(hello.size()) + ": TLS ClientHello [|tls]", false, false,
      40 + 5 + 4 + 2 + 32 + 33 + 6 + 2 + 2 + 9 + 4);
  const Bytes evil_sni = TlsClientHello("a\x1b[2Jb");
  add("tls-client-hello-sni-escaped", Tcp(50000, 443, evil_sni),
      t443 + std::to_string(evil_sni.size()) + ": TLS ClientHello SNI=a\\x1b[2Jb");
  const std::string from443 = "[?    TCP] 198.51.100.1:443 > 198.51.100.2:50000 [P.] length ";
  add("tls-server-hello", Tcp(443, 50000, TlsServerHello()),
      from443 + std::to_string(TlsServerHello().size()) + ": TLS ServerHello");
  add("tls-alert-fatal", Tcp(443, 50000, TlsAlert(2, 40)),
      from443 + "7: TLS Alert fatal handshake_failure");
  add("tls-alert-warning", Tcp(443, 50000, TlsAlert(1, 0)),
      from443 + "7: TLS Alert warning close_notify");
  add("tls-alert-encrypted", Tcp(443, 50000, Concat({{21, 3, 3, 0, 26}, Bytes(26, 0x5a)})),
      from443 + "31: TLS Alert (encrypted)");
  const std::string t80 = "[?    TCP] 198.51.100.1:50000 > 198.51.100.2:80 [P.] length ";
  add("http-request-line", Tcp(50000, 80, Text("GET /index.html HTTP/1.1\r\nHost: a\r\n\r\n")),
      t80 + "37: GET /index.html HTTP/1.1");
  add("http-status-line",
      Tcp(80, 50000, Text("HTTP/1.1 404 Not Found\r\nContent-Length: 0\r\n\r\n")),
      "[?    TCP] 198.51.100.1:80 > 198.51.100.2:50000 [P.] length 45: HTTP/1.1 404 Not Found");
  add("http-long-request-line", Tcp(50000, 80, Text("GET /" + std::string(300, 'a'))),
      t80 + "305: GET /" + std::string(195, 'a') + "...");
  add("http-verbose-annotation-before-ip-suffix", Tcp(50000, 80, Text("GET / HTTP/1.1\r\n")),
      "[?    TCP] 198.51.100.1:50000 > 198.51.100.2:80 [P.], seq 0:16, ack 1, win 64240, length "
      "16: GET / HTTP/1.1, ttl 64, id 4660, iplen 56",
      true);

  // --- other protocols, fragments, not IP -----------------------------------------
  add("other-protocol",
      PacketBuilder::Ipv4(kA, kB).Protocol(47, {0, 0, 8, 0}).PayloadSize(20).Build(),
      "[?    P47] " + ab4 + "length 24");
  add("other-protocol-verbose-ipv6", PacketBuilder::Ipv6(kX, kY).Build(),
      "[?    P59] " + xy6 + "length 0, ttl 64, id 0, iplen 40", true);
  add("sctp-with-ports",
      PacketBuilder::Ipv4(kA, kB)
          .Protocol(132, {0x03, 0xe8, 0x07, 0xd0, 0, 0, 0, 0, 0, 0, 0, 0})
          .Build(),
      "[?   P132] 198.51.100.1:1000 > 198.51.100.2:2000 length 12");
  add("ipv4-later-fragment",
      PacketBuilder::Ipv4(kA, kB).Udp(5000, 53).PayloadSize(24).Ipv4Fragment(185, false).Build(),
      "[?    UDP] " + ab4 + "length 32 (frag offset 1480)");
  auto chain = PacketBuilder::Ipv6(kX, kY);
  for (int i = 0; i < 9; ++i) {
    chain.Ipv6Extension(60);
  }
  add("ipv6-extension-chain-too-long", chain.Udp(1, 2).Build(), "[?    P60] " + xy6 + "[|ip6]");
  add("not-ip", Bytes(20, 0), "[?      ?] ??? len=20");
  add("ipv4-header-cut-by-capture", PacketBuilder::Ipv4(kA, kB).Udp(1, 2).Build(),
      "[?      ?] ??? len=28", false, false, 10);

  // --- -A ---------------------------------------------------------------------
  add("ascii-http", Tcp(50000, 80, Text("GET / HTTP/1.1\r\nHost: a\r\n\r\n")),
      t80 + "27: GET / HTTP/1.1\nGET / HTTP/1.1\r\nHost: a\r\n\r", false, true);
  add("ascii-control-bytes",
      PacketBuilder::Ipv4(kA, kB)
          .Udp(5000, 9999)
          .Payload(Bytes{'h', 'i', 0x1b, '[', '2', 'J', '\r', 'x', 0, 0xff, '\t', 'y', 0x7f})
          .Build(),
      "[?    UDP] 198.51.100.1:5000 > 198.51.100.2:9999 length 13\nhi.[2J.x..\ty.", false, true);
  add("ascii-no-payload-no-extra-line", PacketBuilder::Ipv4(kA, kB).Tcp(40000, 443).Build(),
      "[?    TCP] 198.51.100.1:40000 > 198.51.100.2:443 [S] length 0", false, true);
  return s;
}

} // namespace
} // namespace wgcap::test
