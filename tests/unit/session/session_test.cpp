// SPDX-License-Identifier: Apache-2.0
#include "wgcap/session.hpp"

#include <gtest/gtest.h>

#include <algorithm>
#include <array>
#include <atomic>
#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <functional>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include "wgcap/byte_writer.hpp"
#include "wgcap/pcap_writer.hpp"

namespace wgcap {
namespace {

using namespace std::chrono_literals;

// Only a guard against hangs; no test depends on how fast anything is.
constexpr auto kGuard = 5s;

std::int64_t NowNs() {
  return std::chrono::duration_cast<std::chrono::nanoseconds>(
             std::chrono::system_clock::now().time_since_epoch())
      .count();
}

std::vector<std::uint8_t> Packet(std::size_t size, std::uint8_t first = 0x45) {
  std::vector<std::uint8_t> bytes(size);
  for (std::size_t i = 0; i < size; ++i) {
    bytes[i] = static_cast<std::uint8_t>(i * 7 + 3);
  }
  if (size > 0) {
    bytes[0] = first;
  }
  return bytes;
}

PacketRecord Record(std::span<const std::uint8_t> data) {
  return PacketRecord{.timestamp_ns = 1'700'000'000'000'000'000, .data = data};
}

std::unique_ptr<Session> MakeSession(Options options) {
  auto session = Session::Create(std::move(options));
  if (!session) {
    ADD_FAILURE() << session.error().message;
    return nullptr;
  }
  return std::move(session).value();
}

// Waits until `condition` holds; false after kGuard.
bool Eventually(const std::function<bool()>& condition) {
  const auto deadline = std::chrono::steady_clock::now() + kGuard;
  while (!condition()) {
    if (std::chrono::steady_clock::now() > deadline) {
      return false;
    }
    std::this_thread::sleep_for(1ms);
  }
  return true;
}

// A door the writer thread can be held at.
class Gate {
public:
  void Open() {
    {
      std::lock_guard lock(mutex_);
      open_ = true;
    }
    cv_.notify_all();
  }
  void Wait() {
    std::unique_lock lock(mutex_);
    cv_.wait(lock, [this] { return open_; });
  }
  bool WaitFor(std::chrono::milliseconds timeout) {
    std::unique_lock lock(mutex_);
    return cv_.wait_for(lock, timeout, [this] { return open_; });
  }

private:
  std::mutex mutex_;
  std::condition_variable cv_;
  bool open_ = false;
};

// Declared after the session so a failing test cannot leave the writer held
// at a gate while the session's destructor joins it.
struct OpenOnExit {
  Gate& gate;
  ~OpenOnExit() { gate.Open(); }
};

struct Captured {
  std::int64_t timestamp_ns;
  std::vector<std::uint8_t> data;
  std::uint32_t original_length;
  Direction direction;
  std::uint32_t ifindex;
};

// Records everything the writer hands it; safe to poll from the test thread.
class RecordingSink : public PacketSink {
public:
  // Runs on the writer thread before packet number `index` (0-based) is
  // recorded; a failure is returned to the session.
  std::function<Status(std::int64_t index)> before_write;

  Status WritePacket(const PacketRecord& packet) override {
    const std::int64_t index = writes_.load();
    if (before_write) {
      if (Status status = before_write(index); !status) {
        failed_writes_.fetch_add(1);
        return status;
      }
    }
    {
      std::lock_guard lock(mutex_);
      packets_.push_back(Captured{packet.timestamp_ns,
                                  {packet.data.begin(), packet.data.end()},
                                  packet.original_length,
                                  packet.direction,
                                  packet.ifindex});
    }
    writes_.fetch_add(1);
    return {};
  }
  Status Flush() override {
    flushes_.fetch_add(1);
    return {};
  }
  Status Finish(const Stats& final_stats) override {
    std::lock_guard lock(mutex_);
    final_stats_ = final_stats;
    finishes_.fetch_add(1);
    return {};
  }

  std::int64_t writes() const { return writes_.load(); }
  std::int64_t failed_writes() const { return failed_writes_.load(); }
  std::int64_t flushes() const { return flushes_.load(); }
  std::int64_t finishes() const { return finishes_.load(); }
  std::vector<Captured> packets() const {
    std::lock_guard lock(mutex_);
    return packets_;
  }
  Stats final_stats() const {
    std::lock_guard lock(mutex_);
    return final_stats_;
  }

private:
  mutable std::mutex mutex_;
  std::vector<Captured> packets_;
  Stats final_stats_;
  std::atomic<std::int64_t> writes_{0};
  std::atomic<std::int64_t> failed_writes_{0};
  std::atomic<std::int64_t> flushes_{0};
  std::atomic<std::int64_t> finishes_{0};
};

std::uint32_t ReadLe32(const std::vector<std::uint8_t>& b, std::size_t at) {
  return std::uint32_t{b[at]} | std::uint32_t{b[at + 1]} << 8 | std::uint32_t{b[at + 2]} << 16 |
         std::uint32_t{b[at + 3]} << 24;
}

// Every one of `count` packets written, none dropped, in the order offered
// (packet i starts with the byte i).
void ExpectAllInOrder(const Session& session, const RecordingSink& sink, int count) {
  const Stats stats = session.GetStats();
  EXPECT_EQ(stats.dropped, 0);
  EXPECT_EQ(stats.packets, count);
  const auto got = sink.packets();
  ASSERT_EQ(got.size(), static_cast<std::size_t>(count));
  for (int i = 0; i < count; ++i) {
    EXPECT_EQ(got[i].data[0], static_cast<std::uint8_t>(i)) << i;
  }
}

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

// A kernel-ring source: many packets per wake-up of the writer, none
// dropped however slow the writer. The producer wakes the writer itself
// before it waits for room: without that, every queue's worth would wait for
// the writer's idle timeout (measured: 1.3 ms a packet, 13 s here, past kGuard).
TEST(SessionTest, OfferInBatchNeverDropsAndWakesTheWriterBeforeWaiting) {
  RecordingSink sink;
  Options options;
  options.sinks = {&sink};
  options.buf_size = 4;
  auto session = MakeSession(options);
  ASSERT_TRUE(session);
  constexpr int kPackets = 10000;
  std::atomic<bool> offered{false};
  std::thread producer([&] {
    for (int i = 0; i < kPackets; ++i) {
      const auto data = Packet(30, static_cast<std::uint8_t>(i));
      if (!session->OfferInBatch(Record(data))) {
        ADD_FAILURE() << "refused packet " << i;
        break;
      }
    }
    offered = true;
  });
  const bool finished = Eventually([&] { return offered.load(); });
  if (!finished) {
    session->Stop(); // lets the producer leave before the join
  }
  producer.join();
  ASSERT_TRUE(finished) << "OfferInBatch stalled on a full queue";
  // The last packets were queued without a wake-up: EndBatch gives it.
  session->EndBatch();
  EXPECT_TRUE(Eventually([&] { return sink.writes() == kPackets; })) << sink.writes();
  session->Stop();
  ExpectAllInOrder(*session, sink, kPackets);
}

TEST(SessionTest, OfferInBatchReturnsFalseAfterStop) {
  RecordingSink sink;
  Options options;
  options.sinks = {&sink};
  auto session = MakeSession(options);
  ASSERT_TRUE(session);
  const auto data = Packet(40);
  ASSERT_TRUE(session->OfferInBatch(Record(data)));
  session->EndBatch();
  session->Stop();
  EXPECT_FALSE(session->OfferInBatch(Record(data)));
  EXPECT_EQ(sink.writes(), 1);
  EXPECT_EQ(session->GetStats().received, 1);
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

  const auto data = Packet(40);
  ASSERT_TRUE(session->Offer(data, true));
  ASSERT_TRUE(entered.WaitFor(kGuard));
  ASSERT_TRUE(session->Offer(data, true)); // the queue is now full

  std::atomic<int> result{-1};
  std::thread waiter([&] { result = session->OfferWait(Record(data)) ? 1 : 0; });
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
  session->SetKernelCounters(10, 8, 3, 2, 1);
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
