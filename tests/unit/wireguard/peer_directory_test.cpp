// SPDX-License-Identifier: Apache-2.0
// PeerDirectory: longest-prefix attribution as WireGuard routes, checked
// against PeerTable's plain linear lookup; interface scoping; direction;
// publishing while readers look up.
#include <gtest/gtest.h>

#include <atomic>
#include <chrono>
#include <random>
#include <string>
#include <thread>

#include "wgcap/matcher.hpp"
#include "wireguard/peer_table.hpp"

namespace wgcap {
namespace {

PeerKey Key(std::uint8_t id) {
  PeerKey k{};
  k.fill(id);
  return k;
}

IpPrefix P(const std::string& text) {
  auto p = IpPrefix::Parse(text);
  EXPECT_TRUE(p) << text;
  return p ? *p : IpPrefix{};
}

const PeerKey* At(const PeerDirectory& d, const char* address, std::uint32_t ifindex = 7) {
  const auto a = IpAddress::Parse(address);
  EXPECT_TRUE(a) << address;
  return d.Lookup(ifindex, a->family, a->bytes.data());
}

TEST(PeerDirectory, LongestPrefixWinsInBothFamilies) {
  PeerDirectory d;
  EXPECT_TRUE(d.Publish(7, {{Key(1), P("198.51.100.0/24")},
                            {Key(2), P("198.51.100.64/26")},
                            {Key(3), P("198.51.100.77/32")},
                            {Key(4), P("2001:db8::/32")},
                            {Key(5), P("2001:db8:1::/127")}}));
  EXPECT_EQ(*At(d, "198.51.100.1"), Key(1));
  EXPECT_EQ(*At(d, "198.51.100.65"), Key(2));
  EXPECT_EQ(*At(d, "198.51.100.77"), Key(3));
  EXPECT_EQ(At(d, "198.51.101.1"), nullptr);
  EXPECT_EQ(*At(d, "2001:db8:2::1"), Key(4));
  EXPECT_EQ(*At(d, "2001:db8:1::1"), Key(5));
  EXPECT_EQ(*At(d, "2001:db8:1::2"), Key(4)); // outside the /127
  EXPECT_EQ(At(d, "2001:db9::1"), nullptr);
  EXPECT_EQ(At(d, "198.51.100.1", 8), nullptr) << "another interface's peers";
}

TEST(PeerDirectory, DefaultRouteCatchesEverythingElse) {
  PeerDirectory d;
  d.Publish(7, {{Key(1), P("0.0.0.0/0")}, {Key(2), P("192.0.2.0/24")}, {Key(3), P("::/0")}});
  EXPECT_EQ(*At(d, "203.0.113.9"), Key(1));
  EXPECT_EQ(*At(d, "192.0.2.9"), Key(2));
  EXPECT_EQ(*At(d, "2001:db8::9"), Key(3));
}

TEST(PeerDirectory, InterfaceZeroAppliesToEveryInterface) {
  PeerDirectory d;
  d.Publish(0, {{Key(1), P("192.0.2.0/24")}});
  d.Publish(7, {{Key(2), P("192.0.2.128/25")}});
  EXPECT_EQ(*At(d, "192.0.2.1", 7), Key(1)) << "falls back to the file's peers";
  EXPECT_EQ(*At(d, "192.0.2.200", 7), Key(2));
  EXPECT_EQ(*At(d, "192.0.2.200", 9), Key(1));
  EXPECT_EQ(*At(d, "192.0.2.200", 0), Key(1));
}

TEST(PeerDirectory, AttributesBySourceInboundAndDestinationOutbound) {
  PeerDirectory d;
  d.Publish(7, {{Key(1), P("192.0.2.0/24")}, {Key(2), P("198.51.100.0/24")}});
  ParsedPacket p;
  p.family = 4;
  const std::uint8_t src[4] = {192, 0, 2, 5}, dst[4] = {198, 51, 100, 5};
  std::copy(src, src + 4, p.src.begin());
  std::copy(dst, dst + 4, p.dst.begin());
  EXPECT_EQ(*d.Attribute(p, Direction::Inbound, 7), Key(1));
  EXPECT_EQ(*d.Attribute(p, Direction::Outbound, 7), Key(2));
  EXPECT_EQ(*d.Attribute(p, Direction::Unknown, 7), Key(1)) << "source first";
  p.src = {};
  EXPECT_EQ(*d.Attribute(p, Direction::Unknown, 7), Key(2)) << "then the destination";
  p.family = 0;
  EXPECT_EQ(d.Attribute(p, Direction::Inbound, 7), nullptr) << "not IP";
}

TEST(PeerDirectory, PublishingTheSameSetChangesNothing) {
  PeerDirectory d;
  EXPECT_EQ(d.version(), 0u);
  EXPECT_FALSE(d.Publish(7, {})) << "nothing to nothing";
  EXPECT_TRUE(d.Publish(7, {{Key(1), P("192.0.2.0/24")}, {Key(2), P("2001:db8::/64")}}));
  const std::uint64_t v = d.version();
  EXPECT_FALSE(d.Publish(7, {{Key(2), P("2001:db8::/64")}, {Key(1), P("192.0.2.0/24")}}))
      << "order does not matter";
  EXPECT_EQ(d.version(), v);
  EXPECT_EQ(d.Routes(7).size(), 2u);
  EXPECT_TRUE(d.Routes(8).empty());
}

TEST(PeerDirectory, KeysStayValidAcrossPublishes) {
  PeerDirectory d;
  d.Publish(7, {{Key(1), P("192.0.2.0/24")}});
  const PeerKey* before = At(d, "192.0.2.1");
  ASSERT_NE(before, nullptr);
  EXPECT_TRUE(d.Publish(7, {}));
  EXPECT_EQ(At(d, "192.0.2.1"), nullptr) << "removed";
  EXPECT_EQ(*before, Key(1)) << "a key handed out earlier is still readable";
  d.Publish(7, {{Key(1), P("192.0.2.0/25")}});
  EXPECT_EQ(At(d, "192.0.2.1"), before) << "one key, one address";
}

// Routes naming no address would make the index cut a prefix past its
// 16-byte key, or a lookup read past a 4-byte IPv4 address: dropped.
TEST(PeerDirectory, DropsRoutesThatNameNoAddress) {
  PeerDirectory d;
  IpPrefix long4 = P("192.0.2.0/32");
  long4.length = 33;
  IpPrefix long6 = P("2001:db8::/128");
  long6.length = 129;
  IpPrefix max6 = P("2001:db8::/128");
  max6.length = 255;
  IpPrefix family5 = P("198.51.100.0/24");
  family5.address.family = 5;
  IpPrefix family0 = P("203.0.113.0/24");
  family0.address.family = 0;
  EXPECT_FALSE(d.Publish(
      7, {{Key(1), long4}, {Key(2), long6}, {Key(3), max6}, {Key(4), family5}, {Key(5), family0}}))
      << "nothing valid: nothing changed";
  EXPECT_TRUE(d.Routes(7).empty());
  EXPECT_TRUE(d.Publish(7, {{Key(1), long4},
                            {Key(6), P("192.0.2.0/24")},
                            {Key(2), long6},
                            {Key(7), P("2001:db8::/127")},
                            {Key(4), family5}}));
  const std::vector<PeerRoute> kept = d.Routes(7);
  ASSERT_EQ(kept.size(), 2u);
  EXPECT_EQ(kept[0].key, Key(6));
  EXPECT_EQ(kept[1].key, Key(7));
  EXPECT_EQ(*At(d, "192.0.2.0"), Key(6));
  EXPECT_EQ(*At(d, "2001:db8::1"), Key(7));
  EXPECT_EQ(At(d, "198.51.100.1"), nullptr) << "family 5 was not read as IPv4";
}

// Publishes of a long-running capture free the snapshots they replace once
// the grace period is over, and lookups keep answering from the newest.
TEST(PeerDirectory, RetiredSnapshotsAreFreedAfterTheGracePeriod) {
  PeerDirectory d(std::chrono::milliseconds(50));
  const std::vector<PeerRoute> a{{Key(1), P("192.0.2.0/24")}};
  const std::vector<PeerRoute> b{{Key(2), P("192.0.2.0/24")}};
  EXPECT_EQ(d.held_snapshots(), 0u);
  for (int i = 0; i < 20; ++i) {
    ASSERT_TRUE(d.Publish(7, i % 2 ? a : b));
  }
  EXPECT_EQ(d.held_snapshots(), 20u) << "within the grace period, readers may still hold them";
  std::this_thread::sleep_for(std::chrono::milliseconds(60));
  ASSERT_TRUE(d.Publish(7, b));
  EXPECT_EQ(d.held_snapshots(), 2u) << "the current one and the one this publish retired";
  EXPECT_EQ(*At(d, "192.0.2.1"), Key(2));

  PeerDirectory now(std::chrono::seconds(0));
  const PeerKey* first = nullptr;
  for (int i = 0; i < 10000; ++i) {
    std::vector<PeerRoute> routes{{Key(static_cast<std::uint8_t>(i % 3)), P("192.0.2.0/24")},
                                  {Key(9), P("2001:db8::/" + std::to_string(64 + i % 64))}};
    ASSERT_TRUE(now.Publish(static_cast<std::uint32_t>(1 + i % 4), std::move(routes)));
    ASSERT_LE(now.held_snapshots(), 1u) << "publish " << i;
    ASSERT_EQ(*now.Lookup(1 + i % 4, 4, IpAddress::Parse("192.0.2.9")->bytes.data()),
              Key(static_cast<std::uint8_t>(i % 3)));
    const PeerKey* key9 = now.Lookup(1 + i % 4, 6, IpAddress::Parse("2001:db8::1")->bytes.data());
    ASSERT_NE(key9, nullptr);
    first = first != nullptr ? first : key9;
    ASSERT_EQ(key9, first) << "a key keeps its one address across freed snapshots";
  }
}

// Random tables and addresses against PeerTable's linear longest match.
TEST(PeerDirectory, AgreesWithLinearLookupOnRandomTables) {
  std::mt19937 rng(22);
  for (int round = 0; round < 200; ++round) {
    wireguard::PeerTable table;
    std::vector<PeerRoute> routes;
    const int peers = 1 + static_cast<int>(rng() % 6);
    for (int i = 0; i < peers; ++i) {
      wireguard::Peer peer;
      peer.public_key = Key(static_cast<std::uint8_t>(i + 1));
      for (int r = static_cast<int>(rng() % 4); r >= 0; --r) {
        IpPrefix prefix;
        prefix.address.family = rng() % 2 ? 4 : 6;
        const unsigned bits = prefix.address.family == 4 ? 32 : 128;
        prefix.length = static_cast<std::uint8_t>(rng() % (bits + 1));
        // Few distinct high bytes, so prefixes overlap and nest.
        for (std::size_t b = 0; b < prefix.address.size(); ++b) {
          prefix.address.bytes[b] = static_cast<std::uint8_t>(b < 2 ? rng() % 2 : rng());
        }
        prefix = *IpPrefix::Parse(prefix.ToString()); // clears host bits
        const bool taken = std::any_of(routes.begin(), routes.end(),
                                       [&](const PeerRoute& x) { return x.prefix == prefix; });
        if (!taken) { // WireGuard gives a prefix to one peer
          peer.allowed_ips.push_back(prefix);
          routes.push_back({peer.public_key, prefix});
        }
      }
      table.peers.push_back(peer);
    }
    PeerDirectory d;
    d.Publish(3, routes);
    for (int probe = 0; probe < 200; ++probe) {
      const std::uint8_t family = rng() % 2 ? 4 : 6;
      std::array<std::uint8_t, 16> addr{};
      for (std::size_t b = 0; b < (family == 4 ? 4u : 16u); ++b) {
        addr[b] = static_cast<std::uint8_t>(b < 2 ? rng() % 2 : rng());
      }
      const wireguard::Peer* want = table.Lookup(family, addr.data());
      const PeerKey* got = d.Lookup(3, family, addr.data());
      ASSERT_EQ(got == nullptr, want == nullptr) << "round " << round;
      if (want != nullptr) {
        EXPECT_EQ(*got, want->public_key) << "round " << round;
      }
    }
  }
}

// A reader sees one set or the other, never a gap between them (TSan, in
// the sanitizer lane, checks the memory order).
TEST(PeerDirectory, LookupsWhilePublishingSeeOneSetOrTheOther) {
  PeerDirectory d;
  const std::vector<PeerRoute> a{{Key(1), P("192.0.2.0/24")}, {Key(1), P("198.51.100.0/24")}};
  const std::vector<PeerRoute> b{{Key(2), P("192.0.2.0/24")}, {Key(2), P("198.51.100.0/24")}};
  d.Publish(7, a);
  std::atomic<bool> stop{false};
  std::thread writer([&] {
    for (int i = 0; i < 2000; ++i) {
      d.Publish(7, i % 2 ? a : b);
    }
    stop = true;
  });
  const auto x = *IpAddress::Parse("192.0.2.1");
  const auto y = *IpAddress::Parse("198.51.100.1");
  int reads = 0;
  while (!stop.load()) {
    for (const auto& address : {x, y}) {
      const PeerKey* k = d.Lookup(7, 4, address.bytes.data());
      ASSERT_NE(k, nullptr) << "a route is never missing in between, read " << reads;
      ASSERT_TRUE(*k == Key(1) || *k == Key(2));
    }
    ++reads;
  }
  writer.join();
}

} // namespace
} // namespace wgcap
