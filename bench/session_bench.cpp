// SPDX-License-Identifier: Apache-2.0
// Session::Offer, the producer side of the queue, with one and two
// producers (each on a lane of its own). The writer thread drains into a
// sink that does nothing, so what is measured is the queue, not an output.
// When the writer falls behind, a full lane turns an Offer into a counted
// drop (cheaper: no copy); the `queued` counter says which share of the
// Offers were queued. BM_Memcpy is the floor, in the same run: the same
// bytes copied into a ring of the same layout, nothing else.
#include <benchmark/benchmark.h>

#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <memory>
#include <thread>

#include "bench_packets.hpp"
#include "wgcap/filter_parser.hpp"
#include "wgcap/session.hpp"

namespace wgcap::bench {
namespace {

class NullSink final : public PacketSink {
public:
  Status WritePacket(const PacketRecord& packet) override {
    benchmark::DoNotOptimize(packet.data.data());
    return {};
  }
  Status Flush() override { return {}; }
};

NullSink g_sink;
std::unique_ptr<Session> g_session;
const Bytes g_packet = Ipv4Udp();

// g_packet as the ring source offers it: the kernel's timestamp, length and
// direction.
PacketRecord RingRecord() {
  return PacketRecord{.timestamp_ns = 1'700'000'000'000'000'000,
                      .data = g_packet,
                      .original_length = static_cast<std::uint32_t>(g_packet.size()),
                      .direction = Direction::Inbound,
                      .ifindex = 3};
}

void StartSession(std::shared_ptr<const Matcher> matcher,
                  std::shared_ptr<const PeerDirectory> peers = nullptr) {
  Options options;
  options.sinks.push_back(&g_sink);
  options.matcher = std::move(matcher);
  options.peers = std::move(peers);
  // The CLI's queue: default slot count and snaplen.
  auto session = Session::Create(std::move(options));
  if (!session) {
    std::fprintf(stderr, "session: %s\n", session.error().message.c_str());
    std::abort();
  }
  g_session = std::move(session).value();
}

void SetupAll(const benchmark::State&) {
  StartSession(nullptr);
}

void SetupSixTerms(const benchmark::State&) {
  auto matcher = ParseFilter(kSixTermsV4);
  if (!matcher) {
    std::abort();
  }
  StartSession(*matcher);
}

// Attribution (SPEC 10): a server's PeerDirectory, 64 road warriors with a
// /32 and a /128 each and one site whose /24 holds the packet's source
// (198.51.100.1): every packet is parsed and looked up by longest prefix.
constexpr PeerKey kSitePeer{0x5e};

std::shared_ptr<const PeerDirectory> BenchPeers() {
  std::vector<PeerRoute> routes;
  for (std::uint8_t i = 1; i <= 64; ++i) {
    PeerKey key{};
    key[0] = i;
    routes.push_back({key, *IpPrefix::Parse("192.0.2." + std::to_string(i) + "/32")});
    routes.push_back({key, *IpPrefix::Parse("2001:db8::" + std::to_string(i) + "/128")});
  }
  routes.push_back({kSitePeer, *IpPrefix::Parse("198.51.100.0/24")});
  auto peers = std::make_shared<PeerDirectory>();
  peers->Publish(3, std::move(routes)); // RingRecord's interface
  return peers;
}

void SetupPeers(const benchmark::State&) {
  StartSession(nullptr, BenchPeers());
}

// ... and the Matcher `peer KEY` of the site.
void SetupPeerFilter(const benchmark::State&) {
  auto expression = ParseFilterExpression("peer XXXX");
  if (!expression ||
      !ResolvePeerTerms(*expression, [](std::string_view) { return kSitePeer; }).ok()) {
    std::abort();
  }
  StartSession(std::make_shared<const ExpressionMatcher>(std::move(expression).value()),
               BenchPeers());
}

void Teardown(const benchmark::State&) {
  g_session->Stop();
  g_session.reset();
}

// The ring source's path: the record carries the kernel's timestamp.
void BM_OfferRecord(benchmark::State& state) {
  const PacketRecord record = RingRecord();
  std::int64_t queued = 0;
  for (auto _ : state) {
    queued += g_session->Offer(record) ? 1 : 0;
  }
  state.SetItemsProcessed(state.iterations());
  state.counters["queued"] =
      benchmark::Counter(static_cast<double>(queued) / static_cast<double>(state.iterations()),
                         benchmark::Counter::kAvgThreads);
}
BENCHMARK(BM_OfferRecord)
    ->Setup(SetupAll)
    ->Teardown(Teardown)
    ->Threads(1)
    ->Threads(2)
    ->UseRealTime();
// With the 6-term Matcher (parse + match) on a matching packet.
BENCHMARK(BM_OfferRecord)
    ->Name("BM_OfferRecord_6terms")
    ->Setup(SetupSixTerms)
    ->Teardown(Teardown)
    ->Threads(1)
    ->UseRealTime();
// With a PeerDirectory: parse + attribution, then also `peer KEY`.
BENCHMARK(BM_OfferRecord)
    ->Name("BM_OfferRecord_peers")
    ->Setup(SetupPeers)
    ->Teardown(Teardown)
    ->Threads(1)
    ->UseRealTime();
BENCHMARK(BM_OfferRecord)
    ->Name("BM_OfferRecord_peerfilter")
    ->Setup(SetupPeerFilter)
    ->Teardown(Teardown)
    ->Threads(1)
    ->UseRealTime();

// The queued path alone: a queue of kQueued slots starts empty and takes
// exactly kQueued Offers per run, so none is a drop however slowly the
// writer drains. One warm-up pass first, so that no Offer pays for the
// first touch of its slot's page.
constexpr std::int64_t kQueued = 1 << 16;

void SetupQueued(const benchmark::State&) {
  Options options;
  options.sinks.push_back(&g_sink);
  options.snaplen = 128;
  options.buf_size = kQueued;
  auto session = Session::Create(std::move(options));
  if (!session) {
    std::abort();
  }
  g_session = std::move(session).value();
}

void BM_OfferQueued(benchmark::State& state) {
  const PacketRecord record = RingRecord();
  // Each thread warms its own lane (a producing thread's queue).
  for (std::int64_t i = 0; i < kQueued; ++i) {
    (void)g_session->OfferWait(record);
  }
  while (g_session->GetStats().packets < kQueued * state.threads()) {
    std::this_thread::yield();
  }
  std::int64_t queued = 0;
  for (auto _ : state) {
    queued += g_session->Offer(record) ? 1 : 0;
  }
  state.SetItemsProcessed(state.iterations());
  state.counters["queued"] =
      benchmark::Counter(static_cast<double>(queued) / static_cast<double>(state.iterations()),
                         benchmark::Counter::kAvgThreads);
}
BENCHMARK(BM_OfferQueued)
    ->Setup(SetupQueued)
    ->Teardown(Teardown)
    ->Iterations(kQueued)
    ->Repetitions(9)
    ->ReportAggregatesOnly()
    ->Threads(1)
    ->UseRealTime();
BENCHMARK(BM_OfferQueued)
    ->Setup(SetupQueued)
    ->Teardown(Teardown)
    ->Iterations(kQueued / 2)
    ->Repetitions(9)
    ->ReportAggregatesOnly()
    ->Threads(2)
    ->UseRealTime();

// The capture backends' path: direct delivery on the consumer thread,
// straight to the sink, a batch per ring poll (its size the argument), with
// the Matcher of the CLI's default (match all) and of `udp and port 53`.
void BM_Deliver(benchmark::State& state) {
  const PacketRecord record = RingRecord();
  const std::int64_t batch = state.range(0);
  std::int64_t in_batch = 0;
  if (!g_session->BeginDelivery()) {
    state.SkipWithError("session refused delivery");
    return;
  }
  for (auto _ : state) {
    (void)g_session->Deliver(record);
    if (++in_batch == batch) {
      g_session->EndDelivery(false);
      (void)g_session->BeginDelivery();
      in_batch = 0;
    }
  }
  g_session->EndDelivery(true);
  state.SetItemsProcessed(state.iterations());
}
BENCHMARK(BM_Deliver)
    ->Setup(SetupAll)
    ->Teardown(Teardown)
    ->Arg(1)
    ->Arg(64)
    ->Threads(1)
    ->UseRealTime();
// Captures of several interfaces (-i wg0,wg1) delivering into one session:
// their batches take turns on the sinks. An iteration is one whole batch
// (BeginDelivery, 64 packets, EndDelivery), so no thread holds the sinks at
// the benchmark's start and stop barriers; items are packets. With one
// thread it is BM_Deliver/64 plus the batch's own cost; with two, what
// taking turns adds.
void BM_DeliverBatches(benchmark::State& state) {
  const PacketRecord record = RingRecord();
  constexpr int kBatch = 64;
  for (auto _ : state) {
    if (!g_session->BeginDelivery()) {
      state.SkipWithError("session refused delivery");
      break;
    }
    for (int i = 0; i < kBatch; ++i) {
      (void)g_session->Deliver(record);
    }
    g_session->EndDelivery(false);
  }
  state.SetItemsProcessed(state.iterations() * kBatch);
}
BENCHMARK(BM_DeliverBatches)
    ->Setup(SetupAll)
    ->Teardown(Teardown)
    ->Threads(1)
    ->Threads(2)
    ->UseRealTime();
BENCHMARK(BM_Deliver)
    ->Name("BM_Deliver_peers")
    ->Setup(SetupPeers)
    ->Teardown(Teardown)
    ->Arg(64)
    ->Threads(1)
    ->UseRealTime();
BENCHMARK(BM_Deliver)
    ->Name("BM_Deliver_peerfilter")
    ->Setup(SetupPeerFilter)
    ->Teardown(Teardown)
    ->Arg(64)
    ->Threads(1)
    ->UseRealTime();

// The floor Offer is measured against, in the same run: a plain memcpy of
// the same 128 bytes, plus the slot's metadata, into a ring laid out as a
// lane's: {stride, slots} = {128, kQueued} as BM_OfferQueued's queue,
// {65535, 256} (the default snaplen and slot count) as BM_OfferRecord's.
void BM_Memcpy(benchmark::State& state) {
  const auto stride = static_cast<std::size_t>(state.range(0));
  const auto slots = static_cast<std::size_t>(state.range(1));
  const auto ring = std::make_unique<std::uint8_t[]>(slots * stride);
  struct Meta {
    std::int64_t timestamp_ns;
    std::uint32_t original_length;
    std::uint32_t captured_length;
    std::uint32_t ifindex;
    Direction direction;
  };
  const auto meta = std::make_unique<Meta[]>(slots);
  const PacketRecord record = RingRecord();
  std::size_t at = 0;
  for (auto _ : state) {
    std::memcpy(ring.get() + at * stride, record.data.data(), record.data.size());
    meta[at] =
        Meta{record.timestamp_ns, record.original_length,
             static_cast<std::uint32_t>(record.data.size()), record.ifindex, record.direction};
    benchmark::ClobberMemory();
    at = at + 1 == slots ? 0 : at + 1;
  }
  state.SetItemsProcessed(state.iterations());
}
BENCHMARK(BM_Memcpy)->Args({128, kQueued})->Args({65535, 256})->UseRealTime();

// Offer(data, outbound): the Session reads the clock itself.
void BM_OfferSpan(benchmark::State& state) {
  std::int64_t queued = 0;
  for (auto _ : state) {
    queued += g_session->Offer(g_packet, false) ? 1 : 0;
  }
  state.SetItemsProcessed(state.iterations());
  state.counters["queued"] =
      benchmark::Counter(static_cast<double>(queued) / static_cast<double>(state.iterations()),
                         benchmark::Counter::kAvgThreads);
}
BENCHMARK(BM_OfferSpan)->Setup(SetupAll)->Teardown(Teardown)->Threads(1)->UseRealTime();

} // namespace
} // namespace wgcap::bench

BENCHMARK_MAIN();
