// SPDX-License-Identifier: Apache-2.0
// DNS messages and TLS records with their real wire layouts, for tests of
// the text output's payload parsers.
#pragma once

#include <cstdint>
#include <initializer_list>
#include <string_view>
#include <vector>

namespace wgcap::test {

using Bytes = std::vector<std::uint8_t>;

// DNS wire format pieces.
Bytes DnsName(std::string_view dotted); // uncompressed, ends in the root
Bytes DnsHeader(std::uint16_t id, std::uint16_t flags, std::uint16_t qd, std::uint16_t an,
                std::uint16_t ns, std::uint16_t ar);
Bytes DnsQuestion(const Bytes& name, std::uint16_t type, std::uint16_t klass = 1);
Bytes DnsRecord(const Bytes& name, std::uint16_t type, std::uint32_t ttl, const Bytes& rdata,
                std::uint16_t klass = 1);
// An OPT pseudo-record; `ede` >= 0 adds an Extended DNS Error option.
Bytes DnsOpt(int ede = -1, std::uint8_t extended_rcode = 0);
Bytes Concat(std::initializer_list<Bytes> parts);

// TLS records.
Bytes TlsClientHello(std::string_view sni); // empty sni: no server_name extension
Bytes TlsServerHello();
Bytes TlsAlert(std::uint8_t level, std::uint8_t description);

} // namespace wgcap::test
