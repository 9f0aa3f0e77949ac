// SPDX-License-Identifier: Apache-2.0
// Loads a generated filter (userspace/filter/ebpf_filter.hpp) as a
// BPF_PROG_TYPE_SCHED_CLS program, reporting the verifier's work.
#pragma once

#include <cstdint>
#include <string>

#include "base/unique_fd.hpp"
#include "filter/ebpf_filter.hpp"
#include "wgcap/result.hpp"

namespace wgcap {

struct LoadedEbpfFilter {
  UniqueFd fd;
  // Instructions the verifier processed (bpf_prog_info.verified_insns, or
  // its "processed N insns" line on kernels before 5.16).
  std::uint32_t verified_insns = 0;
  bool direct_access = true;  // the variant that loaded (GenerateAndLoadEbpfFilter)
  std::string direct_refused; // why the direct variant was not loaded, if it was not
};

// On failure the error names the errno, a hint for EPERM, and ends with the
// verifier log's last lines.
Result<LoadedEbpfFilter> LoadEbpfFilter(const EbpfFilter& filter,
                                        const char* name = "wgcap_filter");

// Generates the filter for `inputs` and loads it. When the verifier refuses
// the direct packet reads (EACCES; 5.10 without CAP_PERFMON refuses every
// pointer comparison, data_end included) and inputs.direct_access was set,
// loads the variant that reads every byte with bpf_skb_load_bytes instead.
// `generated`, if given, receives the program that loaded (for -d). An
// expression the generator refuses (EbpfFilter::error: an unresolved `peer`)
// is an error of kind Filter.
Result<LoadedEbpfFilter> GenerateAndLoadEbpfFilter(const FilterExpression& expression,
                                                   const EbpfFilterInputs& inputs,
                                                   EbpfFilter* generated = nullptr,
                                                   const char* name = "wgcap_filter");

} // namespace wgcap
