// SPDX-License-Identifier: Apache-2.0
// PeerDirectory (SPEC 10): longest-prefix attribution as WireGuard routes,
// per interface with ifindex 0 as the fallback, the direction rule, and
// publishing while readers hold keys. Checked against PeerTable::Lookup, the
// plain linear reference, on random tables.
#include <gtest/gtest.h>

#include <random>

#include "support/packet_builder.hpp"
#include "wgcap/matcher.hpp"
#include "wireguard/peer_table.hpp"

namespace wgcap {
namespace {

PeerKey Key(std::uint8_t n) {
  PeerKey k{};
  k.fill(n);
  return k;
}

IpPrefix P(const char* text) {
  return *IpPrefix::Parse(text);
}

const PeerKey* At(const PeerDirectory& d, std::uint32_t ifindex, const char* address) {
  const IpAddress a = *IpAddress::Parse(address);
  return d.Lookup(ifindex, a.family, a.bytes.data());
}

TEST(PeerDirectory, LongestPrefixWinsInBothFamilies) {
  PeerDirectory d;
  EXPECT_EQ(d.version(), 0u);
  EXPECT_TRUE(d.Publish(3, {{Key(1), P("192.0.2.0/24")},
                            {Key(2), P("192.0.2.128/25")},
                            {Key(3), P("192.0.2.200/32")},
                            {Key(4), P("0.0.0.0/0")},
                            {Key(5), P("2001:db8::/32")},
                            {Key(6), P("2001:db8:0:1::/64")}}));
  EXPECT_EQ(d.version(), 1u);
  EXPECT_EQ(*At(d, 3, "192.0.2.5"), Key(1));
  EXPECT_EQ(*At(d, 3, "192.0.2.130"), Key(2));
  EXPECT_EQ(*At(d, 3, "192.0.2.200"), Key(3));
  EXPECT_EQ(*At(d, 3, "203.0.113.1"), Key(4)); // the default route
  EXPECT_EQ(*At(d, 3, "2001:db8:0:1::9"), Key(6));
  EXPECT_EQ(*At(d, 3, "2001:db8:ffff::1"), Key(5));
  EXPECT_EQ(At(d, 3, "2001:db9::1"), nullptr);
  EXPECT_EQ(At(d, 4, "192.0.2.5"), nullptr); // another interface's peers
}

TEST(PeerDirectory, InterfaceZeroIsTheFallback) {
  PeerDirectory d;
  d.Publish(0, {{Key(1), P("192.0.2.0/24")}});
  d.Publish(7, {{Key(2), P("192.0.2.0/25")}});
  EXPECT_EQ(*At(d, 7, "192.0.2.5"), Key(2));
  EXPECT_EQ(*At(d, 7, "192.0.2.200"), Key(1)); // not in 7's routes: 0's
  EXPECT_EQ(*At(d, 9, "192.0.2.5"), Key(1));
}

TEST(PeerDirectory, RepublishingTheSameSetChangesNothingAndKeysStayValid) {
  PeerDirectory d;
  d.Publish(3, {{Key(1), P("192.0.2.0/24")}});
  const PeerKey* before = At(d, 3, "192.0.2.1");
  ASSERT_NE(before, nullptr);
  EXPECT_FALSE(d.Publish(3, {{Key(1), P("192.0.2.0/24")}}));
  EXPECT_EQ(d.version(), 1u);
  EXPECT_TRUE(d.Publish(3, {{Key(1), P("198.51.100.0/24")}, {Key(2), P("192.0.2.0/24")}}));
  EXPECT_EQ(d.version(), 2u);
  EXPECT_EQ(*before, Key(1)); // still readable after the set changed
  EXPECT_EQ(*At(d, 3, "192.0.2.1"), Key(2));
  EXPECT_EQ(At(d, 3, "198.51.100.1"), before); // one interned copy per key
  EXPECT_EQ(d.Routes(3).size(), 2u);
  EXPECT_TRUE(d.Publish(3, {}));
  EXPECT_EQ(At(d, 3, "192.0.2.1"), nullptr);
}

TEST(PeerDirectory, AttributeReadsTheSourceInTheDestinationOut) {
  PeerDirectory d;
  d.Publish(0, {{Key(1), P("192.0.2.0/24")}, {Key(2), P("198.51.100.0/24")}});
  const auto bytes = test::PacketBuilder::Ipv4("192.0.2.1", "198.51.100.1").Udp(1, 2).Build();
  const ParsedPacket p = ParsePacket(bytes, static_cast<std::uint32_t>(bytes.size()));
  EXPECT_EQ(*d.Attribute(p, Direction::Inbound, 5), Key(1));
  EXPECT_EQ(*d.Attribute(p, Direction::Outbound, 5), Key(2));
  EXPECT_EQ(*d.Attribute(p, Direction::Unknown, 5), Key(1)); // the source first
  const auto to_peer = test::PacketBuilder::Ipv4("203.0.113.1", "198.51.100.1").Udp(1, 2).Build();
  const ParsedPacket q = ParsePacket(to_peer, static_cast<std::uint32_t>(to_peer.size()));
  EXPECT_EQ(d.Attribute(q, Direction::Inbound, 5), nullptr);
  EXPECT_EQ(*d.Attribute(q, Direction::Unknown, 5), Key(2)); // then the destination
  const std::vector<std::uint8_t> junk = {0x00, 0x01};
  EXPECT_EQ(d.Attribute(ParsePacket(junk, 2), Direction::Inbound, 5), nullptr);
}

// Random tables (nested and overlapping prefixes of every length) and
// random addresses near them: the directory says what the linear
// PeerTable::Lookup says.
TEST(PeerDirectory, AgreesWithTheLinearReference) {
  std::mt19937 rng(2026);
  int hits = 0, misses = 0;
  auto pick = [&](int n) { return std::uniform_int_distribution<int>(0, n - 1)(rng); };
  for (int round = 0; round < 20; ++round) {
    wireguard::PeerTable table;
    std::vector<PeerRoute> routes;
    std::vector<IpAddress> seeds;
    for (int peer = 0; peer < 8; ++peer) {
      wireguard::Peer p;
      p.public_key = Key(static_cast<std::uint8_t>(peer + 1));
      for (int r = 0; r < 4; ++r) {
        IpAddress a = pick(2) == 0 ? IpAddress::V4(192, 0, 2, static_cast<std::uint8_t>(pick(256)))
                                   : *IpAddress::Parse("2001:db8::");
        if (a.family == 6) {
          a.bytes[4] = static_cast<std::uint8_t>(pick(4));
          a.bytes[15] = static_cast<std::uint8_t>(pick(256));
        }
        const int length = a.family == 4 ? 16 + pick(17) : 32 + pick(97);
        IpPrefix prefix{a, static_cast<std::uint8_t>(length)};
        // Host bits clear, as WireGuard holds them.
        for (int bit = length; bit < (a.family == 4 ? 32 : 128); ++bit) {
          prefix.address.bytes[bit / 8] &= static_cast<std::uint8_t>(~(0x80 >> (bit % 8)));
        }
        bool taken = false; // WireGuard gives a prefix to one peer only
        for (const PeerRoute& existing : routes) {
          taken = taken || existing.prefix == prefix;
        }
        if (!taken) {
          p.allowed_ips.push_back(prefix);
          routes.push_back({p.public_key, prefix});
        }
        seeds.push_back(a);
      }
      table.peers.push_back(p);
    }
    PeerDirectory d;
    d.Publish(2, routes);
    for (int i = 0; i < 500; ++i) {
      IpAddress a = seeds[pick(static_cast<int>(seeds.size()))];
      a.bytes[(a.family == 4 ? 3 : 15) - pick(2)] ^= static_cast<std::uint8_t>(1 << pick(8));
      const wireguard::Peer* want = table.Lookup(a);
      const PeerKey* got = d.Lookup(2, a.family, a.bytes.data());
      ASSERT_EQ(got == nullptr, want == nullptr) << a.ToString();
      (got != nullptr ? hits : misses) += 1;
      if (got != nullptr) {
        EXPECT_EQ(*got, want->public_key) << a.ToString();
      }
    }
  }
  EXPECT_GT(hits, 2000); // both answers well represented
  EXPECT_GT(misses, 100);
}

} // namespace
} // namespace wgcap
