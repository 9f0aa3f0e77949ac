// SPDX-License-Identifier: Apache-2.0
#pragma once

#include <linux/bpf.h>

#include <cstdint>
#include <string>

namespace wgcap::test {

// Empty when this process can load BPF and change TC hooks (CAP_BPF or
// CAP_SYS_ADMIN, and CAP_NET_ADMIN), else the reason it cannot.
std::string MissingPrivileges();
bool PrivilegedRequired(); // WGCAP_REQUIRE_PRIVILEGED=1
// Whether the running kernel has tcx (Linux 6.6+). Without it wgcap attaches
// with clsact, and tests of tcx itself check that fallback instead (the
// kernel matrix, scripts/vmtest.sh, runs them on 6.1).
bool KernelHasTcx();
// One eBPF instruction, for the small programs tests load by hand.
bpf_insn Insn(std::uint8_t code, std::uint8_t dst, std::uint8_t src, std::int16_t off,
              std::int32_t imm);
// Whether the verifier fences a mispredicted branch it cannot prove safe
// (6.18 does) rather than refusing the program (6.1 does), for a loader
// without CAP_PERFMON. Where it refuses, wgcap's program needs CAP_PERFMON.
bool VerifierFencesSpeculation();

} // namespace wgcap::test

// Skips a privileged test with the reason, or fails it when CI requires
// privileged tests to run.
#define WGCAP_REQUIRE_PRIVILEGES()                                                                 \
  do {                                                                                             \
    const std::string wgcap_missing = ::wgcap::test::MissingPrivileges();                          \
    if (!wgcap_missing.empty()) {                                                                  \
      if (::wgcap::test::PrivilegedRequired()) {                                                   \
        FAIL() << "WGCAP_REQUIRE_PRIVILEGED=1 but " << wgcap_missing;                              \
      }                                                                                            \
      GTEST_SKIP() << wgcap_missing;                                                               \
    }                                                                                              \
  } while (0)
