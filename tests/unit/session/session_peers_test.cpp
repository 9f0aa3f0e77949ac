// SPDX-License-Identifier: Apache-2.0
// Attribution in the Session (SPEC 10): with Options::peers every packet is
// attributed to its WireGuard peer before the Matcher runs (`peer KEY`), and
// the sinks get the key, on every path a packet takes: Deliver, a lane, the
// shared queue, OfferWait. The GSO fields of a record reach the sinks too.
#include "session_test_support.hpp"
#include "support/packet_builder.hpp"
#include "wgcap/filter_parser.hpp"

namespace wgcap {
namespace {

PeerKey MakeKey(std::uint8_t fill) {
  PeerKey k;
  k.fill(fill);
  return k;
}
const PeerKey kAlice = MakeKey(0x11); // 192.0.2.0/25 and 2001:db8:a::/48
const PeerKey kBob = MakeKey(0x22);   // 192.0.2.128/25

std::shared_ptr<PeerDirectory> Directory(std::uint32_t ifindex) {
  auto directory = std::make_shared<PeerDirectory>();
  directory->Publish(ifindex, {{kAlice, *IpPrefix::Parse("192.0.2.0/25")},
                               {kAlice, *IpPrefix::Parse("2001:db8:a::/48")},
                               {kBob, *IpPrefix::Parse("192.0.2.128/25")}});
  return directory;
}

// Inbound from `src`, or outbound to `dst`: the peer's address is the
// tunnel-inner source of what it sends and the destination of what it gets.
struct Traffic {
  std::vector<std::uint8_t> bytes;
  Direction direction;
  const PeerKey* peer; // the attribution expected
};

std::vector<Traffic> Mixed() {
  using test::PacketBuilder;
  return {
      {PacketBuilder::Ipv4("192.0.2.5", "10.0.0.1").Udp(1, 2).Build(), Direction::Inbound, &kAlice},
      {PacketBuilder::Ipv4("10.0.0.1", "192.0.2.200").Tcp(3, 4).Build(), Direction::Outbound,
       &kBob},
      {PacketBuilder::Ipv4("192.0.2.200", "192.0.2.5").Tcp(5, 6).Build(), Direction::Inbound,
       &kBob},
      {PacketBuilder::Ipv6("2001:db8:a::9", "2001:db8::1").Udp(7, 8).Build(), Direction::Inbound,
       &kAlice},
      {PacketBuilder::Ipv4("198.51.100.1", "192.0.2.5").Udp(9, 10).Build(), Direction::Inbound,
       nullptr}, // from no peer's allowed-ips
      {PacketBuilder::Ipv4("10.0.0.1", "192.0.2.5").Udp(11, 12).Build(), Direction::Outbound,
       &kAlice},
  };
}

PacketRecord RecordOf(const Traffic& t, std::uint32_t ifindex) {
  return PacketRecord{.timestamp_ns = 1'700'000'000'000'000'000,
                      .data = t.bytes,
                      .original_length = static_cast<std::uint32_t>(t.bytes.size()),
                      .direction = t.direction,
                      .ifindex = ifindex,
                      .gso_segs = 45,
                      .gso_size = 1420};
}

std::shared_ptr<const Matcher> PeerFilter(const std::string& text) {
  auto expr = ParseFilterExpression(text);
  EXPECT_TRUE(expr.ok()) << text;
  if (!expr) {
    return nullptr;
  }
  EXPECT_TRUE(ResolvePeerTerms(*expr, [](std::string_view t) -> Result<PeerKey> {
                return t == "alice" ? kAlice : kBob;
              }).ok());
  return std::make_shared<const ExpressionMatcher>(std::move(expr).value());
}

enum class Path { Deliver, Lane, SharedQueue, OfferWait };

// Hands `traffic` to a session through `path` and returns what the sink got.
std::vector<Captured> RunThrough(Path path, Options options, const std::vector<Traffic>& traffic) {
  RecordingSink sink;
  options.sinks = {&sink};
  options.producer_lanes = 1;
  auto session = MakeSession(std::move(options));
  if (!session) {
    return {};
  }
  if (path == Path::SharedQueue) { // another thread takes the only lane
    std::thread([&] { (void)session->Offer(std::span<const std::uint8_t>{}, false); }).join();
  }
  if (path == Path::Deliver) {
    EXPECT_TRUE(session->BeginDelivery());
  }
  for (const Traffic& t : traffic) {
    const PacketRecord record = RecordOf(t, 7);
    switch (path) {
    case Path::Deliver:
      EXPECT_TRUE(session->Deliver(record));
      break;
    case Path::Lane:
    case Path::SharedQueue:
      (void)session->Offer(record);
      break;
    case Path::OfferWait:
      EXPECT_TRUE(session->OfferWait(record));
      break;
    }
  }
  if (path == Path::Deliver) {
    session->EndDelivery(true);
  }
  session->Stop();
  EXPECT_EQ(session->GetStats().dropped, 0);
  auto got = sink.packets();
  std::erase_if(got, [](const Captured& c) { return c.data.empty(); }); // the other thread's
  return got;
}

class SessionPeers : public ::testing::TestWithParam<Path> {};

TEST_P(SessionPeers, SinksSeeTheAttributedKeyAndTheGsoFields) {
  const std::vector<Traffic> traffic = Mixed();
  Options options;
  const auto directory = Directory(7); // the sinks' keys live as long as it
  options.peers = directory;
  const auto got = RunThrough(GetParam(), std::move(options), traffic);
  ASSERT_EQ(got.size(), traffic.size());
  for (std::size_t i = 0; i < got.size(); ++i) {
    EXPECT_EQ(got[i].data, traffic[i].bytes) << i;
    EXPECT_EQ(got[i].peer == nullptr, traffic[i].peer == nullptr) << i;
    if (got[i].peer != nullptr && traffic[i].peer != nullptr) {
      EXPECT_EQ(*got[i].peer, *traffic[i].peer) << i;
    }
    EXPECT_EQ(got[i].gso_segs, 45) << i;
    EXPECT_EQ(got[i].gso_size, 1420) << i;
    EXPECT_EQ(got[i].ifindex, 7u) << i;
    EXPECT_EQ(got[i].direction, traffic[i].direction) << i;
  }
}

TEST_P(SessionPeers, PeerFilterKeepsExactlyThatPeersPackets) {
  const std::vector<Traffic> traffic = Mixed();
  const auto tcp = [](const Traffic& t) { return t.bytes[9] == kProtoTcp; }; // all IPv4 here
  const std::vector<std::pair<std::string, std::function<bool(const Traffic&)>>> cases = {
      {"peer alice", [](const Traffic& t) { return t.peer == &kAlice; }},
      {"peer bobby and tcp", [&](const Traffic& t) { return t.peer == &kBob && tcp(t); }},
      {"not peer alice", [](const Traffic& t) { return t.peer != &kAlice; }},
  };
  for (const auto& [text, keeps] : cases) {
    Options options;
    options.peers = Directory(7);
    options.matcher = PeerFilter(text);
    std::vector<std::vector<std::uint8_t>> want, kept;
    for (const Traffic& t : traffic) {
      if (keeps(t)) {
        want.push_back(t.bytes);
      }
    }
    for (const Captured& c : RunThrough(GetParam(), std::move(options), traffic)) {
      kept.push_back(c.data);
    }
    EXPECT_EQ(kept, want) << text;
    EXPECT_GE(want.size(), 2u) << text;
  }
}

INSTANTIATE_TEST_SUITE_P(AllPaths, SessionPeers,
                         ::testing::Values(Path::Deliver, Path::Lane, Path::SharedQueue,
                                           Path::OfferWait));

// The directory's ifindex-0 routes apply on any interface (a file's peers).
TEST(SessionPeersTest, InterfaceZeroRoutesApplyEverywhere) {
  Options options;
  const auto directory = Directory(0);
  options.peers = directory;
  const auto got = RunThrough(Path::Lane, std::move(options), Mixed());
  ASSERT_EQ(got.size(), 6u);
  ASSERT_NE(got[0].peer, nullptr);
  EXPECT_EQ(*got[0].peer, kAlice);
}

// With a directory, the directory attributes every packet, also one its
// source named a peer for: `--wg-peers` given with -r re-attributes a file.
TEST(SessionPeersTest, TheDirectoryAttributesARecordThatNamesAPeer) {
  RecordingSink sink;
  Options options;
  options.sinks = {&sink};
  options.peers = Directory(0);
  auto session = MakeSession(std::move(options));
  ASSERT_TRUE(session);
  const std::vector<Traffic> traffic = Mixed();
  PacketRecord named = RecordOf(traffic[0], 0); // Alice's address
  named.peer = &kBob;
  PacketRecord unknown = RecordOf(traffic[4], 0); // in no peer's allowed-ips
  unknown.peer = &kBob;
  EXPECT_TRUE(session->Offer(named));
  EXPECT_TRUE(session->Offer(unknown));
  session->Stop();
  const auto got = sink.packets();
  ASSERT_EQ(got.size(), 2u);
  ASSERT_NE(got[0].peer, nullptr);
  EXPECT_EQ(*got[0].peer, kAlice);
  EXPECT_EQ(got[1].peer, nullptr);
}

// Without a directory nothing is attributed: the record's own peer (what a
// source set, or null) reaches the sinks untouched.
TEST(SessionPeersTest, WithoutADirectoryTheRecordsPeerPassesThrough) {
  for (Path path : {Path::Deliver, Path::Lane, Path::SharedQueue}) {
    RecordingSink sink;
    Options options;
    options.sinks = {&sink};
    options.producer_lanes = 1;
    auto session = MakeSession(std::move(options));
    ASSERT_TRUE(session);
    if (path == Path::SharedQueue) {
      std::thread([&] { (void)session->Offer(std::span<const std::uint8_t>{}, false); }).join();
    }
    const Traffic t = Mixed()[0];
    PacketRecord given = RecordOf(t, 7);
    PacketRecord none = RecordOf(t, 7);
    given.peer = &kBob; // not what the directory would say: no directory here
    if (path == Path::Deliver) {
      ASSERT_TRUE(session->BeginDelivery());
      EXPECT_TRUE(session->Deliver(given));
      EXPECT_TRUE(session->Deliver(none));
      session->EndDelivery(true);
    } else {
      EXPECT_TRUE(session->Offer(given));
      EXPECT_TRUE(session->Offer(none));
    }
    session->Stop();
    auto got = sink.packets();
    std::erase_if(got, [](const Captured& c) { return c.data.empty(); });
    ASSERT_EQ(got.size(), 2u);
    EXPECT_EQ(got[0].peer, &kBob);
    EXPECT_EQ(got[1].peer, nullptr);
    EXPECT_EQ(got[0].gso_segs, 45);
    EXPECT_EQ(got[1].gso_size, 1420);
  }
}

// A source's own attribution (a pcapng file's comments) is what `peer KEY`
// tests when the Session has no directory.
TEST(SessionPeersTest, PeerFilterReadsTheSourcesAttributionWithoutADirectory) {
  RecordingSink sink;
  Options options;
  options.sinks = {&sink};
  options.matcher = PeerFilter("peer bobby");
  auto session = MakeSession(std::move(options));
  ASSERT_TRUE(session);
  const std::vector<Traffic> traffic = Mixed();
  PacketRecord bob = RecordOf(traffic[0], 0);
  bob.peer = &kBob;
  PacketRecord alice = RecordOf(traffic[1], 0);
  alice.peer = &kAlice;
  const PacketRecord none = RecordOf(traffic[2], 0);
  ASSERT_TRUE(session->BeginDelivery());
  for (const PacketRecord& r : {bob, alice, none}) {
    EXPECT_TRUE(session->Deliver(r));
  }
  session->EndDelivery(true);
  EXPECT_TRUE(session->Offer(bob));
  EXPECT_FALSE(session->Offer(alice));
  EXPECT_FALSE(session->Offer(none));
  session->Stop();
  const auto got = sink.packets();
  ASSERT_EQ(got.size(), 2u);
  EXPECT_EQ(got[0].data, traffic[0].bytes);
  EXPECT_EQ(got[1].peer, &kBob);
}

} // namespace
} // namespace wgcap
