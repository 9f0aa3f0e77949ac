// SPDX-License-Identifier: Apache-2.0
#include "filter/system_names.hpp"

#include <netdb.h>

#include <arpa/inet.h>

namespace wgcap::filter {

std::optional<std::uint16_t> Service(const std::string& name, const char* protocol) {
  servent entry{};
  servent* found = nullptr;
  char buffer[4096];
  if (getservbyname_r(name.c_str(), protocol, &entry, buffer, sizeof buffer, &found) != 0 ||
      found == nullptr) {
    return std::nullopt;
  }
  return ntohs(static_cast<std::uint16_t>(found->s_port));
}

std::optional<std::uint32_t> ProtocolNumber(const std::string& name) {
  protoent entry{};
  protoent* found = nullptr;
  char buffer[1024];
  if (getprotobyname_r(name.c_str(), &entry, buffer, sizeof buffer, &found) != 0 ||
      found == nullptr || found->p_proto < 0 || found->p_proto > 255) {
    return std::nullopt;
  }
  return static_cast<std::uint32_t>(found->p_proto);
}

} // namespace wgcap::filter
