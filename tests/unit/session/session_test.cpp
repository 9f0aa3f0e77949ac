// SPDX-License-Identifier: Apache-2.0
// Session basics: creation, the pcap and text outputs, record metadata,
// snaplen, and the Matcher choosing packets.
#include "session_test_support.hpp"

namespace wgcap {
namespace {

TEST(SessionTest, CreateWithoutOutputFails) {
  auto none = Session::Create(Options{});
  ASSERT_FALSE(none.ok());
  EXPECT_NE(none.error().message.find("output"), std::string::npos) << none.error().message;

  Options only_null_sinks;
  only_null_sinks.sinks = {nullptr};
  EXPECT_FALSE(Session::Create(only_null_sinks).ok());

  RecordingSink sink;
  Options with_sink;
  with_sink.sinks = {&sink};
  EXPECT_TRUE(Session::Create(with_sink).ok());
}

TEST(SessionTest, WritesPcapToOutput) {
  MemoryWriter out;
  Options options;
  options.output = &out;
  auto session = MakeSession(options);
  ASSERT_TRUE(session);
  const std::array<std::size_t, 3> sizes = {20, 40, 60};
  std::vector<std::vector<std::uint8_t>> packets;
  for (std::size_t i = 0; i < sizes.size(); ++i) {
    packets.push_back(Packet(sizes[i]));
    PacketRecord record = Record(packets.back());
    record.timestamp_ns = 1'700'000'000'000'000'000 + static_cast<std::int64_t>(i) * 1'500'000;
    ASSERT_TRUE(session->Offer(record));
  }
  session->Stop();

  const auto& b = out.bytes();
  ASSERT_EQ(b.size(), 24u + (16 + 20) + (16 + 40) + (16 + 60));
  EXPECT_EQ(b[0], 0xd4);
  EXPECT_EQ(b[1], 0xc3);
  EXPECT_EQ(b[2], 0xb2);
  EXPECT_EQ(b[3], 0xa1);
  EXPECT_EQ(ReadLe32(b, 16), kDefaultSnaplen);
  EXPECT_EQ(ReadLe32(b, 20), kLinkTypeRaw);
  std::size_t at = 24;
  for (std::size_t i = 0; i < sizes.size(); ++i) {
    EXPECT_EQ(ReadLe32(b, at), 1'700'000'000u) << i;
    EXPECT_EQ(ReadLe32(b, at + 4), i * 1500) << i;
    EXPECT_EQ(ReadLe32(b, at + 8), sizes[i]) << i;
    EXPECT_EQ(ReadLe32(b, at + 12), sizes[i]) << i;
    EXPECT_TRUE(std::equal(packets[i].begin(), packets[i].end(), b.begin() + at + 16)) << i;
    at += 16 + sizes[i];
  }
  EXPECT_EQ(session->GetStats().packets, 3);
  EXPECT_EQ(session->GetStats().bytes, 120);
}

TEST(SessionTest, WritesOneTextLinePerPacket) {
  MemoryWriter text;
  Options options;
  options.text_output = &text;
  auto session = MakeSession(options);
  ASSERT_TRUE(session);
  const auto packet = Packet(20, 0x00); // not IP: one "???" line each
  for (int i = 0; i < 3; ++i) {
    ASSERT_TRUE(session->Offer(packet, i % 2 == 0));
  }
  session->Stop();
  const std::string lines = text.str();
  EXPECT_EQ(std::count(lines.begin(), lines.end(), '\n'), 3) << lines;
}

TEST(SessionTest, OfferRecordKeepsItsMetadata) {
  RecordingSink sink;
  Options options;
  options.sinks = {&sink};
  auto session = MakeSession(options);
  ASSERT_TRUE(session);
  const auto data = Packet(100);
  ASSERT_TRUE(session->Offer(PacketRecord{.timestamp_ns = 1'700'000'000'123'456'789,
                                          .data = data,
                                          .original_length = 1500,
                                          .direction = Direction::Outbound,
                                          .ifindex = 7}));
  ASSERT_TRUE(session->Offer(PacketRecord{.timestamp_ns = 42, .data = data}));
  session->Stop();

  const auto got = sink.packets();
  ASSERT_EQ(got.size(), 2u);
  EXPECT_EQ(got[0].timestamp_ns, 1'700'000'000'123'456'789);
  EXPECT_EQ(got[0].data, data);
  EXPECT_EQ(got[0].original_length, 1500u);
  EXPECT_EQ(got[0].direction, Direction::Outbound);
  EXPECT_EQ(got[0].ifindex, 7u);
  EXPECT_EQ(got[1].timestamp_ns, 42);
  EXPECT_EQ(got[1].original_length, 100u); // 0 means the captured size
  EXPECT_EQ(got[1].direction, Direction::Unknown);
  EXPECT_EQ(got[1].ifindex, 0u);
}

TEST(SessionTest, OfferSpanStampsNowAndDirection) {
  RecordingSink sink;
  Options options;
  options.sinks = {&sink};
  auto session = MakeSession(options);
  ASSERT_TRUE(session);
  const auto data = Packet(60);
  const std::int64_t before = NowNs();
  ASSERT_TRUE(session->Offer(data, true));
  ASSERT_TRUE(session->Offer(data, false));
  const std::int64_t after = NowNs();
  session->Stop();

  const auto got = sink.packets();
  ASSERT_EQ(got.size(), 2u);
  EXPECT_EQ(got[0].direction, Direction::Outbound);
  EXPECT_EQ(got[1].direction, Direction::Inbound);
  for (const Captured& packet : got) {
    EXPECT_GE(packet.timestamp_ns, before);
    EXPECT_LE(packet.timestamp_ns, after);
    EXPECT_EQ(packet.original_length, 60u);
    EXPECT_EQ(packet.data, data);
  }
}

TEST(SessionTest, SnaplenTruncatesAndKeepsOriginalLength) {
  RecordingSink sink;
  Options options;
  options.sinks = {&sink};
  options.snaplen = 16;
  auto session = MakeSession(options);
  ASSERT_TRUE(session);
  const auto data = Packet(100);
  ASSERT_TRUE(session->Offer(data, true));
  session->Stop();

  const auto got = sink.packets();
  ASSERT_EQ(got.size(), 1u);
  EXPECT_EQ(got[0].data, std::vector<std::uint8_t>(data.begin(), data.begin() + 16));
  EXPECT_EQ(got[0].original_length, 100u);
  EXPECT_EQ(session->GetStats().bytes, 16);
}

TEST(SessionTest, SnaplenIsCappedAtMaximum) {
  RecordingSink sink;
  Options options;
  options.sinks = {&sink};
  options.snaplen = 1'000'000;
  options.buf_size = 2;
  auto session = MakeSession(options);
  ASSERT_TRUE(session);
  const auto data = Packet(kMaxSnaplen + 1000);
  ASSERT_TRUE(session->Offer(data, false));
  session->Stop();
  const auto got = sink.packets();
  ASSERT_EQ(got.size(), 1u);
  EXPECT_EQ(got[0].data.size(), kMaxSnaplen);
  EXPECT_EQ(got[0].original_length, kMaxSnaplen + 1000);
}

TEST(SessionTest, MatcherSelectsPackets) {
  // Matcher::Match parses; a matcher keyed on the parsed length is
  // independent of the protocol fields: keep packets of even wire length.
  class EvenLength final : public Matcher {
  public:
    bool MatchParsed(const ParsedPacket& packet) const override {
      return packet.original_length % 2 == 0;
    }
  };
  RecordingSink sink;
  Options options;
  options.sinks = {&sink};
  options.matcher = std::make_shared<EvenLength>();
  auto session = MakeSession(options);
  ASSERT_TRUE(session);
  int queued = 0;
  for (std::size_t size = 20; size < 120; ++size) {
    const auto data = Packet(size);
    queued += session->Offer(data, true) ? 1 : 0;
  }
  // The original length, not the captured one, is what the Matcher sees.
  const auto data = Packet(20);
  queued += session->Offer(PacketRecord{.data = data, .original_length = 1001}) ? 1 : 0;
  session->Stop();

  const Stats stats = session->GetStats();
  EXPECT_EQ(stats.received, 101);
  EXPECT_EQ(stats.matched, 50);
  EXPECT_EQ(stats.packets, 50);
  EXPECT_EQ(stats.dropped, 0);
  EXPECT_EQ(queued, 50);
  for (const Captured& packet : sink.packets()) {
    EXPECT_EQ(packet.original_length % 2, 0u);
  }
}

TEST(SessionTest, MatchAllMatcherTakesEverything) {
  class All final : public Matcher {
  public:
    bool MatchParsed(const ParsedPacket&) const override { return false; }
    bool MatchesAll() const override { return true; }
  };
  RecordingSink sink;
  Options options;
  options.sinks = {&sink};
  options.matcher = std::make_shared<All>();
  auto session = MakeSession(options);
  ASSERT_TRUE(session);
  const auto data = Packet(30);
  EXPECT_TRUE(session->Offer(data, true));
  session->Stop();
  EXPECT_EQ(session->GetStats().matched, 1);
  EXPECT_EQ(sink.writes(), 1);
}

} // namespace
} // namespace wgcap
