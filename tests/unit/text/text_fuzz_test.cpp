// SPDX-License-Identifier: Apache-2.0
// Fuzz-style test of the text output: every truncation of every golden
// packet (the built ones and those captured from real tools), mutated packets (bit flips, random
// bytes, lying lengths) and plain random bytes, through TextWriter with -v and -A on and off, and
// with -q, -S and the -x/-X dumps. Run
// under ASan/UBSan it finds out-of-bounds reads; here it also checks what any input must give: one
// line per packet (plus -A's payload lines), ending in '\n', and no control character except those
// -A lets through.
//
// WGCAP_FUZZ_ITERATIONS sets the number of mutated packets (default
// 200000); WGCAP_FUZZ_SEED the seed (default fixed, so a failure repeats).
#include <gtest/gtest.h>

#include <chrono>
#include <cstdlib>
#include <random>

#include "file/pcap_reader.hpp"
#include "support/text_samples.hpp"
#include "wgcap/byte_writer.hpp"
#include "wgcap/text_writer.hpp"

namespace wgcap {
namespace {

std::uint64_t EnvNumber(const char* name, std::uint64_t fallback) {
  const char* v = std::getenv(name);
  return v != nullptr && *v != '\0' ? std::strtoull(v, nullptr, 10) : fallback;
}

std::string Printable(const std::string& s) {
  std::string out;
  for (unsigned char c : s) {
    if (c >= 0x20 && c <= 0x7e) {
      out += static_cast<char>(c);
    } else {
      char buf[8];
      std::snprintf(buf, sizeof buf, "\\x%02x", c);
      out += buf;
    }
  }
  return out;
}

// What every output must look like; returns an empty string or the problem.
std::string CheckOutput(const std::string& out, const TextOptions& options) {
  const bool ascii = options.ascii;
  const std::size_t first_newline = out.find('\n');
  if (first_newline == std::string::npos || out.back() != '\n') {
    return "output does not end its line";
  }
  if (out.size() < 17 || out[2] != ':' || out[5] != ':' || out[8] != '.' || out[15] != ' ' ||
      out[16] != '[') {
    return "no time stamp and tag";
  }
  for (std::size_t i = 0; i < first_newline; ++i) {
    const unsigned char c = static_cast<unsigned char>(out[i]);
    if (c < 0x20 || c > 0x7e) {
      return "byte " + std::to_string(c) + " in the line";
    }
  }
  if (options.hex != HexDump::None) {
    // Lines of "\t0x" and printable ASCII only.
    for (std::size_t at = first_newline + 1; at < out.size(); at = out.find('\n', at) + 1) {
      if (out.compare(at, 3, "\t0x") != 0) {
        return "a hex dump line without its offset";
      }
      for (std::size_t i = at + 1; out[i] != '\n'; ++i) {
        if (out[i] < 0x20 || out[i] > 0x7e) {
          return "byte " + std::to_string(out[i]) + " in the hex dump";
        }
      }
    }
    return "";
  }
  if (!ascii) {
    return first_newline + 1 == out.size() ? "" : "more than one line";
  }
  for (std::size_t i = first_newline + 1; i < out.size(); ++i) {
    const unsigned char c = static_cast<unsigned char>(out[i]);
    const bool crlf = c == '\r' && i + 1 < out.size() && out[i + 1] == '\n';
    if (!(c >= 0x20 && c <= 0x7e) && c != '\n' && c != '\t' && !crlf) {
      return "byte " + std::to_string(c) + " in the -A payload";
    }
  }
  return "";
}

// The golden table's packets and the real tools' (tests/golden/tools.pcap).
std::vector<std::vector<std::uint8_t>> Corpus() {
  std::vector<std::vector<std::uint8_t>> corpus;
  for (const auto& s : test::TextSamples()) {
    corpus.push_back(s.packet);
  }
  auto in = ByteReader::OpenFile(std::string(WGCAP_GOLDEN_DIR) + "/tools.pcap");
  EXPECT_TRUE(in.ok());
  if (!in.ok()) {
    return corpus;
  }
  auto reader = PcapReader::Open(std::move(in).value());
  EXPECT_TRUE(reader.ok());
  FileRecord record;
  while (reader.ok()) {
    auto more = (*reader)->Next(record);
    if (!more.ok() || !*more) {
      break;
    }
    const PacketRecord p = ToNetworkLayer((*reader)->link_type(), record);
    corpus.emplace_back(p.data.begin(), p.data.end());
  }
  EXPECT_GT(corpus.size(), test::TextSamples().size() + 50);
  return corpus;
}

class Fuzz {
  static constexpr TextOptions kModes[] = {
      {},
      {.verbose = true},
      {.ascii = true},
      {.verbose = true, .ascii = true},
      {.verbose = true, .hex = HexDump::Hex, .quiet = true},
      {.verbose = true, .ascii = true, .hex = HexDump::HexAscii, .absolute_sequence = true},
  };

public:
  Fuzz() {
    for (const TextOptions& options : kModes) {
      writers_.emplace_back(std::make_unique<TextWriter>(out_, options));
    }
  }

  // Feeds one packet to every writer; false (with a message) on a bad output.
  bool Feed(std::span<const std::uint8_t> data, std::uint32_t original_length) {
    for (std::size_t mode = 0; mode < std::size(kModes); ++mode) {
      out_.clear();
      PacketRecord r;
      r.timestamp_ns = static_cast<std::int64_t>(++count_) * 1000;
      r.data = data;
      r.original_length = original_length;
      r.direction = static_cast<Direction>(count_ % 3);
      if (!writers_[mode]->WritePacket(r).ok()) {
        ADD_FAILURE() << "write failed";
        return false;
      }
      const std::string output = out_.str();
      if (const std::string problem = CheckOutput(output, kModes[mode]); !problem.empty()) {
        ADD_FAILURE() << problem << " (mode " << mode << "): " << Printable(output);
        return false;
      }
    }
    return true;
  }

  std::uint64_t count() const { return count_; }

private:
  MemoryWriter out_;
  std::vector<std::unique_ptr<TextWriter>> writers_;
  std::uint64_t count_ = 0;
};

TEST(TextFuzz, EveryTruncationOfEveryGoldenPacket) {
  Fuzz fuzz;
  const auto corpus = Corpus();
  for (std::size_t i = 0; i < corpus.size(); ++i) {
    const auto size = static_cast<std::uint32_t>(corpus[i].size());
    for (std::uint32_t n = 0; n <= size; ++n) {
      ASSERT_TRUE(fuzz.Feed(std::span(corpus[i].data(), n), size))
          << "corpus packet " << i << " cut at " << n;
    }
  }
}

TEST(TextFuzz, MutatedAndRandomPackets) {
  const std::uint64_t iterations = EnvNumber("WGCAP_FUZZ_ITERATIONS", 200000);
  const std::uint64_t seed = EnvNumber("WGCAP_FUZZ_SEED", 20240601);
  std::mt19937_64 rng(seed);
  auto below = [&rng](std::uint64_t n) { return n == 0 ? 0 : rng() % n; };
  const auto corpus = Corpus();
  Fuzz fuzz;
  std::vector<std::uint8_t> packet;
  const auto start = std::chrono::steady_clock::now();
  for (std::uint64_t i = 0; i < iterations; ++i) {
    const auto kind = below(10);
    if (kind == 0) {
      // Random bytes, most of them starting like an IPv4 or IPv6 header.
      packet.resize(below(160));
      for (auto& b : packet) {
        b = static_cast<std::uint8_t>(rng());
      }
      if (!packet.empty() && below(4) != 0) {
        packet[0] = below(2) ? 0x45 : 0x60;
      }
    } else {
      packet = corpus[below(corpus.size())];
      for (auto flips = 1 + below(kind < 5 ? 3 : 12); flips > 0; --flips) {
        const auto at = below(packet.size());
        if (below(3) == 0) {
          packet[at] = static_cast<std::uint8_t>(rng()); // a whole byte
        } else {
          packet[at] ^= static_cast<std::uint8_t>(1u << below(8));
        }
      }
      if (below(4) == 0) {
        packet.resize(below(packet.size() + 1)); // cut by the capture
      }
    }
    // The wire length: usually the packet's, sometimes a lie either way.
    auto original = static_cast<std::uint32_t>(packet.size());
    if (below(8) == 0) {
      original = static_cast<std::uint32_t>(below(70000));
    }
    ASSERT_TRUE(fuzz.Feed(packet, original)) << "iteration " << i << ", seed " << seed;
  }
  const auto ms = std::chrono::duration_cast<std::chrono::milliseconds>(
                      std::chrono::steady_clock::now() - start)
                      .count();
  std::printf("%llu packets x 4 writer modes in %lld ms (seed %llu)\n",
              static_cast<unsigned long long>(iterations), static_cast<long long>(ms),
              static_cast<unsigned long long>(seed));
}

} // namespace
} // namespace wgcap
