// SPDX-License-Identifier: Apache-2.0
#include "capture/bpf/ebpf_filter_loader.hpp"

#include <bpf/bpf.h>

#include <cerrno>
#include <cstdlib>
#include <cstring>
#include <vector>

namespace wgcap {
namespace {

// The verifier's statistics (log level 4) cost nothing extra and carry the
// processed-instruction count on kernels without verified_insns; errors
// are logged at any level.
constexpr std::uint32_t kStatsLogLevel = 4;
constexpr std::size_t kLogBytes = 1 << 16;
constexpr std::size_t kLogTail = 3000;

std::uint32_t ProcessedInsns(const std::string& log) {
  const auto at = log.rfind("processed ");
  if (at == std::string::npos) {
    return 0;
  }
  return static_cast<std::uint32_t>(std::strtoul(log.c_str() + at + 10, nullptr, 10));
}

std::string Tail(const std::string& log) {
  return log.size() <= kLogTail ? log : "..." + log.substr(log.size() - kLogTail);
}

// The verifier's reason: the last line before its statistics.
std::string LastLogLine(const std::string& message) {
  std::size_t end = message.rfind("\nprocessed ");
  if (end == std::string::npos) {
    end = message.size();
  }
  const std::size_t start = message.rfind('\n', end - 1);
  return message.substr(start == std::string::npos ? 0 : start + 1, end - start - 1);
}

int Load(const EbpfFilter& filter, const char* name, std::uint32_t level, std::vector<char>& log) {
  LIBBPF_OPTS(bpf_prog_load_opts, opts, .log_level = level,
              .log_size = static_cast<std::uint32_t>(log.size()), .log_buf = log.data());
  return bpf_prog_load(BPF_PROG_TYPE_SCHED_CLS, name, "Dual BSD/GPL", filter.instructions.data(),
                       filter.instructions.size(), &opts);
}

} // namespace

Result<LoadedEbpfFilter> LoadEbpfFilter(const EbpfFilter& filter, const char* name) {
  std::vector<char> log(kLogBytes, '\0');
  const int fd = Load(filter, name, kStatsLogLevel, log);
  if (fd < 0) {
    const int err = errno;
    // The whole trace, for the lines that lead to the refusal.
    std::vector<char> trace(16u << 20, '\0');
    (void)Load(filter, name, 1, trace);
    std::string text(trace.data());
    if (text.empty()) {
      text = log.data();
    }
    return ErrnoError("loading the generated filter (" +
                          std::to_string(filter.instructions.size()) + " instructions)",
                      err,
                      err == EPERM ? "needs CAP_BPF and CAP_NET_ADMIN\n" + Tail(text)
                                   : "verifier log:\n" + Tail(text));
  }
  LoadedEbpfFilter loaded;
  loaded.fd.Reset(fd);
  bpf_prog_info info{};
  std::uint32_t info_len = sizeof info;
  if (bpf_obj_get_info_by_fd(fd, &info, &info_len) == 0) {
    loaded.verified_insns = info.verified_insns;
  }
  if (loaded.verified_insns == 0) {
    loaded.verified_insns = ProcessedInsns(log.data());
  }
  return loaded;
}

Result<LoadedEbpfFilter> GenerateAndLoadEbpfFilter(const FilterExpression& expression,
                                                   const EbpfFilterInputs& inputs,
                                                   EbpfFilter* generated, const char* name) {
  EbpfFilter filter = GenerateEbpfFilter(expression, inputs);
  if (!filter.error.empty()) {
    // Not the verifier's doing: the caller must not fall back to a filter
    // that passes everything (kind Filter says so).
    return FilterError(Error{filter.error, EINVAL});
  }
  auto loaded = LoadEbpfFilter(filter, name);
  // Refused (EACCES) rather than too large or unsupported: without
  // CAP_PERFMON 5.10 refuses the data_end comparison itself ("pointer
  // comparison prohibited") and older verifiers walk the mispredicted side
  // of each bounds check into the packet.
  if (!loaded && inputs.direct_access && loaded.error().errnum == EACCES) {
    const std::string refused = LastLogLine(loaded.error().message);
    EbpfFilterInputs helper_only = inputs;
    helper_only.direct_access = false;
    filter = GenerateEbpfFilter(expression, helper_only);
    loaded = LoadEbpfFilter(filter, name);
    if (loaded) {
      loaded->direct_access = false;
      loaded->direct_refused = refused;
    }
  }
  if (loaded && generated != nullptr) {
    *generated = std::move(filter);
  }
  return loaded;
}

} // namespace wgcap
