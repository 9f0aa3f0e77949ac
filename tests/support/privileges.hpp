// SPDX-License-Identifier: Apache-2.0
#pragma once

#include <string>

namespace wgcap::test {

// Empty when this process can load BPF and change TC hooks (CAP_BPF or
// CAP_SYS_ADMIN, and CAP_NET_ADMIN), else the reason it cannot.
std::string MissingPrivileges();
bool PrivilegedRequired(); // WGCAP_REQUIRE_PRIVILEGED=1

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
