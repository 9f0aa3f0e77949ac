// SPDX-License-Identifier: Apache-2.0
// Offer's producer lanes (issue 20): each offering thread queues into a lane
// of its own, threads beyond Options::producer_lanes share one queue, and
// the counts stay exact however the threads race each other, a full queue
// and Stop.
#include "session_test_support.hpp"

namespace wgcap {
namespace {

// Packet `seq` of producer `producer`: byte 0 the producer, bytes 1-4 the
// sequence number, the rest a pattern of both (a torn copy shows).
std::vector<std::uint8_t> Numbered(std::uint8_t producer, std::uint32_t seq) {
  std::vector<std::uint8_t> bytes(24 + seq % 40);
  bytes[0] = producer;
  for (int i = 0; i < 4; ++i) {
    bytes[1 + i] = static_cast<std::uint8_t>(seq >> (8 * i));
  }
  for (std::size_t i = 5; i < bytes.size(); ++i) {
    bytes[i] = static_cast<std::uint8_t>(producer * 13 + seq * 5 + i);
  }
  return bytes;
}

std::uint32_t SeqOf(const std::vector<std::uint8_t>& bytes) {
  return std::uint32_t{bytes[1]} | std::uint32_t{bytes[2]} << 8 | std::uint32_t{bytes[3]} << 16 |
         std::uint32_t{bytes[4]} << 24;
}

// Every packet intact, and each producer's in the order it offered them
// (strictly increasing; all of them when `complete`). Returns how many each
// producer had written.
std::vector<std::int64_t> CheckPerProducer(const RecordingSink& sink, int producers,
                                           std::uint32_t per_producer, bool complete) {
  std::vector<std::int64_t> next(producers, 0);
  std::vector<std::int64_t> count(producers, 0);
  for (const Captured& packet : sink.packets()) {
    EXPECT_GE(packet.data.size(), 24u);
    if (packet.data.size() < 24 || packet.data[0] >= producers) {
      ADD_FAILURE() << "foreign packet";
      continue;
    }
    const std::uint8_t producer = packet.data[0];
    const std::uint32_t seq = SeqOf(packet.data);
    EXPECT_EQ(packet.data, Numbered(producer, seq)) << int{producer} << " " << seq;
    if (complete) {
      EXPECT_EQ(seq, next[producer]) << int{producer};
    } else {
      EXPECT_GE(seq, next[producer]) << int{producer};
    }
    next[producer] = std::int64_t{seq} + 1;
    ++count[producer];
  }
  if (complete) {
    for (int p = 0; p < producers; ++p) {
      EXPECT_EQ(count[p], per_producer) << p;
    }
  }
  return count;
}

// Runs `body(producer)` on `producers` threads started together.
void RunProducers(int producers, const std::function<void(std::uint8_t)>& body) {
  std::atomic<int> ready{0};
  std::vector<std::thread> threads;
  for (int p = 0; p < producers; ++p) {
    threads.emplace_back([&, p] {
      ++ready;
      while (ready.load() < producers) {
        std::this_thread::yield();
      }
      body(static_cast<std::uint8_t>(p));
    });
  }
  for (auto& t : threads) {
    t.join();
  }
}

// Two producers at once on lanes of their own, and then five on two lanes
// (three share the fallback queue): nothing lost, nothing reordered within
// a producer.
void OfferWaitFromThreads(int producers, std::size_t lanes) {
  constexpr std::uint32_t kPerProducer = 3000;
  RecordingSink sink;
  Options options;
  options.sinks = {&sink};
  options.buf_size = 16; // small, so producers wait and the writer laps
  options.producer_lanes = lanes;
  auto session = MakeSession(options);
  ASSERT_TRUE(session);
  RunProducers(producers, [&](std::uint8_t p) {
    for (std::uint32_t seq = 0; seq < kPerProducer; ++seq) {
      const auto data = Numbered(p, seq);
      ASSERT_TRUE(session->OfferWait(Record(data)));
    }
  });
  session->Stop();
  const Stats stats = session->GetStats();
  const std::int64_t total = std::int64_t{producers} * kPerProducer;
  EXPECT_EQ(stats.received, total);
  EXPECT_EQ(stats.matched, total);
  EXPECT_EQ(stats.packets, total);
  EXPECT_EQ(stats.dropped, 0);
  CheckPerProducer(sink, producers, kPerProducer, true);
  EXPECT_EQ(sink.finishes(), 1);
}

TEST(SessionLanesTest, TwoProducersConcurrently) {
  OfferWaitFromThreads(2, 0);
}

TEST(SessionLanesTest, MoreProducersThanLanesShareTheFallbackQueue) {
  OfferWaitFromThreads(5, 2);
}

// With the writer held, each lane and the shared queue fill on their own:
// the lane's thread queues buf_size packets whatever the others do, the two
// threads without a lane share one queue of buf_size, and every refused
// packet is exactly one drop.
TEST(SessionLanesTest, LanesAndTheSharedQueueFillSeparately) {
  constexpr std::size_t kSlots = 8;
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
  options.producer_lanes = 1;
  auto session = MakeSession(options);
  ASSERT_TRUE(session);
  OpenOnExit open_on_exit{release};

  // Offers `count` packets on a thread of its own; returns how many queued.
  auto offer_on_thread = [&](int count) {
    int queued = 0;
    std::thread t([&] {
      const auto data = Packet(40);
      for (int i = 0; i < count; ++i) {
        queued += session->Offer(data, true) ? 1 : 0;
      }
    });
    t.join();
    return queued;
  };
  // This thread takes the only lane; the writer holds its first packet.
  const auto data = Packet(40);
  ASSERT_TRUE(session->Offer(data, true));
  ASSERT_TRUE(entered.WaitFor(kGuard));
  EXPECT_EQ(offer_on_thread(5), 5);  // no lane left: the shared queue
  EXPECT_EQ(offer_on_thread(10), 3); // the same shared queue, now full
  int lane_queued = 0;
  for (std::size_t i = 1; i < kSlots + 4; ++i) {
    lane_queued += session->Offer(data, true) ? 1 : 0;
  }
  EXPECT_EQ(lane_queued, static_cast<int>(kSlots) - 1); // the lane, untouched by them
  EXPECT_EQ(session->GetStats().dropped, 7 + 4);
  release.Open();
  session->Stop();

  const Stats stats = session->GetStats();
  EXPECT_EQ(stats.received, 1 + 5 + 10 + static_cast<std::int64_t>(kSlots) + 3);
  EXPECT_EQ(stats.matched, stats.received);
  EXPECT_EQ(stats.packets, 2 * static_cast<std::int64_t>(kSlots));
  EXPECT_EQ(stats.packets + stats.dropped, stats.matched);
  EXPECT_EQ(sink.writes(), stats.packets);
}

// Racing producers on small queues, half the packets filtered out, then
// Stop while they still offer: received = matched + filtered, matched =
// written + dropped, every Offer that returned true written, nothing counted
// after Stop. Repeated, since the race falls differently each time.
TEST(SessionLanesTest, ExactCountsUnderDropsAndStop) {
  // Slow on some packets: it runs between Offer's check that the session
  // accepts and the packet's publication, so Stop often falls in between.
  class EvenSeq final : public Matcher {
  public:
    bool MatchParsed(const ParsedPacket& packet) const override {
      if (packet.original_length % 4 == 0) {
        const auto until = std::chrono::steady_clock::now() + 20us;
        while (std::chrono::steady_clock::now() < until) {
        }
      }
      return packet.original_length % 2 == 0;
    }
  };
  constexpr int kProducers = 4;
  for (int round = 0; round < 10; ++round) {
    RecordingSink sink;
    Options options;
    options.sinks = {&sink};
    options.buf_size = 4;
    options.producer_lanes = 2; // two lanes, two threads on the shared queue
    options.matcher = std::make_shared<EvenSeq>();
    auto session = MakeSession(options);
    ASSERT_TRUE(session);

    std::atomic<std::int64_t> accepted_even{0}; // offered while running, even length
    std::atomic<std::int64_t> queued{0};
    std::atomic<bool> stopped{false};
    std::atomic<std::int64_t> queued_after_stop{0};
    std::thread stopper([&] {
      Eventually([&] { return session->GetStats().packets >= 200; });
      session->Stop();
      stopped = true;
    });
    RunProducers(kProducers, [&](std::uint8_t p) {
      for (std::uint32_t seq = 0; !stopped.load(); ++seq) {
        const auto data = Numbered(p, seq);
        const bool ok = session->Offer(data, false);
        queued += ok ? 1 : 0;
        accepted_even += ok && data.size() % 2 == 0 ? 1 : 0;
      }
      for (std::uint32_t seq = 0; seq < 50; ++seq) {
        const auto data = Numbered(p, seq);
        queued_after_stop += session->Offer(data, false) ? 1 : 0;
      }
    });
    stopper.join();

    const Stats stats = session->GetStats();
    EXPECT_EQ(queued_after_stop.load(), 0);
    EXPECT_GE(stats.received, stats.matched);
    EXPECT_GT(stats.received - stats.matched, 0); // the odd ones were filtered
    EXPECT_EQ(stats.packets + stats.dropped, stats.matched);
    EXPECT_EQ(stats.packets, queued.load());
    EXPECT_EQ(accepted_even.load(), queued.load()); // only even lengths queue
    EXPECT_EQ(sink.writes(), stats.packets);
    EXPECT_EQ(sink.finishes(), 1);
    EXPECT_EQ(sink.final_stats().packets, stats.packets);
    const auto per_producer = CheckPerProducer(sink, kProducers, 0, false);
    std::int64_t sum = 0;
    for (std::int64_t n : per_producer) {
      sum += n;
    }
    EXPECT_EQ(sum, stats.packets);
    if (HasFailure()) {
      break;
    }
  }
}

// A thread offering into two sessions in turn keeps its lane in each (the
// per-thread cache remembers one session at a time).
TEST(SessionLanesTest, OneThreadAlternatingBetweenSessions) {
  RecordingSink sink_a;
  RecordingSink sink_b;
  Options options;
  options.buf_size = 4096;
  options.producer_lanes = 1;
  options.sinks = {&sink_a};
  auto a = MakeSession(options);
  options.sinks = {&sink_b};
  auto b = MakeSession(options);
  ASSERT_TRUE(a && b);
  for (std::uint32_t seq = 0; seq < 1000; ++seq) {
    const auto data = Numbered(0, seq);
    ASSERT_TRUE(a->OfferWait(Record(data)));
    ASSERT_TRUE(b->OfferWait(Record(data)));
  }
  // Another thread finds both lanes taken: the shared queue still works.
  std::thread other([&] {
    const auto data = Numbered(1, 0);
    EXPECT_TRUE(a->OfferWait(Record(data)));
  });
  other.join();
  a->Stop();
  b->Stop();
  CheckPerProducer(sink_b, 1, 1000, true);
  const auto counts = CheckPerProducer(sink_a, 2, 0, false);
  EXPECT_EQ(counts[0], 1000);
  EXPECT_EQ(counts[1], 1);
  EXPECT_EQ(a->GetStats().packets, 1001);
  EXPECT_EQ(b->GetStats().packets, 1000);
}

TEST(SessionLanesTest, TooManyLanesIsAClearError) {
  RecordingSink sink;
  Options options;
  options.sinks = {&sink};
  options.producer_lanes = 1000;
  auto session = Session::Create(options);
  ASSERT_FALSE(session);
  EXPECT_NE(session.error().message.find("producer lanes"), std::string::npos)
      << session.error().message;
}

} // namespace
} // namespace wgcap
