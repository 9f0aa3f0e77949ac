// SPDX-License-Identifier: Apache-2.0
// Names of DNS numbers as the text output prints them.
#pragma once

#include <cstdint>
#include <string>

namespace wgcap::text {

// "A", "AAAA", "HTTPS", ...; unknown types as tcpdump does: "Type65280".
void AppendDnsTypeName(std::string& line, std::uint16_t type);
// tcpdump's names for 1-5 (FormErr, ServFail, NXDomain, NotImp, Refused),
// then the RFC 6895 registry's mnemonics, else "rcode N". `rcode` is the
// full 12-bit value (with the OPT record's upper bits).
void AppendDnsRcodeName(std::string& line, unsigned rcode);
// Extended DNS Error info codes (RFC 8914 and its IANA registry), the
// registry's names without spaces so the field stays one word
// ("StaleAnswer", "DNSSECBogus"); unknown codes as the number.
void AppendDnsEdeName(std::string& line, std::uint16_t code);
// tcpdump's marks for opcodes other than QUERY: " notify", " update", ...
void AppendDnsOpcode(std::string& line, unsigned opcode);

} // namespace wgcap::text
