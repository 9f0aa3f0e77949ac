// SPDX-License-Identifier: Apache-2.0
#include "cli/parity_check.hpp"

#include <algorithm>
#include <cstdio>

#include "capture/bpf/kernel_filter_runner.hpp"
#include "cli/capture_output.hpp"
#include "file/pcap_reader.hpp"
#include "filter/classic_filter.hpp"
#include "filter/classic_socket_runner.hpp"
#include "filter/kernel_filter.hpp"
#include "wgcap/text_writer.hpp"

namespace wgcap::cli {
namespace {

constexpr std::uint32_t kSnaplen = 65535;

// The packet as one text line, for the disagreement report.
std::string Describe(const PacketRecord& packet) {
  MemoryWriter out;
  TextWriter text(out, false, false);
  (void)text.WritePacket(packet);
  std::string line = out.str();
  while (!line.empty() && line.back() == '\n') {
    line.pop_back();
  }
  return line;
}

} // namespace

int RunParityCheck(const Arguments& args, const ExpressionMatcher& matcher) {
  auto input = ByteReader::OpenFile(args.read_file);
  if (!input) {
    return Fail(input.error());
  }
  auto reader = OpenCaptureFile(std::move(input).value());
  if (!reader) {
    return Fail(reader.error());
  }
  const ClassicProgram classic = CompileClassicFilter(matcher.expression(), kSnaplen);
  ClassicSocketRunner classic_runner(classic.instructions);
  if (!classic_runner.error().empty()) {
    return Fail(Error{"the classic filter was refused: " + classic_runner.error(), 0});
  }
  const KernelFilterProgram kernel = CompileKernelFilter(matcher.expression());
  auto kernel_runner = KernelFilterRunner::Create(kernel, kSnaplen);
  if (!kernel_runner) {
    return Fail(kernel_runner.error());
  }
  if (!classic.exact || !kernel.exact) {
    std::fprintf(stderr, "wgcap: note: a kernel form is not exact (%s); it passes everything\n",
                 (!kernel.exact ? kernel.note : classic.note).c_str());
  }

  std::int64_t checked = 0;
  std::int64_t disagreements = 0;
  FileRecord record;
  for (;;) {
    auto more = (*reader)->Next(record);
    if (!more) {
      return Fail(more.error());
    }
    if (!*more) {
      break;
    }
    // Each evaluator sees the bytes as captured; a kernel hook would see the
    // whole packet, so the record's captured length stands for its length.
    PacketRecord packet = ToNetworkLayer(record);
    packet.original_length = static_cast<std::uint32_t>(packet.data.size());
    const bool want = matcher.Match(packet.data, packet.original_length);
    auto by_classic = classic_runner.Run(packet.data);
    auto by_kernel = (*kernel_runner)->Run(packet.data);
    if (!by_classic) {
      return Fail(by_classic.error());
    }
    if (!by_kernel) {
      return Fail(by_kernel.error());
    }
    const bool classic_says = by_classic->has_value();
    const bool kernel_says = by_kernel->has_value();
    // A kernel sample must carry the packet's own bytes and lengths.
    bool sample_ok = true;
    if (kernel_says) {
      const KernelSample& s = **by_kernel;
      sample_ok = s.original_length == packet.data.size() && s.data.size() == s.captured_length &&
                  s.captured_length <= packet.data.size() &&
                  std::equal(s.data.begin(), s.data.end(), packet.data.begin());
    }
    ++checked;
    if (classic_says != want || kernel_says != want || !sample_ok) {
      ++disagreements;
      std::printf("packet %lld (byte offset %llu): matcher %d, classic %d, kernel %d%s\n  %s\n",
                  static_cast<long long>(checked),
                  static_cast<unsigned long long>(record.file_offset), want, classic_says,
                  kernel_says, sample_ok ? "" : ", kernel sample bytes differ",
                  Describe(packet).c_str());
    }
  }
  std::printf("%lld packets checked, %lld disagreements\n", static_cast<long long>(checked),
              static_cast<long long>(disagreements));
  return disagreements == 0 ? 0 : 3;
}

} // namespace wgcap::cli
