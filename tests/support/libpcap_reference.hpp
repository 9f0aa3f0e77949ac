// SPDX-License-Identifier: Apache-2.0
// libpcap and tcpdump as the reference implementation for the differential
// tests: random-number helpers, libpcap's compiled filter (in process), and
// `tcpdump -r F -w OUT` against `wgcap -r F -w OUT2` (end to end).
#pragma once

#include <pcap/pcap.h>

#include <array>
#include <cstdint>
#include <memory>
#include <random>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "support/temp_dir.hpp"

namespace wgcap::test {

using Bytes = std::vector<std::uint8_t>;

class Random {
public:
  explicit Random(std::uint32_t seed) : rng_(seed) {}

  int Uniform(int low, int high) { return std::uniform_int_distribution<int>(low, high)(rng_); }
  bool Chance(int percent) { return Uniform(0, 99) < percent; }
  template <typename T, std::size_t N> T Pick(const std::array<T, N>& pool) {
    return pool[static_cast<std::size_t>(Uniform(0, static_cast<int>(N) - 1))];
  }
  Bytes RandomBytes(std::size_t n);

private:
  std::mt19937 rng_;
};

// "192.0.2.77", 24 → "192.0.2.0/24".
std::string MaskedPrefix(const std::string& address, int length);
std::string Hex(std::span<const std::uint8_t> bytes);
// What our parse saw, so a mismatch report is readable without a decoder.
std::string Summary(std::span<const std::uint8_t> bytes);
std::vector<std::uint32_t> Lengths(const std::vector<Bytes>& packets);

struct PcapCloser {
  void operator()(pcap_t* p) const { pcap_close(p); }
};
using PcapHandle = std::unique_ptr<pcap_t, PcapCloser>;

// libpcap's optimizer refuses an expression it proves can never match
// (`ip6 and host 192.0.2.1`) with this error, and tcpdump exits 1. That is
// libpcap declining to run a filter, not a different selection: wgcap accepts
// the expression and selects nothing.
inline constexpr std::string_view kRejectsAll = "expression rejects all packets";

// One compiled classic BPF program.
class BpfProgram {
public:
  BpfProgram(pcap_t* dead, const std::string& expression, bool optimize);
  ~BpfProgram();
  BpfProgram(const BpfProgram&) = delete;
  BpfProgram& operator=(const BpfProgram&) = delete;

  bool ok() const noexcept { return ok_; }
  const std::string& error() const noexcept { return error_; }
  bool Matches(std::span<const std::uint8_t> packet) const;

private:
  bpf_program program_{};
  bool ok_ = false;
  std::string error_;
};

// An expression compiled by libpcap both ways. The reference verdict is the
// unoptimized program's: it is gencode's direct translation of the
// documented semantics. libpcap 1.10's optimizer miscompiles some
// expressions that mix `less`/`greater` with address and family tests, e.g.
// `dst host 2001:db8::5 or ip or greater 51 or ip6` rejects a 48-byte IPv6
// packet although `ip6` is one of its disjuncts (the unoptimized program
// accepts it). Where the two libpcap programs disagree, the optimized one is
// wrong, so wgcap is held to the unoptimized one and to the optimized one
// everywhere else.
class LibpcapFilter {
public:
  LibpcapFilter(pcap_t* dead, const std::string& expression)
      : plain_(dead, expression, false), optimized_(dead, expression, true) {}

  bool ok() const noexcept { return plain_.ok() && (optimized_.ok() || rejects_all()); }
  std::string error() const { return plain_.ok() ? optimized_.error() : plain_.error(); }
  // The optimizer proved no packet can match (see kRejectsAll).
  bool rejects_all() const {
    return !optimized_.ok() && optimized_.error().find(kRejectsAll) != std::string::npos;
  }
  bool Matches(std::span<const std::uint8_t> packet) const { return plain_.Matches(packet); }
  // False when the optimized program is missing (rejects all) or agrees.
  bool OptimizerDisagrees(std::span<const std::uint8_t> packet) const {
    return optimized_.ok() && optimized_.Matches(packet) != plain_.Matches(packet);
  }

private:
  BpfProgram plain_;
  BpfProgram optimized_;
};

struct CaptureRecord {
  long seconds = 0;
  long microseconds = 0;
  std::uint32_t captured_length = 0;
  std::uint32_t original_length = 0;
  Bytes data;

  friend bool operator==(const CaptureRecord&, const CaptureRecord&) = default;
};

struct Capture {
  int link_type = -1;
  std::vector<CaptureRecord> records;
};

// Read with libpcap, not our PcapReader, so both outputs go through the
// same independent reader.
Capture ReadCapture(const std::string& path);
// The packets as a pcap file written by our PcapWriter, each with its own
// microsecond timestamp so a reordering or a swapped record shows.
void WriteInput(const std::string& path, const std::vector<Bytes>& packets);
bool HaveTcpdump();

// Runs `tcpdump -r input -w A expression` and `wgcap -r input -w B
// expression`, adds a failure (naming `seed`) unless both succeed and keep
// the same records, and returns tcpdump's selection. tcpdump runs with -O
// where libpcap's optimizer rejects the expression or miscompiles it on
// `packets` (see LibpcapFilter).
// `tcpdump_expression`, when given, is what tcpdump gets for the same meaning
// (the relation test's explicit header checks).
Capture CompareBinaries(const TempDir& dir, const std::string& input,
                        const std::vector<Bytes>& packets, const std::string& expression,
                        std::uint32_t seed, const std::string& tcpdump_expression = {});

} // namespace wgcap::test
