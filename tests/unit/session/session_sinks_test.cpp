// SPDX-License-Identifier: Apache-2.0
// What the writer thread does with its sinks: a failing sink stops the
// capture, flushes (idle, every packet, periodic), the kernel counters merged.
#include "session_test_support.hpp"

namespace wgcap {
namespace {

TEST(SessionTest, SinkFailureStopsCapture) {
  RecordingSink failing;
  failing.before_write = [](std::int64_t index) -> Status {
    if (index == 2) {
      return Error{"write capture.pcap: No space left on device", 28};
    }
    return {};
  };
  RecordingSink healthy;
  Options options;
  options.sinks = {&failing, &healthy};
  auto session = MakeSession(options);
  ASSERT_TRUE(session);
  const auto data = Packet(40);
  for (int i = 0; i < 10; ++i) {
    if (!session->OfferWait(Record(data))) {
      break;
    }
  }
  ASSERT_TRUE(session->WaitDoneFor(kGuard));
  EXPECT_FALSE(session->error().ok());
  EXPECT_EQ(session->error().error().message, "write capture.pcap: No space left on device");
  EXPECT_FALSE(session->Offer(data, true));
  EXPECT_FALSE(session->OfferWait(Record(data)));
  session->Stop();

  EXPECT_EQ(failing.writes(), 2);
  EXPECT_EQ(failing.failed_writes(), 1); // nothing tried after the failure
  EXPECT_EQ(failing.finishes(), 0);
  EXPECT_EQ(healthy.writes(), 2);
  EXPECT_EQ(healthy.finishes(), 1);
  EXPECT_EQ(session->GetStats().packets, 2);
  EXPECT_EQ(session->GetStats().dropped, 0);
}

TEST(SessionTest, FlushesWhenQueueRunsEmpty) {
  RecordingSink sink;
  Options options;
  options.sinks = {&sink};
  auto session = MakeSession(options);
  ASSERT_TRUE(session);
  const auto data = Packet(40);
  ASSERT_TRUE(session->Offer(data, true));
  EXPECT_TRUE(Eventually([&] { return sink.writes() == 1 && sink.flushes() >= 1; }));
  EXPECT_FALSE(session->Done());
  session->Stop();
}

TEST(SessionTest, FlushEveryPacket) {
  RecordingSink sink;
  std::atomic<std::int64_t> unflushed_writes{0};
  // Each packet must have been flushed before the next one arrives.
  sink.before_write = [&](std::int64_t index) -> Status {
    if (sink.flushes() < index) {
      ++unflushed_writes;
    }
    return {};
  };
  Options options;
  options.sinks = {&sink};
  options.flush_every_packet = true;
  auto session = MakeSession(options);
  ASSERT_TRUE(session);
  const auto data = Packet(40);
  for (int i = 0; i < 200; ++i) {
    ASSERT_TRUE(session->OfferWait(Record(data)));
  }
  session->Stop();
  EXPECT_EQ(sink.writes(), 200);
  EXPECT_EQ(unflushed_writes.load(), 0);
  EXPECT_GE(sink.flushes(), sink.writes());
}

TEST(SessionTest, FlushesPeriodicallyWhileQueueStaysBusy) {
  constexpr int kPackets = 150;
  Gate all_offered;
  std::atomic<std::int64_t> flushes_mid_stream{0};
  RecordingSink sink;
  sink.before_write = [&](std::int64_t index) -> Status {
    if (index == 0) {
      // Hold the writer until every packet is queued, so the queue never runs
      // empty before the last one and only the timer can cause a flush.
      all_offered.Wait();
    } else {
      flushes_mid_stream = sink.flushes();
    }
    std::this_thread::sleep_for(1ms);
    return {};
  };
  Options options;
  options.sinks = {&sink};
  options.buf_size = 256;
  auto session = MakeSession(options);
  ASSERT_TRUE(session);
  OpenOnExit open_on_exit{all_offered};
  const auto data = Packet(40);
  for (int i = 0; i < kPackets; ++i) {
    ASSERT_TRUE(session->Offer(data, true));
  }
  all_offered.Open();
  session->Stop();
  EXPECT_EQ(sink.writes(), kPackets);
  // 150 writes of at least 1 ms each span more than one 100 ms interval.
  EXPECT_GE(flushes_mid_stream.load(), 1);
}

TEST(SessionTest, KernelCountersAreMerged) {
  RecordingSink sink;
  Options options;
  options.sinks = {&sink};
  auto session = MakeSession(options);
  ASSERT_TRUE(session);
  session->SetKernelCounters(
      {.seen = 10, .matched = 8, .ring_drops = 3, .drops = 2, .filter_fallback = 1});
  const Stats stats = session->GetStats();
  EXPECT_EQ(stats.kernel_seen, 10);
  EXPECT_EQ(stats.kernel_matched, 8);
  EXPECT_EQ(stats.kernel_ring_drops, 3);
  EXPECT_EQ(stats.kernel_drops, 2);
  EXPECT_EQ(stats.kernel_filter_fallback, 1);
  session->Stop();
  EXPECT_EQ(sink.final_stats().kernel_seen, 10);
}

} // namespace
} // namespace wgcap
