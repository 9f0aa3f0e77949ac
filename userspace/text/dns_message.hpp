// SPDX-License-Identifier: Apache-2.0
// A small bounds-checked reader of DNS messages (RFC 1035), enough for the
// one-line summaries of SPEC 5. Every length and pointer in the message is
// checked against the captured bytes; compression pointers must point
// before the name segment they appear in, so a pointer loop cannot exist
// (and at most 64 are followed per name), and names are capped at 255 wire
// bytes as RFC 1035 requires.
#pragma once

#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>

#include "text/bytes.hpp"

namespace wgcap::text {

inline constexpr std::size_t kDnsHeaderSize = 12;
inline constexpr std::uint16_t kDnsTypeOpt = 41;

struct DnsHeader {
  std::uint16_t id = 0;
  std::uint16_t flags = 0;
  std::uint16_t questions = 0, answers = 0, authority = 0, additional = 0;

  bool response() const noexcept { return flags & 0x8000; }
  unsigned opcode() const noexcept { return (flags >> 11) & 0xf; }
  bool recursion_desired() const noexcept { return flags & 0x0100; }
  unsigned rcode() const noexcept { return flags & 0xf; }
};

struct DnsRecord {
  std::size_t name = 0; // offset of the owner name
  std::uint16_t type = 0;
  std::uint16_t klass = 0;
  std::uint32_t ttl = 0;
  std::size_t rdata = 0; // offset of the data
  std::uint16_t rdlength = 0;
  std::size_t end = 0; // offset just past the record (past the question for one)
};

std::optional<DnsHeader> ReadDnsHeader(Bytes message);

// Walks the name at `offset`. Returns the offset just past it (where the
// name ends in place, not where a pointer led), or nullopt when it is
// truncated or malformed. With `text`, appends the name in presentation
// form: labels joined by '.', a trailing '.', the root as "."; inside a
// label '.' and '\' as "\." and "\\", space, controls and bytes over 0x7e
// as \DDD (RFC 1035 master-file style).
std::optional<std::size_t> ReadDnsName(Bytes message, std::size_t offset, std::string* text);

// A question (name, type, class) at `offset`; rdata fields stay 0.
std::optional<DnsRecord> ReadDnsQuestion(Bytes message, std::size_t offset);
// A resource record at `offset`, its data inside the captured bytes.
std::optional<DnsRecord> ReadDnsRecord(Bytes message, std::size_t offset);

} // namespace wgcap::text
