// SPDX-License-Identifier: Apache-2.0
#include "cli/parity_check.hpp"

#include <bpf/bpf.h>
#include <bpf/libbpf.h>

#include <algorithm>
#include <cerrno>
#include <cstdio>
#include <cstring>
#include <memory>
#include <optional>
#include <span>
#include <vector>

#include "capture/bpf/bpf_program.hpp"
#include "cli/capture_output.hpp"
#include "file/pcap_reader.hpp"
#include "filter/classic_filter.hpp"
#include "filter/classic_socket_runner.hpp"
#include "wgcap/text_writer.hpp"
#include "wgcap_abi.h"

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

struct KernelSample {
  std::uint32_t original_length = 0;
  std::uint32_t captured_length = 0;
  std::vector<std::uint8_t> data;
};

// The loaded kernel side run by BPF_PROG_TEST_RUN on an Ethernet frame
// around each packet: the sample it put in the ring, if any. (Until branch
// `gen`'s test runner replaces this and the old KernelFilterRunner.)
class KernelRun {
public:
  static Result<std::unique_ptr<KernelRun>> Create(const FilterExpression& expression) {
    BpfProgramOptions options;
    options.expression = expression;
    options.snaplen = kSnaplen;
    options.link_header = 14;
    options.ring_bytes = 1u << 20;
    options.egress = false;
    auto program = BpfProgram::Load(options);
    if (!program) {
      return program.error();
    }
    auto run = std::unique_ptr<KernelRun>(new KernelRun(std::move(program).value()));
    run->ring_ = ring_buffer__new(run->program_->ring_fd(), OnSample, run.get(), nullptr);
    if (run->ring_ == nullptr) {
      return ErrnoError("ring_buffer__new", errno);
    }
    return run;
  }
  ~KernelRun() { ring_buffer__free(ring_); }
  const BpfProgram& program() const { return *program_; }

  Result<std::optional<KernelSample>> Run(std::span<const std::uint8_t> packet) {
    // The program reads the version nibble, not the ethertype; a neutral
    // one keeps the kernel from refusing a cut-short IP header.
    std::vector<std::uint8_t> frame = {2, 0, 0, 0, 0, 1, 2, 0, 0, 0, 0, 2, 0x88, 0xb5};
    frame.insert(frame.end(), packet.begin(), packet.end());
    LIBBPF_OPTS(bpf_test_run_opts, opts, .data_in = frame.data(),
                .data_size_in = static_cast<std::uint32_t>(frame.size()), .repeat = 1);
    if (bpf_prog_test_run_opts(program_->ingress_fd(), &opts) != 0) {
      return ErrnoError("BPF_PROG_TEST_RUN", errno);
    }
    samples_.clear();
    ring_buffer__consume(ring_);
    if (samples_.size() > 1) {
      return Error{"one test run produced " + std::to_string(samples_.size()) + " samples", 0};
    }
    if (samples_.empty()) {
      return std::optional<KernelSample>();
    }
    return std::optional<KernelSample>(std::move(samples_.front()));
  }

private:
  explicit KernelRun(std::unique_ptr<BpfProgram> program) : program_(std::move(program)) {}
  static int OnSample(void* ctx, void* data, size_t size) {
    auto* self = static_cast<KernelRun*>(ctx);
    wgcap_sample_header h;
    if (size < sizeof h) {
      return 0;
    }
    std::memcpy(&h, data, sizeof h);
    const auto* bytes = static_cast<const std::uint8_t*>(data) + sizeof h;
    KernelSample s{h.original_length, h.captured_length, {}};
    s.data.assign(bytes, bytes + std::min<std::size_t>(h.captured_length, size - sizeof h));
    self->samples_.push_back(std::move(s));
    return 0;
  }
  std::unique_ptr<BpfProgram> program_;
  ring_buffer* ring_ = nullptr;
  std::vector<KernelSample> samples_;
};

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
  auto kernel_runner = KernelRun::Create(matcher.expression());
  if (!kernel_runner) {
    return Fail(kernel_runner.error());
  }
  const BpfProgram& kernel = (*kernel_runner)->program();
  if (!classic.exact || !kernel.filter_exact()) {
    std::fprintf(stderr,
                 "wgcap: note: a kernel form is not exact (%s); it passes more than the "
                 "expression\n",
                 (!kernel.filter_exact() ? kernel.filter_note() : classic.note).c_str());
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
    // A form that is not exact passes a superset (everything, or every
    // packet a `peer` term could admit) and leaves the verdict to the Matcher.
    const bool classic_wrong = classic.exact ? classic_says != want : want && !classic_says;
    const bool kernel_wrong = kernel.filter_exact() ? kernel_says != want : !kernel_says;
    if (classic_wrong || kernel_wrong || !sample_ok) {
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
