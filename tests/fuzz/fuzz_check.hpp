// SPDX-License-Identifier: Apache-2.0
// What the fuzz targets share. A broken invariant aborts with a message, so
// libFuzzer keeps the input as a crash (an exception or a plain `return`
// would be silently accepted).
#pragma once

#include <sys/mman.h>
#include <unistd.h>

#include <cerrno>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <iterator>
#include <memory>
#include <span>
#include <string>
#include <string_view>

#include "file/pcap_reader.hpp"
#include "wgcap/filter_parser.hpp"

namespace wgcap::fuzz {

[[noreturn]] inline void Fail(const std::string& what) {
  std::fprintf(stderr, "fuzz invariant broken: %s\n", what.c_str());
  std::fflush(stderr);
  std::abort();
}

inline std::string Hex(std::span<const std::uint8_t> bytes) {
  std::string out;
  char buf[4];
  for (auto b : bytes) {
    std::snprintf(buf, sizeof buf, "%02x", b);
    out += buf;
  }
  return out;
}

// The plainest evaluation of the AST (SPEC 1: terms by EvaluateTerm,
// relations by EvaluateRelation, ordinary boolean logic; a relation that
// rejects the packet rejects it whatever surrounds it), against which the
// Matcher's own, optimised evaluator is compared.
inline bool ReferenceMatch(const FilterExpression& expr, int index, const ParsedPacket& packet,
                           bool& rejected) {
  const FilterNode& n = expr.node(index);
  switch (n.kind) {
  case FilterNode::Kind::And:
    return ReferenceMatch(expr, n.left, packet, rejected) &&
           ReferenceMatch(expr, n.right, packet, rejected);
  case FilterNode::Kind::Or:
    return ReferenceMatch(expr, n.left, packet, rejected) ||
           ReferenceMatch(expr, n.right, packet, rejected);
  case FilterNode::Kind::Not:
    return !ReferenceMatch(expr, n.left, packet, rejected);
  case FilterNode::Kind::Term:
    break;
  }
  if (n.term.kind == TermKind::Relation) {
    const RelationVerdict v = EvaluateRelation(expr, n.term, packet);
    rejected = rejected || v == RelationVerdict::Reject;
    return v == RelationVerdict::True;
  }
  return EvaluateTerm(n.term, packet);
}

inline bool ReferenceMatch(const FilterExpression& expr, const ParsedPacket& packet) {
  bool rejected = false;
  return expr.empty() || (ReferenceMatch(expr, expr.root, packet, rejected) && !rejected);
}

// The filter compiler targets take "S EXPRESSION [\0 PACKET]": S, one byte,
// picks the snap length (seeds use the digits '0'-'7'); the text up to the
// first NUL is the expression; what follows is one packet of the fuzzer's
// own, run beside the fixed ones.
struct FilterInput {
  std::uint32_t snaplen = 65535;
  std::string_view text;
  std::span<const std::uint8_t> packet;
};

inline FilterInput SplitFilterInput(std::span<const std::uint8_t> input) {
  // The CLI's default and limit, then lengths that cut headers short.
  constexpr std::uint32_t kSnaplens[] = {65535, 262144, 1, 20, 40, 68, 96, 1500};
  FilterInput in;
  if (input.empty()) {
    return in;
  }
  in.snaplen = kSnaplens[input[0] % std::size(kSnaplens)];
  input = input.subspan(1);
  std::size_t nul = 0;
  while (nul < input.size() && input[nul] != 0) {
    ++nul;
  }
  in.text = std::string_view(reinterpret_cast<const char*>(input.data()), nul);
  if (nul < input.size()) {
    in.packet = input.subspan(nul + 1);
  }
  return in;
}

// The input as a file the capture-file readers read through their usual
// ByteReader (a memfd: no disk, no pipe capacity limit).
inline std::unique_ptr<ByteReader> MemoryFile(const std::uint8_t* data, std::size_t size) {
  const int fd = memfd_create("wgcap-fuzz", MFD_CLOEXEC);
  if (fd < 0) {
    Fail("memfd_create: " + std::to_string(errno));
  }
  for (std::size_t done = 0; done < size;) {
    const ssize_t n = write(fd, data + done, size - done);
    if (n <= 0) {
      Fail("write to memfd: " + std::to_string(errno));
    }
    done += static_cast<std::size_t>(n);
  }
  lseek(fd, 0, SEEK_SET);
  return std::make_unique<ByteReader>(fd, "fuzz", true);
}

} // namespace wgcap::fuzz
