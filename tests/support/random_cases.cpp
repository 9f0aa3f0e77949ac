// SPDX-License-Identifier: Apache-2.0
#include "support/random_cases.hpp"

#include "support/relation_cases.hpp"

#include "support/packet_builder.hpp"
#include "wireguard/peer_table.hpp"

namespace wgcap::test {
namespace {

const char* const kV4[] = {"192.0.2.1",    "192.0.2.2",    "192.0.2.130",
                           "198.51.100.1", "198.51.100.2", "203.0.113.9"};
const char* const kV6[] = {"2001:db8::1",     "2001:db8::2",      "2001:db8:100::1",
                           "2001:db8:100::2", "2001:db8:ffff::7", "::ffff:192.0.2.1"};
const std::uint16_t kPorts[] = {22, 53, 80, 443, 1000, 1500, 2000, 5353, 8080, 65535};
const std::uint8_t kExtensions[] = {0, 43, 60, 51, 44};

} // namespace

std::uint16_t RandomCases::Port() {
  return Pick(4) == 0 ? static_cast<std::uint16_t>(1 + Pick(65535))
                      : kPorts[Pick(std::size(kPorts))];
}

std::string RandomCases::Address(int family) {
  return family == 4 ? kV4[Pick(std::size(kV4))] : kV6[Pick(std::size(kV6))];
}

std::vector<std::uint8_t> RandomCases::Packet() {
  if (Pick(25) == 0) {
    std::vector<std::uint8_t> junk(static_cast<std::size_t>(Pick(60)));
    for (auto& b : junk) {
      b = static_cast<std::uint8_t>(Pick(256));
    }
    return junk;
  }
  const int family = Pick(2) == 0 ? 4 : 6;
  PacketBuilder b = family == 4 ? PacketBuilder::Ipv4(Address(4), Address(4))
                                : PacketBuilder::Ipv6(Address(6), Address(6));
  if (family == 4) {
    if (Pick(4) == 0) {
      b.Ipv4Options(static_cast<std::size_t>(4 * Pick(11)));
    }
    if (Pick(5) == 0) {
      b.Ipv4Fragment(static_cast<std::uint16_t>(Pick(3) == 0 ? 0 : 1 + Pick(1000)), Pick(2) == 0);
    }
    if (Pick(30) == 0) {
      b.Ipv4Ihl(static_cast<std::uint8_t>(Pick(16)));
    }
  } else {
    const int n = Pick(3) == 0 ? Pick(11) : 0;
    for (int i = 0; i < n; ++i) {
      const std::uint8_t type = kExtensions[Pick(std::size(kExtensions))];
      if (type == 44) {
        b.Ipv6Fragment(static_cast<std::uint16_t>(Pick(2) == 0 ? 0 : Pick(100)), Pick(2) == 0);
      } else {
        b.Ipv6Extension(type, static_cast<std::uint8_t>(Pick(3)));
      }
    }
  }
  switch (Pick(7)) {
  case 0:
  case 1:
    b.Tcp(Port(), Port());
    break;
  case 2:
  case 3:
    b.Udp(Port(), Port());
    break;
  case 4:
    if (family == 4) {
      b.Icmp(8, 0, 1, 1);
    } else {
      b.Icmp6(128, 0, 1, 1);
    }
    break;
  case 5:
    b.Protocol(132, {static_cast<std::uint8_t>(Pick(256)), static_cast<std::uint8_t>(Pick(256)),
                     static_cast<std::uint8_t>(Pick(256)), static_cast<std::uint8_t>(Pick(256))});
    break;
  default:
    if (Pick(3) == 0) { // AH (IPv4: walked by protochain only), announcing TCP, UDP or AH
      const std::uint8_t next[] = {6, 17, 51, 59};
      b.Protocol(51, {next[Pick(4)],
                      static_cast<std::uint8_t>(Pick(4)),
                      0,
                      0,
                      0,
                      0,
                      0,
                      1,
                      51,
                      0,
                      0,
                      0,
                      0,
                      0,
                      0,
                      0,
                      0,
                      80,
                      0,
                      80});
    } else {
      b.Protocol(static_cast<std::uint8_t>(Pick(256)), {1, 2, 3, 4});
    }
    break;
  }
  b.PayloadSize(static_cast<std::size_t>(Pick(3) == 0 ? Pick(1400) : Pick(64)));
  std::vector<std::uint8_t> bytes = b.Build();
  if (Pick(6) == 0) {
    bytes.resize(static_cast<std::size_t>(Pick(static_cast<int>(bytes.size()) + 1)));
  }
  return bytes;
}

const std::vector<PeerKey>& RandomCases::PeerKeys() {
  // First bytes 0x00, 0x40, 0x80: base64 texts starting "A", "Q", "g".
  static const std::vector<PeerKey> keys = [] {
    std::vector<PeerKey> out;
    for (std::uint8_t head : {0x00, 0x40, 0x80}) {
      PeerKey k{};
      for (std::size_t i = 0; i < k.size(); ++i) {
        k[i] = static_cast<std::uint8_t>(head + i * 37);
      }
      out.push_back(k);
    }
    return out;
  }();
  return keys;
}

std::string RandomCases::PeerTerm() {
  const std::string text = wireguard::KeyToBase64(PeerKeys()[Pick(3)]);
  return "peer " + (Pick(3) == 0 ? text : text.substr(0, 4 + Pick(10)));
}

std::string RandomCases::Term() {
  if (relations_ && Pick(4) == 0) {
    return RelationGenerator([this](int n) { return Pick(n); }).Relation();
  }
  if (peers_ && Pick(6) == 0) {
    return PeerTerm();
  }
  const char* const endpoints[] = {"", "src ", "dst "};
  const std::string e = endpoints[Pick(3)];
  switch (Pick(13)) {
  case 0:
    return e + "host " + Address(Pick(2) == 0 ? 4 : 6);
  case 1: {
    const int family = Pick(2) == 0 ? 4 : 6;
    const std::string address = Address(family);
    const bool mapped = address.rfind("::ffff:", 0) == 0; // its prefix counts the 96 mapping bits
    const int len = family == 4 ? Pick(33) : mapped ? 96 + Pick(33) : Pick(129);
    return e + "net " + address + "/" + std::to_string(len);
  }
  case 2:
    return e + "port " + std::to_string(Port());
  case 3: {
    std::uint16_t a = Port(), c = Port();
    return e + "portrange " + std::to_string(a) + "-" + std::to_string(c);
  }
  case 4:
    return e.empty() ? "tcp" : e + Address(4);
  case 5:
    return Pick(2) == 0 ? "udp" : "icmp";
  case 6:
    return Pick(2) == 0 ? "icmp6" : "ip";
  case 7:
    return "ip6";
  case 8: {
    const int protos[] = {0, 6, 17, 43, 44, 51, 58, 60, 132, 255};
    const char* const kinds[] = {"proto ", "protochain ", "ip protochain ", "ip6 protochain "};
    return kinds[Pick(4)] +
           std::to_string(Pick(3) == 0 ? Pick(256) : protos[Pick(std::size(protos))]);
  }
  case 9:
    return "less " + std::to_string(Pick(1500));
  case 10:
    return "greater " + std::to_string(Pick(1500));
  case 11: {
    // The IP-level forms libpcap's own tests use (issue 23): protocol names
    // beyond tcp/udp, inet_aton address forms, shortened networks, one-port
    // ranges, casts.
    const char* const forms[] = {"igmp",
                                 "igrp",
                                 "pim",
                                 "vrrp",
                                 "carp",
                                 "sctp",
                                 "ah",
                                 "esp",
                                 "sctp port 9",
                                 "ip proto \\tcp",
                                 "protochain \\udp",
                                 "ip multicast",
                                 "ip broadcast",
                                 "ip6 multicast",
                                 "portrange 9",
                                 "net 198.51",
                                 "dst net 203.0.113/24",
                                 "src net 10",
                                 "host 0xc0000201",
                                 "dst 3325256193",
                                 "host 192.0.2.1/32",
                                 "net 192.0.2.0 / 24",
                                 "host 2001:db8::1/128",
                                 "proto 51",
                                 "proto 50"};
    return forms[Pick(std::size(forms))];
  }
  default:
    return "tcp port " + std::to_string(Port());
  }
}

std::string RandomCases::Expression(int depth) {
  if (depth <= 0 || Pick(3) == 0) {
    return Term();
  }
  switch (Pick(5)) {
  case 0:
    return "not " + Expression(depth - 1);
  case 1:
    return "(" + Expression(depth - 1) + " or " + Expression(depth - 1) + ")";
  case 2:
    return Expression(depth - 1) + " and " + Expression(depth - 1);
  case 3:
    return Expression(depth - 1) + " || " + Expression(depth - 1);
  default:
    return "!(" + Expression(depth - 1) + ") " + Expression(depth - 1);
  }
}

} // namespace wgcap::test
