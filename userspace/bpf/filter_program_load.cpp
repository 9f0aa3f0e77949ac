// SPDX-License-Identifier: Apache-2.0
#include "bpf/filter_program_load.hpp"

#include <bpf/bpf.h>

#include <cerrno>
#include <cstdlib>
#include <cstring>

namespace wgcap {
namespace {

// BPF_LOG_STATS: only the summary lines ("processed N insns ..."), from
// 5.2 on; a full log (level 1) is asked for only when the load failed.
constexpr std::uint32_t kLogStats = 4;

std::uint32_t ProcessedInstructions(const char* log) {
  const char* at = std::strstr(log, "processed ");
  if (at == nullptr) {
    return 0;
  }
  return static_cast<std::uint32_t>(std::strtoul(at + std::strlen("processed "), nullptr, 10));
}

int Load(const std::vector<bpf_insn>& instructions, const char* name, std::uint32_t level,
         std::string& log) {
  LIBBPF_OPTS(bpf_prog_load_opts, opts, .log_level = level,
              .log_size = static_cast<std::uint32_t>(log.size()), .log_buf = log.data());
  return bpf_prog_load(BPF_PROG_TYPE_SCHED_CLS, name, "Dual BSD/GPL", instructions.data(),
                       instructions.size(), &opts);
}

} // namespace

std::string VerifierLogTail(std::string log, std::size_t lines) {
  log.resize(std::strlen(log.c_str()));
  while (!log.empty() && log.back() == '\n') {
    log.pop_back();
  }
  std::size_t at = log.size();
  for (std::size_t n = 0; n < lines && at > 0; ++n) {
    at = log.rfind('\n', at - 1);
    if (at == std::string::npos) {
      return log;
    }
  }
  return at == log.size() ? log : log.substr(at + 1);
}

Result<LoadedFilterProgram> LoadFilterProgram(const std::vector<bpf_insn>& instructions,
                                              const char* name) {
  std::string log(4096, '\0');
  const int fd = Load(instructions, name, kLogStats, log);
  if (fd >= 0) {
    LoadedFilterProgram loaded;
    loaded.fd.Reset(fd);
    loaded.verified_instructions = ProcessedInstructions(log.c_str());
    return loaded;
  }
  const int err = errno;
  if (err == EPERM) {
    return Error{"loading the filter program: " + std::string(std::strerror(err)), err};
  }
  // Again with the whole log, for the reason (only on this rare path: a
  // full log costs the verifier time).
  std::string full(1u << 20, '\0');
  (void)Load(instructions, name, 1, full);
  const std::string tail = VerifierLogTail(full, 6);
  return Error{"loading the filter program: " + std::string(std::strerror(err)) +
                   (tail.empty() ? "" : "; the kernel said:\n" + tail),
               err};
}

} // namespace wgcap
