// SPDX-License-Identifier: Apache-2.0
// The waiting offers and the packet limit:
// nothing is dropped, and exactly `limit` packets are written however many race.
#include "session_test_support.hpp"

namespace wgcap {
namespace {

TEST(SessionTest, OfferWaitNeverDrops) {
  RecordingSink sink;
  sink.before_write = [](std::int64_t) -> Status {
    std::this_thread::sleep_for(50us);
    return {};
  };
  Options options;
  options.sinks = {&sink};
  options.buf_size = 4;
  auto session = MakeSession(options);
  ASSERT_TRUE(session);
  constexpr int kPackets = 300;
  for (int i = 0; i < kPackets; ++i) {
    const auto data = Packet(30, static_cast<std::uint8_t>(i));
    ASSERT_TRUE(session->OfferWait(Record(data))) << i;
  }
  session->Stop();
  ExpectAllInOrder(*session, sink, kPackets);
}

TEST(SessionTest, OfferWaitOnFullQueueReturnsFalseOnStop) {
  Gate entered;
  Gate release;
  RecordingSink sink;
  sink.before_write = [&](std::int64_t index) -> Status {
    if (index == 0) {
      entered.Open();
      release.Wait();
    }
    return {};
  };
  Options options;
  options.sinks = {&sink};
  options.buf_size = 2;
  auto session = MakeSession(options);
  ASSERT_TRUE(session);
  OpenOnExit open_on_exit{release};

  // One thread fills the queue and then waits on it: each producing thread
  // has a queue (lane) of its own.
  const auto data = Packet(40);
  std::atomic<bool> filled{false};
  std::atomic<int> result{-1};
  Gate full;
  std::thread waiter([&] {
    filled = session->Offer(data, true) && entered.WaitFor(kGuard) &&
             session->Offer(data, true); // the queue is now full
    full.Open();
    result = session->OfferWait(Record(data)) ? 1 : 0;
  });
  ASSERT_TRUE(full.WaitFor(kGuard));
  EXPECT_TRUE(filled.load());
  // Stop blocks until the held writer is released, so run it aside.
  std::thread stopper([&] { session->Stop(); });
  EXPECT_TRUE(Eventually([&] { return result.load() != -1; }));
  EXPECT_EQ(result.load(), 0);
  release.Open();
  stopper.join();
  waiter.join();
  EXPECT_EQ(sink.writes(), 2);
  EXPECT_EQ(session->GetStats().dropped, 0);
}

TEST(SessionTest, PacketLimitWithOfferWait) {
  constexpr std::int64_t kLimit = 1000;
  RecordingSink sink;
  Options options;
  options.sinks = {&sink};
  options.packet_limit = kLimit;
  options.buf_size = 16;
  auto session = MakeSession(options);
  ASSERT_TRUE(session);

  std::atomic<std::int64_t> accepted{0};
  std::vector<std::thread> producers;
  for (int p = 0; p < 4; ++p) {
    producers.emplace_back([&] {
      const auto data = Packet(40);
      for (int i = 0; i < 5000; ++i) {
        if (!session->OfferWait(Record(data))) {
          break;
        }
        ++accepted;
      }
    });
  }
  for (auto& t : producers) {
    t.join();
  }
  // Done without Stop.
  ASSERT_TRUE(session->WaitDoneFor(kGuard));
  EXPECT_EQ(accepted.load(), kLimit);
  EXPECT_EQ(sink.writes(), kLimit);
  EXPECT_EQ(session->GetStats().packets, kLimit);
  EXPECT_EQ(session->GetStats().dropped, 0);
  EXPECT_EQ(sink.finishes(), 1);

  const auto data = Packet(40);
  EXPECT_FALSE(session->Offer(data, true));
  EXPECT_FALSE(session->OfferWait(Record(data)));
  session->Stop();
  EXPECT_EQ(sink.writes(), kLimit);
  EXPECT_EQ(sink.finishes(), 1);
}

TEST(SessionTest, PacketLimitWithRacingOffers) {
  constexpr std::int64_t kLimit = 500;
  RecordingSink sink;
  Options options;
  options.sinks = {&sink};
  options.packet_limit = kLimit;
  options.buf_size = 8;
  auto session = MakeSession(options);
  ASSERT_TRUE(session);

  std::atomic<std::int64_t> queued{0};
  std::vector<std::thread> producers;
  for (int p = 0; p < 4; ++p) {
    producers.emplace_back([&] {
      const auto data = Packet(40);
      while (!session->Done()) {
        queued += session->Offer(data, false) ? 1 : 0;
      }
    });
  }
  const bool done = session->WaitDoneFor(kGuard);
  if (!done) {
    session->Stop(); // lets the producers leave
  }
  for (auto& t : producers) {
    t.join();
  }
  ASSERT_TRUE(done);
  const std::int64_t dropped = session->GetStats().dropped;
  EXPECT_EQ(queued.load(), kLimit);
  EXPECT_EQ(sink.writes(), kLimit);
  EXPECT_EQ(session->GetStats().packets, kLimit);
  EXPECT_EQ(sink.finishes(), 1);
  // Nothing after the limit counts as a drop.
  const auto data = Packet(40);
  EXPECT_FALSE(session->Offer(data, true));
  EXPECT_EQ(session->GetStats().dropped, dropped);
}

} // namespace
} // namespace wgcap
