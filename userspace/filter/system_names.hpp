// SPDX-License-Identifier: Apache-2.0
// Names the filter language takes from the system's databases, as libpcap
// does: service names (/etc/services) for ports, protocol names
// (/etc/protocols) for `proto NAME`.
#pragma once

#include <cstdint>
#include <optional>
#include <string>

namespace wgcap::filter {

// The port of service `name` for `protocol` ("tcp", "udp", "sctp").
std::optional<std::uint16_t> Service(const std::string& name, const char* protocol);

// The IP protocol number of `name` (0-255).
std::optional<std::uint32_t> ProtocolNumber(const std::string& name);

} // namespace wgcap::filter
