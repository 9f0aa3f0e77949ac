// SPDX-License-Identifier: Apache-2.0
// `peer KEY` in the generated eBPF (issue 22) under BPF_PROG_TEST_RUN: random
// peer tables (IPv4 and IPv6, overlapping prefixes, routes for every
// interface under ifindex 0, another interface's routes that must never
// count) and random packets on both hooks; the kernel's verdict must be the
// Matcher's with ParsedPacket::peer = PeerDirectory::Attribute(...). And the
// kernel's table follows the directory: additions, moves, deletions.
#include <bpf/bpf.h>
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <arpa/inet.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <random>

#include "capture/bpf/ebpf_filter_runner.hpp"
#include "capture/bpf/peer_map_sync.hpp"
#include "support/packet_builder.hpp"
#include "support/privileges.hpp"
#include "support/random_cases.hpp"
#include "support/relation_builder.hpp"
#include "wgcap/filter_parser.hpp"
#include "wgcap_abi.h"

namespace wgcap {
namespace {

using ::testing::HasSubstr;

// The addresses RandomCases' packets carry, and a few more nearby.
const char* const kV4[] = {"192.0.2.1",    "192.0.2.2",    "192.0.2.130",
                           "198.51.100.1", "198.51.100.2", "203.0.113.9"};
const char* const kV6[] = {"2001:db8::1",     "2001:db8::2",      "2001:db8:100::1",
                           "2001:db8:100::2", "2001:db8:ffff::7", "::ffff:192.0.2.1"};
const int kV4Lengths[] = {0, 8, 16, 24, 25, 30, 31, 32};
const int kV6Lengths[] = {0, 16, 32, 40, 48, 64, 120, 127, 128};

// IPv6 text stays IPv6 (IpAddress::Parse makes ::ffff:a.b.c.d IPv4): an
// IPv6 route over the mapped range must stay apart from IPv4's.
IpPrefix Masked(const char* address, int length) {
  IpPrefix p{*IpAddress::Parse(address), static_cast<std::uint8_t>(length)};
  if (std::strchr(address, ':') != nullptr) {
    p.address.family = 6;
    EXPECT_EQ(inet_pton(AF_INET6, address, p.address.bytes.data()), 1) << address;
  }
  for (std::size_t bit = static_cast<std::size_t>(length); bit < p.address.size() * 8; ++bit) {
    p.address.bytes[bit / 8] &= static_cast<std::uint8_t>(~(0x80u >> (bit % 8)));
  }
  return p;
}

struct World {
  std::vector<PeerKey> keys; // keys[4] is in no table of this interface
  std::shared_ptr<PeerDirectory> peers = std::make_shared<PeerDirectory>();
};

World RandomWorld(std::mt19937& rng, std::uint32_t ifindex) {
  World w;
  for (int i = 0; i < 5; ++i) {
    PeerKey k;
    for (auto& b : k) {
      b = static_cast<std::uint8_t>(rng());
    }
    w.keys.push_back(k);
  }
  const auto pick = [&rng](int n) { return static_cast<int>(rng() % static_cast<unsigned>(n)); };
  const auto routes = [&](int count, int peers, int key_base) {
    std::vector<PeerRoute> out;
    for (int i = 0; i < count; ++i) {
      const bool v4 = pick(2) == 0;
      const IpPrefix prefix = v4 ? Masked(kV4[pick(6)], kV4Lengths[pick(8)])
                                 : Masked(kV6[pick(6)], kV6Lengths[pick(9)]);
      out.push_back({w.keys[static_cast<std::size_t>(key_base + pick(peers))], prefix});
    }
    return out;
  };
  w.peers->Publish(ifindex, routes(10, 3, 0));
  w.peers->Publish(0, routes(4, 4, 0)); // for every interface: found only on a miss above
  w.peers->Publish(ifindex + 1000, routes(6, 1, 4)); // another interface's: never here
  return w;
}

std::vector<std::vector<std::uint8_t>> Packets(std::uint32_t seed) {
  test::RandomCases random(seed);
  std::vector<std::vector<std::uint8_t>> packets;
  for (int i = 0; i < 100; ++i) {
    packets.push_back(random.Packet());
  }
  for (const char* a : kV4) {
    packets.push_back(test::PacketBuilder::Ipv4(a, "203.0.113.200").Udp(1, 2).Build());
    packets.push_back(test::PacketBuilder::Ipv4("203.0.113.200", a).Tcp(1, 2).Build());
  }
  for (const char* a : kV6) {
    packets.push_back(test::PacketBuilder::Ipv6(a, "2001:db8:eeee::1").Udp(1, 2).Build());
    packets.push_back(test::PacketBuilder::Ipv6("2001:db8:eeee::1", a).Tcp(1, 2).Build());
  }
  return packets;
}

// The forms a peer term takes: alone, negated, with other terms.
std::vector<FilterExpression> Expressions(const World& w, std::uint32_t seed) {
  test::RandomCases random(seed);
  std::vector<FilterExpression> out;
  for (std::size_t k = 0; k < w.keys.size(); ++k) {
    const PeerKey& key = w.keys[k];
    const PeerKey& other = w.keys[(k + 1) % w.keys.size()];
    const auto parsed = [&random] { return ParseFilterExpression(random.Expression(3)).value(); };
    test::AstBuilder a, b, c, d, e;
    out.push_back(a.Finish(a.Peer(key)));
    out.push_back(b.Finish(b.Not(b.Peer(key))));
    out.push_back(c.Finish(c.And(c.Peer(key), c.Adopt(parsed()))));
    out.push_back(d.Finish(d.Or(d.Adopt(parsed()), d.Not(d.Peer(key)))));
    out.push_back(e.Finish(e.Or(e.And(e.Peer(key), e.Adopt(parsed())), e.Peer(other))));
  }
  return out;
}

struct Variant {
  unsigned link_header;
  bool direct_access;
};

class EbpfPeer : public ::testing::TestWithParam<Variant> {};

TEST_P(EbpfPeer, RandomTablesAndPacketsAgreeWithMatcherOnBothHooks) {
  WGCAP_REQUIRE_PRIVILEGES();
  const std::uint32_t lo = EbpfFilterRunner::TestRunIfindex();
  ASSERT_NE(lo, 0u);
  int mismatches = 0;
  int runs = 0;
  int matched = 0;
  for (const std::uint32_t seed : {2201u, 2202u, 2203u}) {
    std::mt19937 rng(seed);
    const World w = RandomWorld(rng, lo);
    const auto packets = Packets(seed);
    for (const FilterExpression& expr : Expressions(w, seed)) {
      const ExpressionMatcher matcher(expr);
      for (const bool egress : {false, true}) {
        EbpfRunnerOptions o{GetParam().link_header, GetParam().direct_access, egress, w.peers};
        auto runner = EbpfFilterRunner::Create(expr, o);
        ASSERT_TRUE(runner.ok()) << ToString(expr) << ": " << runner.error().message;
        ASSERT_TRUE((*runner)->exact()) << (*runner)->note();
        for (const auto& packet : packets) {
          if (GetParam().link_header == 0 && packet.size() < 14) {
            continue; // the kernel test-runs at least an Ethernet header's bytes
          }
          ParsedPacket parsed = ParsePacket(packet);
          parsed.peer =
              w.peers->Attribute(parsed, egress ? Direction::Outbound : Direction::Inbound, lo);
          const bool want = matcher.MatchParsed(parsed);
          auto got = (*runner)->Run(packet);
          ASSERT_TRUE(got.ok()) << got.error().message;
          ++runs;
          matched += want ? 1 : 0;
          if (got->matched != want && ++mismatches <= 3) {
            ADD_FAILURE() << ToString(expr) << (egress ? " egress" : " ingress") << " seed " << seed
                          << ": matcher " << want << " ebpf " << got->matched << "\n"
                          << (mismatches == 1 ? (*runner)->disassembly() : "");
          }
        }
      }
    }
  }
  EXPECT_EQ(mismatches, 0);
  EXPECT_GT(runs, 10000);
  // Both verdicts happen often: the tables and packets overlap.
  EXPECT_GT(matched, runs / 10);
  EXPECT_LT(matched, runs - runs / 10);
}

INSTANTIATE_TEST_SUITE_P(LinkHeaders, EbpfPeer,
                         ::testing::Values(Variant{14, true}, Variant{0, true}, Variant{0, false}),
                         [](const ::testing::TestParamInfo<Variant>& v) {
                           return std::string(v.param.link_header == 14 ? "Ethernet" : "RawIp") +
                                  (v.param.direct_access ? "" : "LoadBytesOnly");
                         });

PeerKey Key(std::uint8_t fill) {
  PeerKey k;
  k.fill(fill);
  return k;
}

PeerRoute Route(std::uint8_t key, const char* prefix) {
  return {Key(key), *IpPrefix::Parse(prefix)};
}

// The runner syncs before every run whose version moved, as BpfCapture's
// reader does every poll.
TEST(EbpfPeerTable, FollowsTheDirectoryAsItChanges) {
  WGCAP_REQUIRE_PRIVILEGES();
  const std::uint32_t lo = EbpfFilterRunner::TestRunIfindex();
  auto peers = std::make_shared<PeerDirectory>();
  test::AstBuilder b;
  const FilterExpression expr = b.Finish(b.Peer(Key(1)));
  auto runner = EbpfFilterRunner::Create(expr, {0, true, false, peers});
  ASSERT_TRUE(runner.ok()) << runner.error().message;
  const auto v4 = test::PacketBuilder::Ipv4("192.0.2.1", "198.51.100.1").Udp(1, 2).Build();
  const auto mapped =
      test::PacketBuilder::Ipv6("::ffff:192.0.2.1", "2001:db8::1").Udp(1, 2).Build();
  const auto verdict = [&](const std::vector<std::uint8_t>& p) {
    auto got = (*runner)->Run(p);
    EXPECT_TRUE(got.ok()) << got.error().message;
    return got.ok() && got->matched;
  };
  EXPECT_FALSE(verdict(v4)); // no peers yet
  peers->Publish(lo, {Route(1, "192.0.2.0/24")});
  EXPECT_TRUE(verdict(v4)) << "a peer added later";
  // WireGuard keeps the families apart: ::ffff:192.0.2.1 is not 192.0.2.1.
  EXPECT_FALSE(verdict(mapped));
  peers->Publish(lo, {Route(2, "192.0.2.0/24")});
  EXPECT_FALSE(verdict(v4)) << "the prefix moved to another peer";
  peers->Publish(lo, {Route(2, "192.0.2.0/24"), Route(1, "192.0.2.1/32")});
  EXPECT_TRUE(verdict(v4)) << "the longest prefix wins";
  peers->Publish(lo, {});
  EXPECT_FALSE(verdict(v4)) << "deleted";
  peers->Publish(0, {Route(1, "192.0.2.0/25")});
  EXPECT_TRUE(verdict(v4)) << "routes for every interface";
  peers->Publish(lo, {Route(2, "192.0.0.0/16")});
  EXPECT_FALSE(verdict(v4)) << "the interface's own route wins, however short";
}

int CountEntries(int fd) {
  PeerMapSync::KeyBytes key{}, next{};
  int n = 0;
  for (const void* at = nullptr; bpf_map_get_next_key(fd, at, next.data()) == 0; at = key.data()) {
    key = next;
    ++n;
  }
  return n;
}

TEST(EbpfPeerTable, SyncWritesChangesDeletesTheGoneAndRefusesTooMany) {
  WGCAP_REQUIRE_PRIVILEGES();
  LIBBPF_OPTS(bpf_map_create_opts, lpm, .map_flags = BPF_F_NO_PREALLOC);
  const int fd = bpf_map_create(BPF_MAP_TYPE_LPM_TRIE, "wgcap_peers_t", sizeof(wgcap_peer_lpm_key),
                                sizeof(wgcap_peer_lpm_value), WGCAP_PEER_MAP_ENTRIES, &lpm);
  ASSERT_GE(fd, 0) << std::strerror(errno);
  auto peers = std::make_shared<PeerDirectory>();
  PeerMapSync sync(fd, 7, peers);
  EXPECT_TRUE(sync.Due()); // the first sync always runs
  peers->Publish(7, {Route(1, "192.0.2.0/24"), Route(2, "2001:db8::/32"), Route(3, "::/0")});
  peers->Publish(0, {Route(4, "198.51.100.0/24")});
  peers->Publish(8, {Route(5, "203.0.113.0/24")}); // another interface's
  ASSERT_TRUE(sync.Sync().ok());
  EXPECT_FALSE(sync.Due());
  EXPECT_EQ(CountEntries(fd), 4);
  wgcap_peer_lpm_value value{};
  const auto key = PeerMapSync::KeyFor(7, *IpPrefix::Parse("192.0.2.0/24"));
  ASSERT_EQ(bpf_map_lookup_elem(fd, key.data(), &value), 0);
  EXPECT_EQ(value.key[0], 1);
  peers->Publish(7, {Route(9, "192.0.2.0/24")});
  EXPECT_TRUE(sync.Due());
  ASSERT_TRUE(sync.Sync().ok());
  EXPECT_EQ(CountEntries(fd), 2);
  ASSERT_EQ(bpf_map_lookup_elem(fd, key.data(), &value), 0);
  EXPECT_EQ(value.key[0], 9);

  std::vector<PeerRoute> many;
  for (std::uint32_t i = 0; i <= WGCAP_PEER_MAP_ENTRIES; ++i) {
    IpPrefix p{*IpAddress::Parse("2001:db8::"), 128};
    p.address.bytes[12] = static_cast<std::uint8_t>(i >> 16);
    p.address.bytes[13] = static_cast<std::uint8_t>(i >> 8);
    p.address.bytes[14] = static_cast<std::uint8_t>(i);
    many.push_back({Key(1), p});
  }
  peers->Publish(7, std::move(many));
  auto refused = sync.Sync();
  ASSERT_FALSE(refused.ok());
  EXPECT_THAT(refused.error().message, HasSubstr("at most 65536"));
  close(fd);
}

// A map smaller than the peers (as on kernels that charge RLIMIT_MEMLOCK,
// or a server past 65536 allowed-ips): the refused set leaves the last one
// that fit in place and is not retried until the peers change; a new set
// that fits only once the old one is gone still replaces it.
TEST(EbpfPeerTable, OverflowKeepsTheLastSetThatFit) {
  WGCAP_REQUIRE_PRIVILEGES();
  LIBBPF_OPTS(bpf_map_create_opts, lpm, .map_flags = BPF_F_NO_PREALLOC);
  const int fd = bpf_map_create(BPF_MAP_TYPE_LPM_TRIE, "wgcap_peers_s", sizeof(wgcap_peer_lpm_key),
                                sizeof(wgcap_peer_lpm_value), 4, &lpm);
  ASSERT_GE(fd, 0) << std::strerror(errno);
  auto peers = std::make_shared<PeerDirectory>();
  PeerMapSync sync(fd, 7, peers);
  const auto holds = [fd](const char* prefix, std::uint8_t key) {
    wgcap_peer_lpm_value value{};
    const auto k = PeerMapSync::KeyFor(7, *IpPrefix::Parse(prefix));
    return bpf_map_lookup_elem(fd, k.data(), &value) == 0 && value.key[0] == key;
  };
  peers->Publish(
      7, {Route(1, "192.0.2.0/24"), Route(2, "198.51.100.0/24"), Route(3, "2001:db8::/32")});
  ASSERT_TRUE(sync.Sync().ok());
  peers->Publish(7,
                 {Route(1, "192.0.2.0/25"), Route(1, "192.0.2.128/25"), Route(2, "198.51.100.0/25"),
                  Route(2, "198.51.100.128/25"), Route(3, "2001:db8::/33")});
  auto refused = sync.Sync();
  ASSERT_FALSE(refused.ok());
  EXPECT_EQ(refused.error().errnum, E2BIG);
  EXPECT_THAT(refused.error().message, HasSubstr("have 5 allowed-ips"));
  EXPECT_THAT(refused.error().message, HasSubstr("holds at most 4"));
  EXPECT_FALSE(sync.Due()) << "a refused set is not rebuilt every poll";
  EXPECT_EQ(CountEntries(fd), 3);
  EXPECT_TRUE(holds("192.0.2.0/24", 1));
  EXPECT_TRUE(holds("198.51.100.0/24", 2));
  EXPECT_TRUE(holds("2001:db8::/32", 3));
  // Four new prefixes: with the three old ones seven, more than the map
  // holds at once; the old ones make room.
  peers->Publish(7, {Route(4, "203.0.113.0/24"), Route(5, "2001:db8:1::/48"),
                     Route(6, "2001:db8:2::/48"), Route(7, "192.0.2.1/32")});
  EXPECT_TRUE(sync.Due());
  const Status replaced = sync.Sync();
  ASSERT_TRUE(replaced.ok()) << replaced.error().message;
  EXPECT_EQ(CountEntries(fd), 4);
  EXPECT_TRUE(holds("203.0.113.0/24", 4));
  EXPECT_TRUE(holds("192.0.2.1/32", 7));
  EXPECT_FALSE(holds("192.0.2.0/24", 1));
  close(fd);
}

} // namespace
} // namespace wgcap
