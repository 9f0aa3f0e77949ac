// SPDX-License-Identifier: Apache-2.0
// Loads a generated filter program (raw instructions, map fds already in
// them) as a SCHED_CLS program, with the verifier's processed-instruction
// count for -d. The verifier's words come back on a refusal.
#pragma once

#include <linux/bpf.h>

#include <cstdint>
#include <string>
#include <vector>

#include "wgcap/result.hpp"
#include "wgcap/unique_fd.hpp"

namespace wgcap {

struct LoadedFilterProgram {
  UniqueFd fd;
  std::uint32_t verified_instructions = 0; // 0: the kernel did not say
};

// `name` shows in bpftool (at most 15 characters). A refusal's error holds
// the errno and, after "; the kernel said:\n", the log's last lines.
Result<LoadedFilterProgram> LoadFilterProgram(const std::vector<bpf_insn>& instructions,
                                              const char* name);

// The last `lines` lines of a verifier log, where it says why it gave up.
std::string VerifierLogTail(std::string log, std::size_t lines);

} // namespace wgcap
