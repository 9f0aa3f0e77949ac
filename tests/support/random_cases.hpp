// SPDX-License-Identifier: Apache-2.0
// Random packets and random expressions over the WHOLE language (IPv6
// extension headers, fragments, truncation, SCTP, non-IP), for comparing
// wgcap's own evaluators (Matcher, classic filter, kernel program) with each
// other. The libpcap differential test has its own generator, restricted to
// the subset both languages share.
#pragma once

#include <cstdint>
#include <random>
#include <string>
#include <vector>

#include "wgcap/ip_address.hpp"

namespace wgcap::test {

class RandomCases {
public:
  // `relations`: one term in four is a packet-data relation
  // (RelationGenerator, tests/support/relation_cases.hpp). `peers`: one term
  // in six is `peer KEY`, KEY one of PeerKeys() in full or a prefix of it
  // (off by default: an evaluator without a peer form cannot agree).
  explicit RandomCases(std::uint32_t seed, bool relations = false, bool peers = false)
      : rng_(seed), relations_(relations), peers_(peers) {}

  // The keys `peer` terms name; their base64 texts differ in the first
  // character, so any prefix of 4 or more names one of them.
  static const std::vector<PeerKey>& PeerKeys();

  // A whole packet; may be malformed (bad IHL, cut extension headers).
  std::vector<std::uint8_t> Packet();
  // A parseable expression of up to `depth` levels.
  std::string Expression(int depth = 4);

private:
  std::string Term();
  std::string PeerTerm();
  std::string Address(int family);
  int Pick(int n) { return std::uniform_int_distribution<int>(0, n - 1)(rng_); }
  std::uint16_t Port();

  std::mt19937 rng_;
  bool relations_ = false;
  bool peers_ = false;
};

} // namespace wgcap::test
