// SPDX-License-Identifier: Apache-2.0
#include "support/privileges.hpp"

#include <cstdlib>
#include <fstream>
#include <string>

namespace wgcap::test {
namespace {

constexpr int kCapNetAdmin = 12;
constexpr int kCapSysAdmin = 21;
constexpr int kCapBpf = 39;

unsigned long long EffectiveCapabilities() {
  std::ifstream status("/proc/self/status");
  std::string line;
  while (std::getline(status, line)) {
    if (line.rfind("CapEff:", 0) == 0) {
      return std::stoull(line.substr(7), nullptr, 16);
    }
  }
  return 0;
}

} // namespace

std::string MissingPrivileges() {
  const unsigned long long caps = EffectiveCapabilities();
  auto has = [caps](int cap) { return (caps >> cap) & 1ULL; };
  if (!has(kCapBpf) && !has(kCapSysAdmin)) {
    return "needs CAP_BPF (or CAP_SYS_ADMIN) to load BPF programs";
  }
  if (!has(kCapNetAdmin)) {
    return "needs CAP_NET_ADMIN to attach TC programs and create namespaces";
  }
  return {};
}

bool PrivilegedRequired() {
  const char* v = std::getenv("WGCAP_REQUIRE_PRIVILEGED");
  return v != nullptr && std::string(v) == "1";
}

} // namespace wgcap::test
