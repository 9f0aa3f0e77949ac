// SPDX-License-Identifier: Apache-2.0
// The sinks, writing into memory: pcap and pcapng in GB/s of output against a
// plain memcpy of the same bytes (the ceiling), and text in lines/s. The run
// ends with issue 20's figure, each capture sink's time over memcpy's:
//   wgcap_bench_writers --benchmark_filter='Memcpy|Pcap' --benchmark_repetitions=5
#include <benchmark/benchmark.h>
#include <fcntl.h>
#include <unistd.h>

#include <algorithm>
#include <cstdio>
#include <cstring>
#include <map>
#include <memory>
#include <ostream>
#include <string>
#include <vector>

#include "bench_packets.hpp"
#include "wgcap/pcap_writer.hpp"
#include "wgcap/text_writer.hpp"

namespace wgcap::bench {
namespace {

// A buffer the size of the CLI's file buffer (FdWriter, 64 KiB), reused from
// the start when full: the sink's cost without the write(2) that empties a
// real one, which would be the same for every sink and for memcpy. It lends
// its free space to the sinks through ByteWriter::Claim exactly as FdWriter
// does (the same inline code in the base class), so a record takes the same
// path as in the CLI: laid out straight into the buffer, and through the
// virtual Write (here: back to the start) only when the rest is too short.
// BM_*Fd below are the real FdWriter over /dev/null, write(2) included.
class ArenaWriter final : public ByteWriter {
public:
  static constexpr std::size_t kSize = 1 << 16;
  ArenaWriter() { Rewind(); }
  Status Write(std::span<const std::uint8_t> bytes) override {
    std::uint8_t* to = Claim(bytes.size());
    if (to == nullptr) {
      Rewind();
      to = Claim(bytes.size());
    }
    std::memcpy(to, bytes.data(), bytes.size());
    return {};
  }
  Status Flush() override { return {}; }
  using ByteWriter::Write;
  std::int64_t total() const noexcept {
    return static_cast<std::int64_t>(total_ + static_cast<std::size_t>(window_next() - begin()));
  }

private:
  std::uint8_t* begin() const noexcept { return buffer_.get(); }
  void Rewind() noexcept {
    if (window_next() != nullptr) {
      total_ += static_cast<std::size_t>(window_next() - begin());
    }
    SetWindow(begin(), begin() + kSize);
  }

  std::unique_ptr<std::uint8_t[]> buffer_ = std::make_unique<std::uint8_t[]>(kSize);
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

// Through PacketSink&, as the capture consumer calls a sink (DoNotOptimize
// keeps the compiler from seeing which one it is).
void Drive(benchmark::State& state, PacketSink& writer, const PacketRecord& record) {
  PacketSink* sink = &writer;
  benchmark::DoNotOptimize(sink);
  for (auto _ : state) {
    benchmark::DoNotOptimize(sink->WritePacket(record));
  }
  state.SetItemsProcessed(state.iterations());
}

PcapngWriterOptions BenchPcapngOptions() {
  PcapngWriterOptions options;
  options.interface_name = "wgbench0";
  options.ifindex = 3;
  return options;
}

void BM_PcapWriter(benchmark::State& state) {
  const Bytes packet = Ipv4Udp(kFloodPort, static_cast<std::size_t>(state.range(0)));
  ArenaWriter out;
  PcapWriter writer(out, 65535);
  Drive(state, writer, RecordOf(packet));
  state.SetBytesProcessed(out.total());
}
BENCHMARK(BM_PcapWriter)->Arg(128)->Arg(1500);

void BM_PcapngWriter(benchmark::State& state) {
  const Bytes packet = Ipv4Udp(kFloodPort, static_cast<std::size_t>(state.range(0)));
  ArenaWriter out;
  PcapngWriter writer(out, BenchPcapngOptions());
  (void)writer.WriteHeader();
  Drive(state, writer, RecordOf(packet));
  state.SetBytesProcessed(out.total());
}
BENCHMARK(BM_PcapngWriter)->Arg(128)->Arg(1500);

// A WireGuard server's packets (SPEC 10): each attributed to a peer, so each
// EPB carries a `peer=KEY` comment (56 more bytes, the key in base64).
void BM_PcapngWriterPeer(benchmark::State& state) {
  const Bytes packet = Ipv4Udp(kFloodPort, static_cast<std::size_t>(state.range(0)));
  ArenaWriter out;
  PcapngWriter writer(out, BenchPcapngOptions());
  (void)writer.WriteHeader();
  PeerKey key{};
  key.fill(0x5a);
  PacketRecord record = RecordOf(packet);
  record.peer = &key;
  Drive(state, writer, record);
  state.SetBytesProcessed(out.total());
}
BENCHMARK(BM_PcapngWriterPeer)->Arg(128)->Arg(1500);

// What `wgcap -w /dev/null` runs: the CLI's FdWriter (64 KiB), whose flushes
// are real write(2) calls (to /dev/null, so no disk cost).
class DevNull {
public:
  DevNull() : fd_(::open("/dev/null", O_WRONLY | O_CLOEXEC)) {}
  ~DevNull() { ::close(fd_); }
  DevNull(const DevNull&) = delete;
  DevNull& operator=(const DevNull&) = delete;
  int fd() const noexcept { return fd_; }

private:
  int fd_;
};

void BM_PcapWriterFd(benchmark::State& state) {
  const Bytes packet = Ipv4Udp(kFloodPort, static_cast<std::size_t>(state.range(0)));
  DevNull null;
  FdWriter out(null.fd(), "/dev/null");
  PcapWriter writer(out, 65535);
  Drive(state, writer, RecordOf(packet));
  state.SetBytesProcessed(static_cast<std::int64_t>(out.bytes_accepted()));
}
BENCHMARK(BM_PcapWriterFd)->Arg(128)->Arg(1500);

void BM_PcapngWriterFd(benchmark::State& state) {
  const Bytes packet = Ipv4Udp(kFloodPort, static_cast<std::size_t>(state.range(0)));
  DevNull null;
  FdWriter out(null.fd(), "/dev/null");
  PcapngWriter writer(out, BenchPcapngOptions());
  (void)writer.WriteHeader();
  Drive(state, writer, RecordOf(packet));
  state.SetBytesProcessed(static_cast<std::int64_t>(out.bytes_accepted()));
}
BENCHMARK(BM_PcapngWriterFd)->Arg(128)->Arg(1500);

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

// Issue 20's figure, from this run: each sink's CPU time per record over
// BM_Memcpy's at the same size (the fastest repetition of each, so pass
// --benchmark_repetitions=N to damp a busy machine). The targets apply to
// the arena runs; the Fd runs add the write(2) calls memcpy does not make.
class RatioReporter final : public benchmark::ConsoleReporter {
public:
  void ReportRuns(const std::vector<Run>& runs) override {
    ConsoleReporter::ReportRuns(runs);
    for (const Run& run : runs) {
      if (run.run_type != Run::RT_Iteration || run.error_occurred) {
        continue;
      }
      const std::string name = run.run_name.str();
      const double cpu = run.GetAdjustedCPUTime();
      auto [it, inserted] = fastest_.try_emplace(name, cpu);
      if (!inserted) {
        it->second = std::min(it->second, cpu);
      }
    }
  }

  void Finalize() override {
    ConsoleReporter::Finalize();
    std::ostream& out = GetOutputStream();
    out << "\n"; // the console rows leave a colour reset at the start of the next line
    struct Sink {
      const char* name;
      double target; // 0: no target
    };
    for (const Sink sink : {Sink{"BM_PcapWriter", 2.0}, Sink{"BM_PcapngWriter", 2.5},
                            Sink{"BM_PcapWriterFd", 0}, Sink{"BM_PcapngWriterFd", 0}}) {
      for (const char* size : {"128", "1500"}) {
        const auto memcpy = fastest_.find(std::string("BM_Memcpy/") + size);
        const auto writer = fastest_.find(std::string(sink.name) + "/" + size);
        if (memcpy == fastest_.end() || writer == fastest_.end() || memcpy->second <= 0) {
          continue;
        }
        const double ratio = writer->second / memcpy->second;
        char line[160];
        std::snprintf(line, sizeof line, "ratio %s/%s over BM_Memcpy: %.2fx (%.2f / %.2f ns)",
                      sink.name, size, ratio, writer->second, memcpy->second);
        out << line;
        if (sink.target > 0) {
          std::snprintf(line, sizeof line, ", target <= %.1fx: %s", sink.target,
                        ratio <= sink.target ? "met" : "MISSED");
          out << line;
        }
        out << "\n";
      }
    }
    out.flush();
  }

private:
  std::map<std::string, double> fastest_;
};

} // namespace
} // namespace wgcap::bench

int main(int argc, char** argv) {
  benchmark::Initialize(&argc, argv);
  if (benchmark::ReportUnrecognizedArguments(argc, argv)) {
    return 1;
  }
  wgcap::bench::RatioReporter reporter;
  benchmark::RunSpecifiedBenchmarks(&reporter);
  benchmark::Shutdown();
  return 0;
}
