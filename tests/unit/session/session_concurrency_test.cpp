// SPDX-License-Identifier: Apache-2.0
// Session under racing producers: exact drop counts on a full queue, every
// packet intact from many threads, Stop and the destructor while they offer.
#include "session_test_support.hpp"

namespace wgcap {
namespace {

TEST(SessionTest, FullQueueCountsExactDrops) {
  constexpr std::size_t kSlots = 8;
  constexpr int kExtra = 5;
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
  options.buf_size = kSlots;
  auto session = MakeSession(options);
  ASSERT_TRUE(session);
  OpenOnExit open_on_exit{release};

  const auto data = Packet(40);
  ASSERT_TRUE(session->Offer(data, true));
  // The writer now holds packet 0 in its slot, so kSlots - 1 more fit.
  ASSERT_TRUE(entered.WaitFor(kGuard));
  for (std::size_t i = 1; i < kSlots; ++i) {
    EXPECT_TRUE(session->Offer(data, true)) << i;
  }
  for (int i = 0; i < kExtra; ++i) {
    EXPECT_FALSE(session->Offer(data, true)) << i;
  }
  EXPECT_EQ(session->GetStats().dropped, kExtra);
  release.Open();
  session->Stop();

  const Stats stats = session->GetStats();
  EXPECT_EQ(stats.received, static_cast<std::int64_t>(kSlots) + kExtra);
  EXPECT_EQ(stats.dropped, kExtra);
  EXPECT_EQ(stats.packets, static_cast<std::int64_t>(kSlots));
  EXPECT_EQ(sink.writes(), static_cast<std::int64_t>(kSlots));
}

// Payload for the concurrency tests: producer id, sequence number and a
// pattern derived from both, so a torn or mixed-up copy is detected.
constexpr std::size_t kMaxPayload = 72;

std::size_t PayloadSize(std::uint32_t seq) {
  return 8 + seq % 64;
}

std::uint8_t Pattern(std::uint32_t producer, std::uint32_t seq, std::size_t i) {
  return static_cast<std::uint8_t>(producer * 31 + seq * 7 + i);
}

std::span<const std::uint8_t> FillPayload(std::array<std::uint8_t, kMaxPayload>& buf,
                                          std::uint32_t producer, std::uint32_t seq) {
  const std::size_t size = PayloadSize(seq);
  for (int i = 0; i < 4; ++i) {
    buf[i] = static_cast<std::uint8_t>(producer >> (8 * i));
    buf[4 + i] = static_cast<std::uint8_t>(seq >> (8 * i));
  }
  for (std::size_t i = 8; i < size; ++i) {
    buf[i] = Pattern(producer, seq, i);
  }
  return std::span(buf.data(), size);
}

// Checks every packet on the writer thread; read it only after Stop.
class SequenceCheckSink : public PacketSink {
public:
  explicit SequenceCheckSink(std::uint32_t producers) : next_(producers, 0) {}

  Status WritePacket(const PacketRecord& packet) override {
    ++written;
    const auto& d = packet.data;
    if (d.size() < 8) {
      ++corrupt;
      return {};
    }
    std::uint32_t producer = 0;
    std::uint32_t seq = 0;
    for (int i = 0; i < 4; ++i) {
      producer |= std::uint32_t{d[i]} << (8 * i);
      seq |= std::uint32_t{d[4 + i]} << (8 * i);
    }
    if (producer >= next_.size() || d.size() != PayloadSize(seq) ||
        packet.original_length != d.size()) {
      ++corrupt;
      return {};
    }
    for (std::size_t i = 8; i < d.size(); ++i) {
      if (d[i] != Pattern(producer, seq, i)) {
        ++corrupt;
        return {};
      }
    }
    // Strictly increasing per producer: no reordering, no duplicate.
    if (seq < next_[producer]) {
      ++out_of_order;
    }
    next_[producer] = seq + 1;
    return {};
  }
  Status Flush() override { return {}; }
  Status Finish(const Stats&) override {
    ++finishes;
    return {};
  }

  std::int64_t written = 0;
  std::int64_t corrupt = 0;
  std::int64_t out_of_order = 0;
  int finishes = 0;

private:
  std::vector<std::uint32_t> next_;
};

TEST(SessionTest, ManyProducersKeepEveryPacketIntact) {
  constexpr std::uint32_t kProducers = 8;
  constexpr std::uint32_t kPerProducer = 20'000;
  SequenceCheckSink sink(kProducers);
  Options options;
  options.sinks = {&sink};
  auto session = MakeSession(options);
  ASSERT_TRUE(session);

  std::atomic<std::int64_t> queued{0};
  std::vector<std::thread> producers;
  for (std::uint32_t p = 0; p < kProducers; ++p) {
    producers.emplace_back([&, p] {
      std::array<std::uint8_t, kMaxPayload> buf{};
      std::int64_t mine = 0;
      for (std::uint32_t seq = 0; seq < kPerProducer; ++seq) {
        mine += session->Offer(FillPayload(buf, p, seq), p % 2 == 0) ? 1 : 0;
      }
      queued += mine;
    });
  }
  for (auto& t : producers) {
    t.join();
  }
  session->Stop();

  const std::int64_t total = std::int64_t{kProducers} * kPerProducer;
  const Stats stats = session->GetStats();
  EXPECT_EQ(stats.received, total);
  EXPECT_EQ(stats.matched, total);
  EXPECT_EQ(stats.packets + stats.dropped, total);
  EXPECT_EQ(stats.packets, queued.load());
  EXPECT_EQ(sink.written, stats.packets);
  EXPECT_EQ(sink.corrupt, 0);
  EXPECT_EQ(sink.out_of_order, 0);
  EXPECT_EQ(sink.finishes, 1);
}

TEST(SessionTest, StopWhileProducersOffer) {
  constexpr int kProducers = 4;
  RecordingSink sink;
  Options options;
  options.sinks = {&sink};
  options.buf_size = 64;
  auto session = MakeSession(options);
  ASSERT_TRUE(session);

  std::atomic<std::int64_t> offered{0};
  std::atomic<std::int64_t> queued{0};
  std::atomic<std::int64_t> queued_after_done{0};
  std::vector<std::thread> producers;
  for (int p = 0; p < kProducers; ++p) {
    producers.emplace_back([&] {
      const auto data = Packet(64);
      while (!session->Done()) {
        queued += session->Offer(data, true) ? 1 : 0;
        ++offered;
      }
      for (int i = 0; i < 100; ++i) {
        queued_after_done += session->Offer(data, true) ? 1 : 0;
        queued_after_done += session->OfferWait(Record(data)) ? 1 : 0;
      }
    });
  }
  ASSERT_TRUE(Eventually([&] { return session->GetStats().packets >= 1000; }));
  session->Stop();
  for (auto& t : producers) {
    t.join();
  }

  const Stats stats = session->GetStats();
  EXPECT_EQ(queued_after_done.load(), 0);
  EXPECT_LE(stats.received, offered.load());
  EXPECT_EQ(stats.matched, stats.received);
  EXPECT_EQ(stats.packets + stats.dropped, stats.received);
  EXPECT_EQ(stats.packets, queued.load());
  EXPECT_EQ(sink.writes(), stats.packets);
  EXPECT_EQ(sink.finishes(), 1);
  EXPECT_EQ(sink.final_stats().packets, stats.packets);
}

TEST(SessionTest, DoneAndWaitDoneFor) {
  RecordingSink sink;
  Options options;
  options.sinks = {&sink};
  auto session = MakeSession(options);
  ASSERT_TRUE(session);
  EXPECT_FALSE(session->Done());
  EXPECT_FALSE(session->WaitDoneFor(20ms));
  session->Stop();
  EXPECT_TRUE(session->Done());
  EXPECT_TRUE(session->WaitDoneFor(0ms));
  session->WaitDone();
  EXPECT_EQ(sink.finishes(), 1);
}

TEST(SessionTest, ConcurrentStopIsIdempotent) {
  RecordingSink sink;
  Options options;
  options.sinks = {&sink};
  auto session = MakeSession(options);
  ASSERT_TRUE(session);
  const auto data = Packet(40);
  for (int i = 0; i < 100; ++i) {
    ASSERT_TRUE(session->OfferWait(Record(data)));
  }
  std::vector<std::thread> stoppers;
  for (int i = 0; i < 4; ++i) {
    stoppers.emplace_back([&] {
      session->Stop();
      // Every caller returns only once the writer is gone.
      EXPECT_TRUE(session->Done());
    });
  }
  for (auto& t : stoppers) {
    t.join();
  }
  session->Stop();
  EXPECT_EQ(sink.writes(), 100);
  EXPECT_EQ(sink.finishes(), 1);
  EXPECT_GE(sink.flushes(), 1);
  EXPECT_FALSE(session->Offer(data, true));
  EXPECT_EQ(session->GetStats().received, 100);
  EXPECT_EQ(session->GetStats().dropped, 0);
}

TEST(SessionTest, DestructorStops) {
  RecordingSink sink;
  {
    Options options;
    options.sinks = {&sink};
    auto session = MakeSession(options);
    ASSERT_TRUE(session);
    const auto data = Packet(40);
    for (int i = 0; i < 10; ++i) {
      ASSERT_TRUE(session->Offer(data, false));
    }
  }
  EXPECT_EQ(sink.writes(), 10);
  EXPECT_EQ(sink.finishes(), 1);
}

TEST(SessionTest, StopFromSinkDoesNotDeadlock) {
  RecordingSink sink;
  Session* self = nullptr;
  sink.before_write = [&](std::int64_t index) -> Status {
    if (index == 2) {
      self->Stop();
    }
    return {};
  };
  Options options;
  options.sinks = {&sink};
  auto session = MakeSession(options);
  ASSERT_TRUE(session);
  self = session.get();
  const auto data = Packet(40);
  int queued = 0;
  for (int i = 0; i < 10; ++i) {
    queued += session->OfferWait(Record(data)) ? 1 : 0;
  }
  ASSERT_TRUE(session->WaitDoneFor(kGuard));
  session->Stop();
  // Everything queued before the sink's Stop was drained.
  EXPECT_EQ(sink.writes(), queued);
  EXPECT_GE(queued, 3);
  EXPECT_EQ(sink.finishes(), 1);
}

} // namespace
} // namespace wgcap
