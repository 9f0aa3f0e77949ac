// SPDX-License-Identifier: Apache-2.0
// Several captures feeding one session (`-i wg0,wg1`): each capture's
// consumer thread delivers directly, so the session must hand the sinks to
// one of them at a time, count every packet once, and keep each capture's
// kernel counters apart. The sink here is deliberately not thread-safe:
// under ThreadSanitizer (scripts/sanitize.sh tsan) any overlap is a report,
// and without it the overlap check below still fails the test.
#include "session_test_support.hpp"

namespace wgcap {
namespace {

// Plain counters, no lock: a second thread inside WritePacket is a bug the
// session let through.
class UnsharedSink final : public PacketSink {
public:
  Status WritePacket(const PacketRecord& packet) override {
    if (inside_.exchange(true, std::memory_order_relaxed)) {
      overlaps_.fetch_add(1, std::memory_order_relaxed);
    }
    ++per_interface_[packet.ifindex % per_interface_.size()];
    ++writes_;
    inside_.store(false, std::memory_order_relaxed);
    return {};
  }
  Status Flush() override { return {}; }
  Status Finish(const Stats& stats) override {
    final_stats_ = stats;
    return {};
  }

  // Read after the session stopped (its Stop joins the writer thread, and
  // every deliverer was joined before).
  std::int64_t writes() const { return writes_; }
  std::int64_t written_for(std::uint32_t ifindex) const { return per_interface_[ifindex]; }
  int overlaps() const { return overlaps_.load(); }
  const Stats& final_stats() const { return final_stats_; }

private:
  std::atomic<bool> inside_{false};
  std::atomic<int> overlaps_{0};
  std::array<std::int64_t, 8> per_interface_{};
  std::int64_t writes_ = 0;
  Stats final_stats_;
};

// Each thread is one interface's capture: batches of packets stamped with
// its ifindex, and its kernel counters published between batches.
void DeliverAs(Session& session, std::uint32_t ifindex, int batches, int per_batch) {
  const auto data = Packet(40 + ifindex);
  PacketRecord record = Record(data);
  record.ifindex = ifindex;
  for (int b = 0; b < batches; ++b) {
    ASSERT_TRUE(session.BeginDelivery());
    for (int i = 0; i < per_batch; ++i) {
      ASSERT_TRUE(session.Deliver(record));
    }
    session.EndDelivery(b % 4 == 0);
    session.SetKernelCounters({.seen = (b + 1) * per_batch * 2,
                               .matched = (b + 1) * per_batch,
                               .ring_drops = ifindex,
                               .drops = 0,
                               .filter_fallback = 0},
                              ifindex);
  }
}

TEST(SessionDeliverersTest, SeveralThreadsDeliverOneAtATimeAndEveryPacketCountsOnce) {
  UnsharedSink sink;
  Options options;
  options.sinks = {&sink};
  auto session = MakeSession(options);
  ASSERT_TRUE(session);
  constexpr int kBatches = 200, kPerBatch = 25;
  std::vector<std::thread> captures;
  for (std::uint32_t ifindex : {3u, 5u, 7u}) {
    captures.emplace_back([&, ifindex] { DeliverAs(*session, ifindex, kBatches, kPerBatch); });
  }
  for (std::thread& t : captures) {
    t.join();
  }
  session->Stop();
  EXPECT_EQ(sink.overlaps(), 0) << "two threads were inside the sink at once";
  constexpr std::int64_t kEach = std::int64_t{kBatches} * kPerBatch;
  EXPECT_EQ(sink.writes(), 3 * kEach);
  for (std::uint32_t ifindex : {3u, 5u, 7u}) {
    EXPECT_EQ(sink.written_for(ifindex), kEach) << "ifindex " << ifindex;
  }
  const Stats stats = session->GetStats();
  EXPECT_EQ(stats.received, 3 * kEach);
  EXPECT_EQ(stats.matched, 3 * kEach);
  EXPECT_EQ(stats.packets, 3 * kEach);
  // The kernel side: each source's latest counts, summed.
  ASSERT_EQ(stats.interfaces.size(), 3u);
  EXPECT_EQ(stats.kernel_matched, 3 * kEach);
  EXPECT_EQ(stats.kernel_seen, 6 * kEach);
  EXPECT_EQ(stats.kernel_ring_drops, 3 + 5 + 7);
  for (const InterfaceCounters& c : stats.interfaces) {
    EXPECT_EQ(c.kernel.matched, kEach) << "ifindex " << c.ifindex;
    EXPECT_EQ(c.kernel.ring_drops, c.ifindex);
  }
  EXPECT_EQ(sink.final_stats().interfaces.size(), 3u);
}

// The packet limit (-c) holds across deliverers: exactly that many written,
// and every thread is told to stop.
TEST(SessionDeliverersTest, PacketLimitHoldsAcrossThreads) {
  UnsharedSink sink;
  Options options;
  options.sinks = {&sink};
  options.packet_limit = 1000;
  auto session = MakeSession(options);
  ASSERT_TRUE(session);
  std::atomic<int> stopped{0};
  std::vector<std::thread> captures;
  for (std::uint32_t ifindex : {1u, 2u}) {
    captures.emplace_back([&, ifindex] {
      const auto data = Packet(30);
      PacketRecord record = Record(data);
      record.ifindex = ifindex;
      for (;;) {
        if (!session->BeginDelivery()) {
          break;
        }
        bool more = true;
        for (int i = 0; i < 10 && more; ++i) {
          more = session->Deliver(record);
        }
        session->EndDelivery(false);
        if (!more) {
          break;
        }
      }
      stopped.fetch_add(1);
    });
  }
  for (std::thread& t : captures) {
    t.join();
  }
  EXPECT_EQ(stopped.load(), 2);
  EXPECT_TRUE(session->WaitDoneFor(kGuard));
  session->Stop();
  EXPECT_EQ(sink.overlaps(), 0);
  EXPECT_EQ(sink.writes(), 1000);
  EXPECT_EQ(session->GetStats().packets, 1000);
}

// Sources are told apart by ifindex: republishing replaces, a new ifindex
// adds one, and past kMaxKernelSources the rest are ignored.
TEST(SessionDeliverersTest, KernelCountersPerSource) {
  UnsharedSink sink;
  Options options;
  options.sinks = {&sink};
  auto session = MakeSession(options);
  ASSERT_TRUE(session);
  EXPECT_TRUE(session->GetStats().interfaces.empty());
  for (std::uint32_t ifindex = 1; ifindex <= kMaxKernelSources + 3; ++ifindex) {
    session->SetKernelCounters({.seen = 1}, ifindex);
  }
  session->SetKernelCounters({.seen = 10}, 2); // replaces 1
  const Stats stats = session->GetStats();
  ASSERT_EQ(stats.interfaces.size(), kMaxKernelSources);
  EXPECT_EQ(stats.interfaces[0].ifindex, 1u);
  EXPECT_EQ(stats.interfaces[1].ifindex, 2u);
  EXPECT_EQ(stats.interfaces[1].kernel.seen, 10);
  EXPECT_EQ(stats.kernel_seen, static_cast<std::int64_t>(kMaxKernelSources) - 1 + 10);
  session->Stop();
}

} // namespace
} // namespace wgcap
