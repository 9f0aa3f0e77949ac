// SPDX-License-Identifier: Apache-2.0
// Direct delivery, the capture backends' path: packets reach the sinks on the
// delivering thread, filtered, trimmed and counted as Offer would, and the
// session still finishes the sinks once, whatever ends it.
#include "session_test_support.hpp"

namespace wgcap {
namespace {

// Keeps packets of even wire length.
class EvenLength final : public Matcher {
public:
  bool MatchParsed(const ParsedPacket& packet) const override {
    return packet.original_length % 2 == 0;
  }
};

TEST(SessionDeliveryTest, WritesOnTheCallingThreadFilteredTrimmedAndCounted) {
  RecordingSink sink;
  std::thread::id writer_thread;
  sink.before_write = [&](std::int64_t) -> Status {
    writer_thread = std::this_thread::get_id();
    return {};
  };
  Options options;
  options.sinks = {&sink};
  options.snaplen = 20;
  options.matcher = std::make_shared<EvenLength>();
  auto session = MakeSession(options);
  ASSERT_TRUE(session);
  const auto udp = Packet(60);
  const auto tcp = Packet(61);
  ASSERT_TRUE(session->BeginDelivery());
  for (int i = 0; i < 3; ++i) {
    EXPECT_TRUE(session->Deliver(Record(udp)));
    EXPECT_TRUE(session->Deliver(Record(tcp))); // filtered out, still running
  }
  session->EndDelivery(true);
  // Written before EndDelivery returned, by this thread: no queue between.
  EXPECT_EQ(sink.writes(), 3);
  EXPECT_EQ(writer_thread, std::this_thread::get_id());
  EXPECT_GE(sink.flushes(), 1); // ran dry: flushed for a reader on a pipe
  session->Stop();
  const Stats stats = session->GetStats();
  EXPECT_EQ(stats.received, 6);
  EXPECT_EQ(stats.matched, 3);
  EXPECT_EQ(stats.packets, 3);
  EXPECT_EQ(stats.bytes, 3 * 20);
  EXPECT_EQ(stats.dropped, 0);
  const auto got = sink.packets();
  ASSERT_EQ(got.size(), 3u);
  EXPECT_EQ(got[0].data.size(), 20u);
  EXPECT_EQ(got[0].original_length, 60u);
  EXPECT_EQ(sink.finishes(), 1);
}

TEST(SessionDeliveryTest, RefusedAfterStop) {
  RecordingSink sink;
  Options options;
  options.sinks = {&sink};
  auto session = MakeSession(options);
  ASSERT_TRUE(session);
  const auto data = Packet(40);
  ASSERT_TRUE(session->BeginDelivery());
  ASSERT_TRUE(session->Deliver(Record(data)));
  session->EndDelivery(false);
  session->Stop();
  EXPECT_FALSE(session->BeginDelivery());
  EXPECT_EQ(sink.writes(), 1);
  EXPECT_EQ(sink.finishes(), 1);
  EXPECT_EQ(session->GetStats().packets, 1);
}

// The limit ends delivery exactly and the session finishes on its own (the
// CLI waits for Done), while the deliverer still holds nothing.
TEST(SessionDeliveryTest, PacketLimitEndsDeliveryAndFinishesTheSinks) {
  RecordingSink sink;
  Options options;
  options.sinks = {&sink};
  options.packet_limit = 5;
  auto session = MakeSession(options);
  ASSERT_TRUE(session);
  int delivered = 0;
  ASSERT_TRUE(session->BeginDelivery());
  for (int i = 0; i < 100; ++i) {
    const auto data = Packet(30, static_cast<std::uint8_t>(i));
    if (!session->Deliver(Record(data))) {
      break;
    }
    ++delivered;
  }
  session->EndDelivery(true);
  EXPECT_EQ(delivered, 4); // the fifth reached the limit: false, stop now
  EXPECT_TRUE(session->WaitDoneFor(std::chrono::seconds(10)));
  EXPECT_FALSE(session->BeginDelivery());
  ExpectAllInOrder(*session, sink, 5);
  EXPECT_EQ(sink.finishes(), 1);
}

TEST(SessionDeliveryTest, SinkFailureEndsDeliveryAndIsReported) {
  RecordingSink failing;
  failing.before_write = [](std::int64_t index) -> Status {
    return index == 2 ? Status(Error{"disk full", ENOSPC}) : Status{};
  };
  RecordingSink other;
  Options options;
  options.sinks = {&failing, &other};
  auto session = MakeSession(options);
  ASSERT_TRUE(session);
  const auto data = Packet(30);
  ASSERT_TRUE(session->BeginDelivery());
  EXPECT_TRUE(session->Deliver(Record(data)));
  EXPECT_TRUE(session->Deliver(Record(data)));
  EXPECT_FALSE(session->Deliver(Record(data)));
  session->EndDelivery(true);
  EXPECT_TRUE(session->WaitDoneFor(std::chrono::seconds(10)));
  EXPECT_FALSE(session->error().ok());
  EXPECT_EQ(session->error().error().errnum, ENOSPC);
  EXPECT_EQ(failing.finishes(), 0); // a failed sink gets no further call
  EXPECT_EQ(other.finishes(), 1);
  EXPECT_EQ(other.writes(), 2);
}

// Stop from another thread while a batch is held: it waits for the batch,
// and every packet delivered before it is written and finished.
TEST(SessionDeliveryTest, StopWaitsForTheBatchInProgress) {
  RecordingSink sink;
  Options options;
  options.sinks = {&sink};
  auto session = MakeSession(options);
  ASSERT_TRUE(session);
  const auto data = Packet(30);
  ASSERT_TRUE(session->BeginDelivery());
  ASSERT_TRUE(session->Deliver(Record(data)));
  std::atomic<bool> stopped{false};
  std::thread stopper([&] {
    session->Stop();
    stopped = true;
  });
  std::this_thread::sleep_for(50ms);
  EXPECT_FALSE(stopped.load());                 // the sinks are still held
  EXPECT_FALSE(session->Deliver(Record(data))); // Stop began: refused
  session->EndDelivery(false);
  stopper.join();
  EXPECT_EQ(sink.writes(), 1);
  EXPECT_EQ(sink.finishes(), 1);
  EXPECT_EQ(session->GetStats().received, 1);
}

// A sink that stops the session from inside a delivery does not deadlock.
TEST(SessionDeliveryTest, StopFromASinkDuringDelivery) {
  RecordingSink sink;
  Session* self = nullptr;
  sink.before_write = [&](std::int64_t index) -> Status {
    if (index == 1) {
      self->Stop();
    }
    return {};
  };
  Options options;
  options.sinks = {&sink};
  auto session = MakeSession(options);
  ASSERT_TRUE(session);
  self = session.get();
  const auto data = Packet(30);
  ASSERT_TRUE(session->BeginDelivery());
  EXPECT_TRUE(session->Deliver(Record(data)));
  session->Deliver(Record(data)); // stops the session from the sink
  EXPECT_FALSE(session->Deliver(Record(data)));
  session->EndDelivery(true);
  EXPECT_TRUE(session->WaitDoneFor(std::chrono::seconds(10)));
  EXPECT_EQ(sink.writes(), 2);
  EXPECT_EQ(sink.finishes(), 1);
}

// Offer's writer thread and a delivering thread share the sinks: both
// streams arrive whole, never interleaved inside a sink call.
TEST(SessionDeliveryTest, OfferAndDeliveryShareTheSinks) {
  RecordingSink sink;
  Options options;
  options.sinks = {&sink};
  options.buf_size = 64;
  auto session = MakeSession(options);
  ASSERT_TRUE(session);
  constexpr int kEach = 5000;
  std::thread deliverer([&] {
    const auto data = Packet(30, 1);
    for (int i = 0; i < kEach; i += 100) {
      ASSERT_TRUE(session->BeginDelivery());
      for (int j = 0; j < 100; ++j) {
        ASSERT_TRUE(session->Deliver(Record(data)));
      }
      session->EndDelivery(false);
    }
  });
  const auto data = Packet(30, 2);
  for (int i = 0; i < kEach; ++i) {
    ASSERT_TRUE(session->OfferWait(Record(data)));
  }
  deliverer.join();
  session->Stop();
  const auto got = sink.packets();
  ASSERT_EQ(got.size(), 2u * kEach);
  EXPECT_EQ(std::count_if(got.begin(), got.end(), [](const Captured& c) { return c.data[0] == 1; }),
            kEach);
  EXPECT_EQ(session->GetStats().packets, 2 * kEach);
}

} // namespace
} // namespace wgcap
