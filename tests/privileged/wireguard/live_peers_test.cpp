// SPDX-License-Identifier: Apache-2.0
// The peers of the testbed's tunnel read live (wireguard-go's UAPI socket,
// or generic netlink where the testbed runs the kernel module), checked
// against what `wg` itself prints. Linked into list_interfaces_test to share
// its testbed.
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <algorithm>
#include <chrono>
#include <thread>

#include "cli/live_peers.hpp"
#include "support/live_wgcap.hpp"
#include "support/relation_builder.hpp"
#include "support/subprocess.hpp"
#include "support/testbed.hpp"
#include "wireguard/peer_sources.hpp"

namespace wgcap::test {
namespace {

using ::testing::HasSubstr;
using ::testing::UnorderedElementsAre;

std::string Trimmed(std::string text) {
  while (!text.empty() && (text.back() == '\n' || text.back() == ' ')) {
    text.pop_back();
  }
  return text;
}

using LivePeers = LiveTest;

TEST_F(LivePeers, LoadPeersReadsWhatWgShows) {
  // B's key as B's own interface reports it: one peer of A.
  const auto b_key = test::Run(testbed_->InB({"wg", "show", testbed_->if_b, "public-key"}));
  ASSERT_EQ(b_key.exit_code, 0) << b_key.err;
  Result<wireguard::PeerTable> table = Error{"not read"};
  InNamespace(testbed_->ns_a, [&] { table = wireguard::LoadPeers(testbed_->if_a); });
  ASSERT_TRUE(table) << table.error().message;
  EXPECT_EQ(table->interface, testbed_->if_a);
  ASSERT_EQ(table->peers.size(), 1u);
  EXPECT_EQ(table->peers[0].KeyText(), Trimmed(b_key.out));
  std::vector<std::string> prefixes;
  for (const auto& p : table->peers[0].allowed_ips) {
    prefixes.push_back(p.ToString());
  }
  EXPECT_THAT(prefixes, UnorderedElementsAre(testbed_->addr_b + "/32", testbed_->addr6_b + "/128"));
  EXPECT_EQ(table->Lookup(*IpAddress::Parse(testbed_->addr_b)), &table->peers[0]);
  EXPECT_EQ(table->Lookup(*IpAddress::Parse(testbed_->addr_a)), nullptr);

  // The same table from `wg show IF dump`, the text --wg-peers will read.
  const auto dump = test::Run(testbed_->InA({"wg", "show", testbed_->if_a, "dump"}));
  ASSERT_EQ(dump.exit_code, 0) << dump.err;
  auto from_dump = wireguard::ParseWgDump(dump.out, testbed_->if_a);
  ASSERT_TRUE(from_dump) << from_dump.error().message << "\n" << dump.out;
  EXPECT_EQ(from_dump->peers, table->peers);
  const auto all = test::Run(testbed_->InA({"wg", "show", "all", "dump"}));
  auto from_all = wireguard::ParseWgDump(all.out, testbed_->if_a);
  ASSERT_TRUE(from_all) << from_all.error().message << "\n" << all.out;
  EXPECT_EQ(from_all->peers, table->peers);
}

TEST_F(LivePeers, DashDCountsThePeersAsRoot) {
  const auto r = test::Run(testbed_->InA({WgcapBinary(), "-D"}));
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_THAT(r.out, HasSubstr("." + testbed_->if_a + " (WireGuard, 1 peer) [Up, Running"));
  // A second peer (a documentation key, no endpoint) is counted too.
  const std::string key = "AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh8=";
  const auto add = test::Run(
      testbed_->InA({"wg", "set", testbed_->if_a, "peer", key, "allowed-ips", "203.0.113.0/24"}));
  ASSERT_EQ(add.exit_code, 0) << add.err;
  const auto two = test::Run(testbed_->InA({WgcapBinary(), "-D"}));
  Result<wireguard::PeerTable> table = Error{"not read"};
  InNamespace(testbed_->ns_a, [&] { table = wireguard::LoadPeers(testbed_->if_a); });
  test::Run(testbed_->InA({"wg", "set", testbed_->if_a, "peer", key, "remove"}));
  EXPECT_THAT(two.out, HasSubstr("." + testbed_->if_a + " (WireGuard, 2 peers) ["));
  ASSERT_TRUE(table) << table.error().message;
  auto resolved = table->Resolve("AAEC");
  ASSERT_TRUE(resolved) << resolved.error().message;
  EXPECT_EQ(resolved->KeyText(), key);
  EXPECT_EQ(table->Lookup(*IpAddress::Parse("203.0.113.9")),
            &*std::find(table->peers.begin(), table->peers.end(), *resolved));
}

// The live CLI's peers (issue 22): read before the capture, `peer` terms
// resolved against them, re-read while it runs so a peer added later is
// attributed within a second.
TEST_F(LivePeers, LiveCapturePeersResolveAndFollowAPeerAddedLater) {
  constexpr std::uint32_t kIfindex = 7; // where the directory files them
  const std::string key = "AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh8=";
  const auto b_key =
      Trimmed(test::Run(testbed_->InB({"wg", "show", testbed_->if_b, "public-key"})).out);
  test::AstBuilder b;
  FilterExpression expression = b.Finish(b.Peer({}, false, b_key.substr(0, 5)));
  std::unique_ptr<cli::LivePeers> peers;
  InNamespace(testbed_->ns_a, [&] {
    auto opened = cli::LivePeers::Open({{testbed_->if_a, kIfindex}}, expression);
    ASSERT_TRUE(opened) << opened.error().message;
    peers = std::move(opened).value();
    // The thread inherits this thread's network namespace (genl needs it).
    peers->Start(500);
  });
  ASSERT_TRUE(peers);
  ASSERT_TRUE(expression.nodes[0].term.peer_resolved);
  EXPECT_EQ(wireguard::KeyToBase64(expression.nodes[0].term.peer_key), b_key);
  const auto peer_of = [&](const char* address) {
    const IpAddress a = *IpAddress::Parse(address);
    return peers->directory()->Lookup(kIfindex, a.family, a.bytes.data());
  };
  ASSERT_NE(peer_of(testbed_->addr_b.c_str()), nullptr);
  EXPECT_EQ(peer_of("203.0.113.9"), nullptr);

  const auto add = test::Run(
      testbed_->InA({"wg", "set", testbed_->if_a, "peer", key, "allowed-ips", "203.0.113.0/24"}));
  ASSERT_EQ(add.exit_code, 0) << add.err;
  const auto added = std::chrono::steady_clock::now();
  while (peer_of("203.0.113.9") == nullptr &&
         std::chrono::steady_clock::now() - added < std::chrono::seconds(3)) {
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  }
  const auto took = std::chrono::duration_cast<std::chrono::milliseconds>(
      std::chrono::steady_clock::now() - added);
  test::Run(testbed_->InA({"wg", "set", testbed_->if_a, "peer", key, "remove"}));
  ASSERT_NE(peer_of("203.0.113.9"), nullptr);
  EXPECT_EQ(wireguard::KeyToBase64(*peer_of("203.0.113.9")), key);
  EXPECT_LT(took.count(), 1000) << "a peer added later is attributed within a second";
  peers->Stop();
  EXPECT_GE(peers->reads(), 2u);
}

TEST_F(LivePeers, LiveCapturePeerTermsNeedReadablePeersAndAKnownKey) {
  test::AstBuilder b;
  FilterExpression unknown = b.Finish(b.Peer({}, false, "ZZZZ"));
  InNamespace(testbed_->ns_a, [&] {
    auto opened = cli::LivePeers::Open({{testbed_->if_a, 7}}, unknown);
    ASSERT_FALSE(opened);
    EXPECT_EQ(opened.error().kind, ErrorKind::Filter);
    EXPECT_THAT(opened.error().message, HasSubstr("ZZZZ"));
    // Not a WireGuard interface: nothing to attribute, and `peer` says why.
    FilterExpression none;
    auto lo = cli::LivePeers::Open({{"lo", 1}}, none);
    ASSERT_TRUE(lo) << lo.error().message;
    EXPECT_EQ(*lo, nullptr);
    auto lo_peer = cli::LivePeers::Open({{"lo", 1}}, unknown);
    ASSERT_FALSE(lo_peer);
    EXPECT_THAT(lo_peer.error().message, HasSubstr("`peer` needs the WireGuard peers of lo"));
  });
}

} // namespace
} // namespace wgcap::test
