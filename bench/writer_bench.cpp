// SPDX-License-Identifier: Apache-2.0
// The sinks, writing into memory: pcap and pcapng in GB/s of output against a
// plain memcpy of the same bytes (the ceiling), and text in lines/s.
#include <benchmark/benchmark.h>

#include <cstring>
#include <memory>

#include "bench_packets.hpp"
#include "wgcap/pcap_writer.hpp"
#include "wgcap/text_writer.hpp"
#if __has_include("wgcap/pcap_writer.hpp")
#define WGCAP_BENCH_HAVE_PCAPNG 1
#endif

namespace wgcap::bench {
namespace {

// A buffer the size of the CLI's file buffer (FdWriter, 64 KiB), reused from
// the start when full: the sink's cost without the write(2) that empties a
// real one, which would be the same for every sink and for memcpy.
class ArenaWriter final : public ByteWriter {
public:
  static constexpr std::size_t kSize = 1 << 16;
  Status Write(std::span<const std::uint8_t> bytes) override {
    if (bytes.size() > kSize - used_) {
      used_ = 0;
    }
    std::memcpy(buffer_.get() + used_, bytes.data(), bytes.size());
    used_ += bytes.size();
    total_ += bytes.size();
    return {};
  }
  Status Flush() override { return {}; }
  using ByteWriter::Write;
  std::int64_t total() const noexcept { return static_cast<std::int64_t>(total_); }

private:
  std::unique_ptr<std::uint8_t[]> buffer_ = std::make_unique<std::uint8_t[]>(kSize);
  std::size_t used_ = 0;
  std::size_t total_ = 0;
};

PacketRecord RecordOf(const Bytes& packet) {
  return PacketRecord{.timestamp_ns = 1'700'000'000'123'456'789,
                      .data = packet,
                      .original_length = static_cast<std::uint32_t>(packet.size()),
                      .direction = Direction::Inbound,
                      .ifindex = 3};
}

// The ceiling: the bytes one pcap record takes (16-byte header + packet),
// copied with one memcpy into the same kind of buffer.
void BM_Memcpy(benchmark::State& state) {
  const std::size_t record = 16 + static_cast<std::size_t>(state.range(0));
  const Bytes source(record, 0xab);
  auto buffer = std::make_unique<std::uint8_t[]>(ArenaWriter::kSize);
  std::size_t used = 0;
  for (auto _ : state) {
    if (record > ArenaWriter::kSize - used) {
      used = 0;
    }
    std::memcpy(buffer.get() + used, source.data(), record);
    benchmark::DoNotOptimize(buffer.get());
    used += record;
  }
  state.SetBytesProcessed(static_cast<std::int64_t>(state.iterations() * record));
  state.SetItemsProcessed(state.iterations());
}
BENCHMARK(BM_Memcpy)->Arg(128)->Arg(1500);

void BM_PcapWriter(benchmark::State& state) {
  const Bytes packet = Ipv4Udp(kFloodPort, static_cast<std::size_t>(state.range(0)));
  const PacketRecord record = RecordOf(packet);
  ArenaWriter out;
  PcapWriter writer(out, 65535);
  for (auto _ : state) {
    benchmark::DoNotOptimize(writer.WritePacket(record));
  }
  state.SetBytesProcessed(out.total());
  state.SetItemsProcessed(state.iterations());
}
BENCHMARK(BM_PcapWriter)->Arg(128)->Arg(1500);

#ifdef WGCAP_BENCH_HAVE_PCAPNG
void BM_PcapngWriter(benchmark::State& state) {
  const Bytes packet = Ipv4Udp(kFloodPort, static_cast<std::size_t>(state.range(0)));
  const PacketRecord record = RecordOf(packet);
  ArenaWriter out;
  PcapngWriterOptions options;
  options.interface_name = "wgbench0";
  options.ifindex = 3;
  PcapngWriter writer(out, options);
  (void)writer.WriteHeader();
  for (auto _ : state) {
    benchmark::DoNotOptimize(writer.WritePacket(record));
  }
  state.SetBytesProcessed(out.total());
  state.SetItemsProcessed(state.iterations());
}
BENCHMARK(BM_PcapngWriter)->Arg(128)->Arg(1500);
#endif

void BM_TextWriter(benchmark::State& state, Bytes packet, bool verbose) {
  const PacketRecord record = RecordOf(packet);
  ArenaWriter out;
  TextWriter writer(out, verbose, /*ascii=*/false);
  for (auto _ : state) {
    benchmark::DoNotOptimize(writer.WritePacket(record));
  }
  state.SetItemsProcessed(state.iterations()); // lines
}
BENCHMARK_CAPTURE(BM_TextWriter, udp, Ipv4Udp(), false);
BENCHMARK_CAPTURE(BM_TextWriter, tcp, Ipv4Tcp(), false);
BENCHMARK_CAPTURE(BM_TextWriter, tcp_verbose, Ipv4Tcp(), true);

// The layout flags' cost: -e (a cached name), -# and -ttt are small; a hex
// dump is a line per 16 bytes.
void BM_TextWriterLayout(benchmark::State& state, Bytes packet, TextOptions options) {
  const PacketRecord record = RecordOf(packet);
  ArenaWriter out;
  TextWriter writer(out, options);
  for (auto _ : state) {
    benchmark::DoNotOptimize(writer.WritePacket(record));
  }
  state.SetItemsProcessed(state.iterations());
}
BENCHMARK_CAPTURE(BM_TextWriterLayout, tcp_number_delta_iface, Ipv4Tcp(),
                  TextOptions{
                      .time = TimeStamp::SincePrevious, .interface_name = true, .number = true});
BENCHMARK_CAPTURE(BM_TextWriterLayout, tcp_hex_ascii, Ipv4Tcp(),
                  TextOptions{.hex = HexDump::HexAscii});

} // namespace
} // namespace wgcap::bench

BENCHMARK_MAIN();
